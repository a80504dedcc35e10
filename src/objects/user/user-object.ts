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

export class UserDurableObject extends DurableObject<Env> {
  private readonly store: UserStore;
  private engine: SyncEngine | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = durableObjectSql(ctx.storage);
    migrate(sql);
    this.store = new UserStore(sql);
  }

  /** The object's name is the user id; it is recorded on first use because objects can't read their own name. */
  private engineFor(userId: string): SyncEngine {
    this.engine ??= new SyncEngine(this.store, userId, () => Date.now());
    return this.engine;
  }

  deliver(userId: string, delivery: RoomDelivery): void {
    this.engineFor(userId).deliver(delivery);
  }

  notify(userId: string, change: UserChange): void {
    this.engineFor(userId).notify(change);
  }

  /** Typing and receipts from a room (docs/design/sync.md § Ephemeral events). */
  deliverEphemeral(userId: string, delivery: EphemeralDelivery): void {
    this.engineFor(userId).deliverEphemeral(delivery);
  }

  /** `setPresence` is /sync's `set_presence`: absent marks the user online (spec: GET /sync). */
  sync(userId: string, req: SyncRequest, setPresence?: PresenceState): Promise<UserSyncResult> {
    this.pushPresence(this.engineFor(userId).applyPresence({ kind: "sync", setPresence }));
    return this.engineFor(userId).sync(req);
  }

  /** Device-list news between two sync positions, for GET /keys/changes (device-lists.ts). */
  deviceListsBetween(userId: string, from: number, to: number): DeviceListNews {
    return this.engineFor(userId).deviceListsBetween(from, to);
  }

  // To-device messaging (to-device.ts).

  receiveToDevice(userId: string, messages: ToDeviceMessage[]): void {
    this.engineFor(userId).receiveToDevice(messages);
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
