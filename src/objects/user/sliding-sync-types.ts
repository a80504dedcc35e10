/**
 * What crosses into and out of a user's object for simplified sliding sync (MSC4186,
 * docs/design/sliding-sync.md). Internal names are camelCase; the service converts at the wire.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import type { DeviceListNews } from "./device-lists";
import type { ToDeviceEvent } from "./to-device";

/** `[event type, state key]` pairs; the key may be `*`, `$ME` or (for members) `$LAZY`. */
export type RequiredState = [string, string][];

export interface RoomConfig {
  requiredState: RequiredState;
  timelineLimit: number;
}

/** A list's filters (MSC4186 § Lists, `filters`): every field given must hold, absent means "either". */
export interface ListFilters {
  isDm?: boolean;
  isEncrypted?: boolean;
  isInvite?: boolean;
  /** Only rooms that are `m.space.child` of one of these spaces. */
  spaces?: string[];
  /** Create-event `type`s; null is a room without one. `notRoomTypes` wins over `roomTypes`. */
  roomTypes?: (string | null)[];
  notRoomTypes?: (string | null)[];
}

export interface ListRequest extends RoomConfig {
  /** Inclusive index ranges into the list, sorted by recency; absent: the whole list. */
  ranges?: [number, number][];
  filters?: ListFilters;
}

/** An extension's scope: the lists and subscribed rooms it applies to (absent: all of them). */
export interface ExtensionScope {
  /** List names, or `*` for every list. */
  lists?: string[];
  /** Room ids among the subscriptions, or `*` for every subscription. */
  rooms?: string[];
}

export interface SlidingSyncRequest {
  deviceId: string;
  /** `conn_id`; '' when the client gave none. */
  connId: string;
  /** The `pos` of the previous response; absent starts the connection over. */
  pos?: number;
  timeoutMs: number;
  lists: Record<string, ListRequest>;
  roomSubscriptions: Record<string, RoomConfig>;
  extensions: {
    /** MSC3885: `limit` caps the messages per response (at most the 100 /sync sends). */
    toDevice?: { since?: number; limit?: number };
    e2ee?: boolean;
    accountData?: ExtensionScope;
    receipts?: ExtensionScope;
    typing?: ExtensionScope;
  };
  /** Rooms the user's `m.direct` account data names (read from D1 by the service). */
  dmRooms: string[];
  /** Users the user ignores (ignored-users.ts): their non-state events and invites are left out. */
  ignoredUsers?: ReadonlySet<string>;
}

export interface Hero {
  userId: string;
  displayname?: string;
  avatarUrl?: string;
}

export interface SlidingRoom {
  membership: string;
  initial: boolean;
  name?: string;
  /** The avatar's URL; null when the room's avatar was removed. */
  avatar?: string | null;
  heroes?: Hero[];
  /** Heroes whose member events this object doesn't hold: the service fills their names from the room. */
  missingHeroes?: string[];
  requiredState: ClientEvent[];
  /**
   * Member events the request asks for that this object doesn't hold (it keeps only the user's
   * own and recent senders', docs/design/sync.md): "all", or these users. The service reads them
   * from the room object.
   */
  needMembers?: "all" | string[];
  timeline?: ClientEvent[];
  /** Room stream position before the first timeline event, for a `t<N>` token. */
  prevBatch?: number;
  limited?: boolean;
  numLive?: number;
  /** The room had been sent with a smaller timeline limit: this timeline replaces it (Synapse's `unstable_expanded_timeline`). */
  expandedTimeline?: boolean;
  joinedCount?: number;
  invitedCount?: number;
  notificationCount: number;
  highlightCount: number;
  isDm: boolean;
  bumpStamp: number;
  inviteState?: JsonObject[];
  knockState?: JsonObject[];
}

/** Account data to send: "all" of it, or the types that changed. */
export type AccountDataPick = "all" | string[];

/** A `pos` that is not (or no longer) a position of this connection: the client starts over. */
export type SlidingSyncOutcome = { ok: true; value: SlidingSyncResult } | { ok: false; reason: "unknown_pos" };

export interface SlidingSyncResult {
  pos: number;
  lists: Record<string, { count: number }>;
  rooms: Record<string, SlidingRoom>;
  extensions: {
    toDevice?: { nextBatch: string; events: ToDeviceEvent[] };
    /** Device-list news since the previous position; undefined on a new connection. */
    e2ee?: { deviceLists?: DeviceListNews };
    accountData?: { global: AccountDataPick; rooms: Record<string, AccountDataPick> };
    /** One `m.receipt` event per room. */
    receipts?: Record<string, JsonObject>;
    /** One `m.typing` event per room. */
    typing?: Record<string, JsonObject>;
  };
}
