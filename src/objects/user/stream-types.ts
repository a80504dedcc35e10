/**
 * What crosses into a user's object (docs/design/sync.md): room deliveries from room objects, and
 * notifications of per-user changes from the services that own that data.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";

export interface DeliveredEvent {
  /** The event's stream position in its room: deliveries at or below what the user holds are dropped. */
  roomStream: number;
  event: ClientEvent;
  /** The sender's member event as of this event, for lazy-loaded members. */
  senderMember?: ClientEvent;
  /** Set on the sender's own events: echoed as `unsigned.transaction_id` to that device only. */
  txn?: { deviceId: string; txnId: string };
}

export interface RoomSummaryCounts {
  joined: number;
  invited: number;
  /** Up to six members (joined or invited) other than nobody in particular; the user object drops itself. */
  heroes: string[];
}

export interface RoomDelivery {
  roomId: string;
  events: DeliveredEvent[];
  summary: RoomSummaryCounts;
  /** Stripped state, when the user is invited or knocking. */
  strippedState?: JsonObject[];
  /**
   * When the user has just joined: the room as they now see it — its state (without other
   * members' events, see docs/design/sync.md) and the latest events they may see before the join.
   */
  snapshot?: { state: ClientEvent[]; timeline: DeliveredEvent[] };
}

/**
 * A change to per-user data owned elsewhere (D1 or another object). The stream records that it
 * happened; /sync reads the current value from its owner.
 */
export type UserChange =
  | { kind: "account_data"; type: string }
  | { kind: "room_account_data"; roomId: string; type: string }
  /** `userId`'s device keys changed (uploaded, device deleted): it goes into `device_lists.changed`. */
  | { kind: "device_list"; userId: string };

/** One receipt as a room hands it to a user object (spec: § Receipts). */
export interface DeliveredReceipt {
  userId: string;
  receiptType: "m.read" | "m.read.private";
  /** `main` or a thread root's event id; absent for an unthreaded receipt. */
  threadId?: string;
  eventId: string;
  /** The receipted event's room stream position: notification counts drop for events up to it. */
  eventStream?: number;
  ts: number;
  /** The room's receipt stream position: a repeated or older receipt for the same key is dropped. */
  stream: number;
}

/**
 * Ephemeral room data, sent by a room with `deliverEphemeral` (docs/design/sync.md § Ephemeral
 * events). Typing is the whole current set and best-effort; receipts go through the room's
 * durable delivery cursor, at least once.
 */
export type EphemeralDelivery =
  | { kind: "typing"; roomId: string; serial: number; userIds: string[]; expiresAt: number }
  | { kind: "receipts"; roomId: string; receipts: DeliveredReceipt[] };
