/**
 * UserDurableObject: owns one local user's sync stream (DESIGN §1, docs/design/sync.md). A thin
 * adapter over SyncEngine, which is tested in Node.
 */
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../../config";
import type { Env } from "../../env";
import type { JsonObject } from "../../matrix/canonical-json";
import { makeDeps } from "../../services/deps";
import { fanOutPresence } from "../../services/presence";
import { durableObjectSql } from "../sql";
import type { PresenceState, PresenceUpdate } from "./presence";
import { migrate } from "./schema";
import type { DeviceListNews } from "./device-lists";
import type { EphemeralDelivery, RoomDelivery, UserChange } from "./stream-types";
import { SyncEngine, type SyncRequest, type UserSyncResult } from "./sync-engine";
import type { ToDeviceEvent, ToDeviceMessage } from "./to-device";
import { UserStore } from "./user-store";
import type { NotificationEntry } from "./notifications";
import { PushDispatcher } from "./notifications-push";
import { SlidingSyncEngine } from "./sliding-sync";
import { AccountDataCache } from "./account-data-cache";
import { ignoredUsers } from "../../services/account-data";
import { directRooms } from "../../services/sliding-sync/sliding-sync";
import { recordDeliveredBumps } from "./sliding-sync-lists";
import { SlidingSyncStore } from "./sliding-sync-store";
import type { SlidingSyncOutcome, SlidingSyncRequest } from "./sliding-sync-types";
import { CachedMap } from "./d1-cache";
import { SESSION_MAX_AGE_MS, SessionCache } from "./sessions";
import { sessionRow } from "../../services/sessions";
import { deviceKeyCounts, type DeviceKeyCounts } from "../../services/e2ee-keys";

/** Who is syncing: a device D1 verified for this very request, or a token for this object to check (sessions.ts). */
export type SyncCaller = { deviceId: string } | { tokenHash: string };

/** A sync answer, or the caller's token refused (the Worker then asks D1, which says why). */
export type CheckedSync<T> = { refused: true } | { refused: false; deviceId: string; keyCounts?: DeviceKeyCounts; value: T };

export class UserDurableObject extends DurableObject<Env> {
  private readonly store: UserStore;
  private engine: SyncEngine | undefined;
  private readonly push: PushDispatcher;
  private sliding: SlidingSyncEngine | undefined;
  private readonly slidingStore: SlidingSyncStore;
  private directRooms: AccountDataCache | undefined;
  private ignoredList: AccountDataCache | undefined;
  private sessions: SessionCache | undefined;
  private readonly keyCounts = new CachedMap<string, DeviceKeyCounts>(SESSION_MAX_AGE_MS);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = durableObjectSql(ctx.storage);
    migrate(sql);
    this.store = new UserStore(sql);
    this.slidingStore = new SlidingSyncStore(sql);
    this.push = new PushDispatcher(ctx, env, sql);
  }

  /** The object's name is the user id; it is recorded on first use because objects can't read their own name. */
  private engineFor(userId: string): SyncEngine {
    this.engine ??= new SyncEngine(this.store, userId, () => Date.now());
    return this.engine;
  }

  /**
   * A room's events for this user. Each is evaluated against the user's push rules here, off the
   * sender's path (docs/design/push-notifications.md); the rules (and pushers) are read from D1
   * once and cached until they change.
   */
  async deliver(userId: string, delivery: RoomDelivery): Promise<void> {
    const [{ ruleset, pushers }, ignored] = await Promise.all([this.push.prepare(userId), this.ignored(userId)]);
    const engine = this.engineFor(userId);
    const notified = engine.deliver(delivery, { ruleset, ignored });
    // Same synchronous turn as the delivery: room recency for sliding sync is written with it.
    recordDeliveredBumps(this.slidingStore, delivery);
    this.sliding?.wake();
    // No await since deliver: the queued requests are written together with the notifications.
    if (this.push.queueNotifications(userId, engine.notifications, notified, pushers)) this.ctx.waitUntil(this.push.send(userId));
  }

  notify(userId: string, change: UserChange): void {
    if (change.kind === "account_data" && change.type === "m.push_rules") this.push.rulesChanged();
    if (change.kind === "account_data" && change.type === "m.direct") this.directRooms?.changed();
    if (change.kind === "account_data" && change.type === "m.ignored_user_list") this.ignoredList?.changed();
    this.engineFor(userId).notify(change);
    this.sliding?.wake();
  }

  /** Typing and receipts from a room (docs/design/sync.md § Ephemeral events). */
  async deliverEphemeral(userId: string, delivery: EphemeralDelivery): Promise<void> {
    const engine = this.engineFor(userId);
    const read = engine.deliverEphemeral(delivery);
    this.sliding?.wake();
    // The user read something: their gateways get the lowered badge.
    if (read && (await this.push.queueBadge(userId, engine.notifications))) this.ctx.waitUntil(this.push.send(userId));
  }

  // Push notifications (notifications.ts, notifications-push.ts).

  /** The user's pushers changed in D1 (services/pushers.ts). */
  pushersChanged(_userId: string): void {
    this.push.pushersChanged();
  }

  /** GET /notifications. */
  notificationsPage(userId: string, from: number | undefined, limit: number, onlyHighlight: boolean): { notifications: NotificationEntry[]; nextToken?: number } {
    return this.engineFor(userId).notifications.list(from, limit, onlyHighlight);
  }

  /** Retries of push gateway requests (notifications-outbox.ts). */
  override async alarm(): Promise<void> {
    await this.push.send();
  }

  /**
   * `setPresence` is /sync's `set_presence`: absent marks the user online (spec: GET /sync). The
   * caller's token is checked here first (sessions.ts); the device's key counts are read after
   * the long-poll, so they are as fresh as the rest of the answer.
   */
  async sync(userId: string, caller: SyncCaller, req: Omit<SyncRequest, "deviceId">, setPresence?: PresenceState): Promise<CheckedSync<UserSyncResult>> {
    const deviceId = await this.deviceOf(userId, caller);
    if (deviceId === undefined) return { refused: true };
    const ignored = await this.ignored(userId);
    this.pushPresence(this.engineFor(userId).applyPresence({ kind: "sync", setPresence }));
    const value = await this.engineFor(userId).sync({ ...req, deviceId, ignoredUsers: ignored });
    return { refused: false, deviceId, keyCounts: await this.keyCountsOf(userId, deviceId), value };
  }

  // Sessions and key counts, copied from D1 until the services that change them say so (sessions.ts).

  private deviceOf(userId: string, caller: SyncCaller): Promise<string | undefined> {
    if ("deviceId" in caller) return Promise.resolve(caller.deviceId);
    this.sessions ??= new SessionCache((hash) => sessionRow(this.deps(), hash), () => Date.now());
    return this.sessions.deviceOf(userId, caller.tokenHash);
  }

  private async keyCountsOf(userId: string, deviceId: string): Promise<DeviceKeyCounts> {
    return (await this.keyCounts.get(deviceId, () => deviceKeyCounts(this.deps(), userId, deviceId)))!;
  }

  /** Some of the user's tokens or devices were revoked in D1 (services/sessions.ts `sessionsRevoked`). */
  forgetSessions(_userId: string): void {
    this.sessions?.forget();
    // A device id can come back after its keys were deleted with it.
    this.keyCounts.invalidate();
  }

  /** One-time or fallback keys of the user's devices were uploaded or claimed (services/e2ee-keys.ts). */
  forgetKeyCounts(_userId: string): void {
    this.keyCounts.invalidate();
  }

  private deps() {
    return makeDeps(this.env, getConfig(this.env));
  }

  /** Whom the user ignores (ignored-users.ts), cached until their `m.ignored_user_list` changes. */
  private async ignored(userId: string): Promise<ReadonlySet<string>> {
    this.ignoredList ??= new AccountDataCache(() => ignoredUsers(this.deps(), userId));
    return new Set(await this.ignoredList.get());
  }

  /**
   * Simplified sliding sync (sliding-sync.ts, docs/design/sliding-sync.md); the caller and
   * `set_presence` as for /sync. Writers above wake its long-polls.
   */
  async slidingSync(
    userId: string,
    caller: SyncCaller,
    req: Omit<SlidingSyncRequest, "dmRooms" | "deviceId">,
    setPresence?: PresenceState,
  ): Promise<CheckedSync<SlidingSyncOutcome>> {
    const deviceId = await this.deviceOf(userId, caller);
    if (deviceId === undefined) return { refused: true };
    const engine = this.engineFor(userId);
    this.directRooms ??= new AccountDataCache(() => directRooms(this.deps(), userId));
    const [dmRooms, ignored] = await Promise.all([this.directRooms.get(), this.ignored(userId)]);
    this.pushPresence(engine.applyPresence({ kind: "sync", setPresence }));
    this.sliding ??= new SlidingSyncEngine(this.store, userId, () => Date.now(), {
      // Unread counts from the user's push rules and read receipts (notifications.ts).
      unread: (roomId) => engine.notifications.counts(roomId, false).room,
      toDevice: () => engine.toDevice,
    });
    const value = await this.sliding.sync({ ...req, deviceId, dmRooms, ignoredUsers: ignored });
    const keyCounts = req.extensions.e2ee ? await this.keyCountsOf(userId, deviceId) : undefined;
    return { refused: false, deviceId, keyCounts, value };
  }

  /** Device-list news between two sync positions, for GET /keys/changes (device-lists.ts). */
  deviceListsBetween(userId: string, from: number, to: number): DeviceListNews {
    return this.engineFor(userId).deviceListsBetween(from, to);
  }

  // To-device messaging (to-device.ts).

  receiveToDevice(userId: string, messages: ToDeviceMessage[]): void {
    this.engineFor(userId).receiveToDevice(messages);
    this.sliding?.wake();
  }

  toDeviceTxnDone(userId: string, deviceId: string, txnId: string): boolean {
    return this.engineFor(userId).toDevice.txnDone(deviceId, txnId);
  }

  markToDeviceTxnDone(userId: string, deviceId: string, txnId: string): void {
    this.engineFor(userId).toDevice.markTxnDone(deviceId, txnId, Date.now());
  }

  /** Reads a dehydrated device's queue without taking from it (to-device.ts `peek`, MSC3814). */
  peekToDevice(userId: string, deviceId: string, afterSeq: number, limit: number): { events: ToDeviceEvent[]; lastSeq: number; more: boolean } {
    return this.engineFor(userId).toDevice.peek(deviceId, afterSeq, limit);
  }

  /** The user's devices were deleted: their queues go too. */
  dropDevices(userId: string, deviceIds: string[]): void {
    this.engineFor(userId).toDevice.dropDevices(deviceIds);
    // Their pushers went with them (storage/d1/devices.ts).
    this.push.pushersChanged();
  }

  // Presence (presence.ts).

  setPresence(userId: string, presence: PresenceState, statusMsg: string | null): void {
    this.pushPresence(this.engineFor(userId).applyPresence({ kind: "set", presence, statusMsg }));
  }

  getPresence(userId: string): JsonObject {
    return this.engineFor(userId).presence.current(Date.now());
  }

  receivePresence(userId: string, update: PresenceUpdate): void {
    this.engineFor(userId).receivePresence(update);
  }

  /** Pushes a change of the user's presence to those sharing a room with them, off the caller's path. */
  private pushPresence(update: PresenceUpdate | undefined): void {
    if (!update) return;
    this.ctx.waitUntil(fanOutPresence(this.deps(), update));
  }
}
