/**
 * Building an `AuthStateLookup` from a list of events, e.g. an event's auth events.
 */
import type { RoomEvent } from "../events";
import type { AuthStateLookup } from "./types";

/** A lookup over state events; a later event for the same `(type, state_key)` replaces an earlier one. */
export function lookupFromEvents(events: Iterable<RoomEvent>): AuthStateLookup {
  const map = new Map<string, RoomEvent>();
  for (const ev of events) {
    if (typeof ev.state_key === "string") map.set(`${ev.type}\u0000${ev.state_key}`, ev);
  }
  return (type, stateKey) => map.get(`${type}\u0000${stateKey}`);
}
