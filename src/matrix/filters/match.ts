/**
 * Filter matching (spec: Client-Server § Filtering). Lists that are absent don't constrain; a
 * `not_*` match excludes even when the positive list also matches; `*` in a type pattern matches
 * any run of characters (and nothing else is special). Senders and rooms are compared exactly.
 */
import type { Filter, RoomEventFilter, RoomScope, RoomSection } from "./model";

const patternCache = new Map<string, RegExp>();

/** Matches an event type against a filter pattern where `*` is a wildcard. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes("*")) return pattern === type;
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
    if (patternCache.size > 256) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(type);
}

export function filterAllowsRoom(filter: RoomScope | undefined, roomId: string): boolean {
  if (!filter) return true;
  if (filter.notRooms?.includes(roomId)) return false;
  return !filter.rooms || filter.rooms.includes(roomId);
}

export interface FilterableEvent {
  type: string;
  /**
   * Absent for things without a sender (room account data): then a `senders` list excludes it and
   * `not_senders` never does, as in Synapse.
   */
  sender?: string;
  /** Whether the content (as the client would see it, so after any redaction) has a string `url`. */
  hasUrl: boolean;
  /** When given, the filter's own `rooms`/`not_rooms` apply too. */
  roomId?: string;
}

/** Whether `content` has a string `url`: what `contains_url` looks at. */
export function contentHasUrl(content: unknown): boolean {
  return typeof content === "object" && content !== null && typeof (content as { url?: unknown }).url === "string";
}

export function filterAllowsEvent(filter: RoomEventFilter | undefined, ev: FilterableEvent): boolean {
  if (!filter) return true;
  if (ev.roomId !== undefined && !filterAllowsRoom(filter, ev.roomId)) return false;
  if (ev.sender !== undefined && filter.notSenders?.includes(ev.sender)) return false;
  if (filter.senders && (ev.sender === undefined || !filter.senders.includes(ev.sender))) return false;
  if (filter.notTypes?.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.types && !filter.types.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.containsUrl !== undefined && filter.containsUrl !== ev.hasUrl) return false;
  return true;
}

/**
 * True when the filter can let nothing through whatever the events are, so a caller can skip the
 * work: an empty `types`, `senders` or `rooms` list, or a `not_types` pattern made only of `*`.
 * Clients turn presence and account data off this way (`{"types": []}`, `{"not_types": ["*"]}`).
 */
export function filterBlocksAll(filter: RoomEventFilter | undefined): boolean {
  if (!filter) return false;
  if (filter.types?.length === 0 || filter.senders?.length === 0 || filter.rooms?.length === 0) return true;
  return filter.notTypes?.some((p) => /^\*+$/.test(p)) ?? false;
}

/**
 * Whether an event of a room goes into a section of that room in /sync: the room-level
 * `rooms`/`not_rooms` apply first, then the section's own filter (with its own room lists).
 */
export function filterAllowsRoomEvent(filter: Filter | undefined, section: RoomSection, ev: FilterableEvent & { roomId: string }): boolean {
  if (!filter?.room) return true;
  if (!filterAllowsRoom(filter.room, ev.roomId)) return false;
  return filterAllowsEvent(filter.room[section], ev);
}
