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

export class UserDurableObject extends DurableObject<Env> {
  private readonly store: UserStore;
  private engine: SyncEngine | undefined;
  private readonly push: PushDispatcher;
  private sliding: SlidingSyncEngine | undefined;
  private readonly slidingStore: SlidingSyncStore;
  private directRooms: AccountDataCache | undefined;
  private ignoredList: AccountDataCache | undefined;

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

  /** `setPresence` is /sync's `set_presence`: absent marks the user online (spec: GET /sync). */
  async sync(userId: string, req: SyncRequest, setPresence?: PresenceState): Promise<UserSyncResult> {
    const ignored = await this.ignored(userId);
    this.pushPresence(this.engineFor(userId).applyPresence({ kind: "sync", setPresence }));
    return this.engineFor(userId).sync({ ...req, ignoredUsers: ignored });
  }

  /** Whom the user ignores (ignored-users.ts), cached until their `m.ignored_user_list` changes. */
  private async ignored(userId: string): Promise<ReadonlySet<string>> {
    this.ignoredList ??= new AccountDataCache(() => ignoredUsers(makeDeps(this.env, getConfig(this.env)), userId));
    return new Set(await this.ignoredList.get());
  }

  /**
   * Simplified sliding sync (sliding-sync.ts, docs/design/sliding-sync.md); `set_presence` as
   * for /sync. Writers above wake its long-polls.
   */
  async slidingSync(userId: string, req: Omit<SlidingSyncRequest, "dmRooms">, setPresence?: PresenceState): Promise<SlidingSyncOutcome> {
    const engine = this.engineFor(userId);
    this.directRooms ??= new AccountDataCache(() => directRooms(makeDeps(this.env, getConfig(this.env)), userId));
    const [dmRooms, ignored] = await Promise.all([this.directRooms.get(), this.ignored(userId)]);
    this.pushPresence(engine.applyPresence({ kind: "sync", setPresence }));
    this.sliding ??= new SlidingSyncEngine(this.store, userId, () => Date.now(), {
      // Unread counts from the user's push rules and read receipts (notifications.ts).
      unread: (roomId) => engine.notifications.counts(roomId, false).room,
      toDevice: () => engine.toDevice,
    });
    return this.sliding.sync({ ...req, dmRooms, ignoredUsers: ignored });
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
    this.ctx.waitUntil(fanOutPresence(makeDeps(this.env, getConfig(this.env)), update));
  }
}
