/**
 * Persistent data units (spec: Server-Server API § PDUs; Room versions § Event format).
 *
 * Room versions 1 and 2 carry `event_id` in the PDU and reference other events as
 * `[event_id, {sha256: hash}]` pairs; versions 3+ derive the id from the reference hash and list
 * plain ids. Internally every event carries its `event_id` (a `RoomEvent`), whatever the version;
 * it is stripped again before a v3+ event goes over federation.
 */
import type { JsonObject, JsonValue } from "./canonical-json";

export type EventReference = string | [string, { sha256?: string }];

export interface Pdu {
  event_id?: string;
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  prev_events: EventReference[];
  auth_events: EventReference[];
  depth: number;
  origin_server_ts: number;
  hashes?: { [alg: string]: string };
  signatures?: Record<string, Record<string, string>>;
  unsigned?: JsonObject;
  /** Top-level before room version 11, in `content` from v11 on. */
  redacts?: string;
  origin?: string;
  membership?: string;
  prev_state?: JsonValue;
  [key: string]: JsonValue | undefined;
}

/** A PDU together with its event id, as the rest of the server handles it. */
export type RoomEvent = Pdu & { event_id: string };

/** The `(type, state_key)` pair that identifies a piece of room state, as one string. */
export type StateKey = string;

export function stateKey(type: string, key: string): StateKey {
  return `${type}\u0000${key}`;
}

export function splitStateKey(k: StateKey): [type: string, stateKey: string] {
  const i = k.indexOf("\u0000");
  return [k.slice(0, i), k.slice(i + 1)];
}

/** State as a map from `(type, state_key)` to event id. */
export type StateMap = Map<StateKey, string>;

export function isStateEvent(ev: Pdu): boolean {
  return typeof ev.state_key === "string";
}

function referenceIds(refs: EventReference[] | undefined): string[] {
  if (!Array.isArray(refs)) return [];
  return refs.map((r) => (typeof r === "string" ? r : r[0]));
}

export function prevEventIds(ev: Pdu): string[] {
  return referenceIds(ev.prev_events);
}

export function authEventIds(ev: Pdu): string[] {
  return referenceIds(ev.auth_events);
}
