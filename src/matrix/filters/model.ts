/**
 * The internal form of the spec's Filter (spec: Client-Server § Filtering; POST
 * /user/{userId}/filter, the `Filter`, `RoomFilter`, `EventFilter` and `RoomEventFilter`
 * objects). camelCase; the wire form (snake_case) is parsed into it in `wire.ts`. Every field is
 * optional: an absent list does not constrain, an absent flag takes the spec's default.
 */

/** Presence and global account data: no rooms, no content-based fields. */
export interface EventFilter {
  /** A positive integer; consumers apply their own default and cap. */
  limit?: number;
  /** Event type patterns; `*` matches any run of characters. */
  types?: string[];
  /** Excludes matching types even when `types` matches too. */
  notTypes?: string[];
  senders?: string[];
  /** Excludes these senders even when `senders` lists them. */
  notSenders?: string[];
}

/** The rooms a filter lets through; `notRooms` wins over `rooms`. */
export interface RoomScope {
  rooms?: string[];
  notRooms?: string[];
}

export interface RoomEventFilter extends EventFilter, RoomScope {
  /** true: only events whose content has a string `url`; false: only events without one. */
  containsUrl?: boolean;
  lazyLoadMembers?: boolean;
  /** Only meaningful with `lazyLoadMembers`. */
  includeRedundantMembers?: boolean;
  /** Per-thread notification counts in /sync (spec v1.4). */
  unreadThreadNotifications?: boolean;
}

/** `Filter.room`: the room-level scope applies before the per-section filters. */
export interface RoomFilter extends RoomScope {
  /** Include rooms the user has left; default false. */
  includeLeave?: boolean;
  ephemeral?: RoomEventFilter;
  state?: RoomEventFilter;
  timeline?: RoomEventFilter;
  accountData?: RoomEventFilter;
}

export type EventFormat = "client" | "federation";

export interface Filter {
  /** Dot-separated property paths to keep in each event; absent or empty keeps everything. */
  eventFields?: string[];
  /** Default "client". */
  eventFormat?: EventFormat;
  presence?: EventFilter;
  /** Global (not per-room) account data. */
  accountData?: EventFilter;
  room?: RoomFilter;
}

/** The sections of a room in a /sync response that a `RoomFilter` has a filter for. */
export type RoomSection = "timeline" | "state" | "ephemeral" | "accountData";
