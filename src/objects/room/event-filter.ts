/**
 * RoomEventFilter matching (spec: Client-Server § Filtering, RoomEventFilter). The wire form is
 * parsed at the API boundary; this is the camelCase internal form that crosses into the room
 * object. Lists that are absent don't constrain; a `not_*` match excludes even when the positive
 * list also matches; `*` in a type pattern matches any run of characters.
 */
export interface RoomEventFilter {
  types?: string[];
  notTypes?: string[];
  senders?: string[];
  notSenders?: string[];
  rooms?: string[];
  notRooms?: string[];
  /** true: only events whose content has a `url`; false: only events without one. */
  containsUrl?: boolean;
  limit?: number;
  lazyLoadMembers?: boolean;
  includeRedundantMembers?: boolean;
}

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

export function filterAllowsRoom(filter: RoomEventFilter | undefined, roomId: string): boolean {
  if (!filter) return true;
  if (filter.notRooms?.includes(roomId)) return false;
  return !filter.rooms || filter.rooms.includes(roomId);
}

export interface FilterableEvent {
  type: string;
  sender: string;
  /** Whether the content (as the client would see it, so after any redaction) has a string `url`. */
  hasUrl: boolean;
}

export function filterAllowsEvent(filter: RoomEventFilter | undefined, ev: FilterableEvent): boolean {
  if (!filter) return true;
  if (filter.notSenders?.includes(ev.sender)) return false;
  if (filter.senders && !filter.senders.includes(ev.sender)) return false;
  if (filter.notTypes?.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.types && !filter.types.some((p) => typeMatches(p, ev.type))) return false;
  if (filter.containsUrl !== undefined && filter.containsUrl !== ev.hasUrl) return false;
  return true;
}
