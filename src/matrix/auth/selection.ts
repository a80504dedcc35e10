/**
 * Which events an event's `auth_events` must be chosen from (spec: Server-Server API § Auth events
 * selection), and the rules about the `auth_events` list itself (rooms/v1 rule 2, v12 rule 3).
 */
import type { JsonObject } from "../canonical-json";
import type { RoomEvent } from "../events";
import type { RoomVersion } from "../room-versions";
import { isJsonObject, own, ownObject, ownString } from "./json";
import { ALLOW, deny, EventType, Membership, type AuthResult } from "./types";

export interface AuthSelectionInput {
  type: string;
  sender: string;
  state_key?: string;
  content: JsonObject;
}

/**
 * The `(type, state_key)` pairs an event's `auth_events` may contain, without duplicates:
 *
 * - nothing for `m.room.create`;
 * - the `m.room.create` event (v1–11 only: in v12 the room id implies it and it must not be listed);
 * - the current `m.room.power_levels` event;
 * - the sender's `m.room.member` event;
 * - for `m.room.member`: the target's member event; `m.room.join_rules` when `membership` is
 *   `join`, `invite` or `knock`; for an invite with `third_party_invite`, the
 *   `m.room.third_party_invite` whose state_key is `signed.token`; for a join naming
 *   `join_authorised_via_users_server` in a version with restricted rooms, that user's member event.
 *
 * Each pair is included "if any": callers pick those present in the state.
 */
export function authEventSelection(event: AuthSelectionInput, version: RoomVersion): Array<[type: string, stateKey: string]> {
  if (event.type === EventType.create) return [];
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const add = (type: string, stateKey: string): void => {
    const k = `${type}\u0000${stateKey}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push([type, stateKey]);
  };

  if (!version.roomIdFromCreateEvent) add(EventType.create, "");
  add(EventType.powerLevels, "");
  add(EventType.member, event.sender);

  if (event.type === EventType.member && typeof event.state_key === "string") {
    const content = isJsonObject(event.content) ? event.content : {};
    const membership = own(content, "membership");
    add(EventType.member, event.state_key);
    if (membership === Membership.join || membership === Membership.invite || membership === Membership.knock) {
      add(EventType.joinRules, "");
    }
    if (membership === Membership.invite) {
      const token = ownString(ownObject(ownObject(content, "third_party_invite"), "signed"), "token");
      if (token !== undefined) add(EventType.thirdPartyInvite, token);
    }
    if (membership === Membership.join && version.restrictedJoins) {
      const authoriser = ownString(content, "join_authorised_via_users_server");
      if (authoriser !== undefined) add(EventType.member, authoriser);
    }
  }
  return out;
}

export interface AuthEventsShapeOptions {
  /** Whether an auth event was itself rejected on receipt (rule 2.3 / v12 3.3). */
  isRejected?: (eventId: string) => boolean;
}

/**
 * The rules about an event's `auth_events` (v1–11 rule 2, v12 rule 3): every listed event must be
 * among `authEvents` (the events the caller fetched for the ids in `auth_events`), belong to the
 * same room, be a state event, not duplicate a `(type, state_key)` pair, be one the auth events
 * selection allows, and not be rejected; v1–11 must list the `m.room.create` event, which v12 must
 * not. `m.room.create` itself must list nothing.
 */
export function checkAuthEventsShape(
  event: RoomEvent,
  authEvents: readonly RoomEvent[],
  version: RoomVersion,
  options: AuthEventsShapeOptions = {},
): AuthResult {
  const refs: unknown = event.auth_events;
  if (!Array.isArray(refs)) return deny("auth_events is not a list");
  // v1–2 list [event_id, hashes] pairs, v3+ plain ids (see events.ts); anything else is malformed.
  const ids = refs.map((r: unknown) => (typeof r === "string" ? r : Array.isArray(r) ? (r[0] as unknown) : undefined));
  if (event.type === EventType.create) {
    return ids.length === 0 ? ALLOW : deny("m.room.create must not have auth_events");
  }

  const byId = new Map<string, RoomEvent>();
  for (const ev of authEvents) byId.set(ev.event_id, ev);
  const allowed = new Set(authEventSelection(event, version).map(([t, k]) => `${t}\u0000${k}`));
  const seen = new Set<string>();
  let hasCreate = false;

  for (const id of ids) {
    if (typeof id !== "string") return deny("auth_events holds something other than an event id");
    const authEvent = byId.get(id);
    if (!authEvent) return deny(`auth event ${id} is unknown`);
    if (authEvent.room_id !== event.room_id) return deny(`auth event ${id} belongs to another room`);
    if (typeof authEvent.state_key !== "string") return deny(`auth event ${id} is not a state event`);
    const key = `${authEvent.type}\u0000${authEvent.state_key}`;
    // 2.1 If there are duplicate entries for a given type and state_key pair, reject.
    if (seen.has(key)) return deny(`auth_events has more than one (${authEvent.type}, ${authEvent.state_key})`);
    seen.add(key);
    // 2.2 If there are entries whose type and state_key don't match those specified by the auth
    // events selection algorithm, reject. (v12: this is what refuses a listed m.room.create.)
    if (!allowed.has(key)) return deny(`auth event ${id} (${authEvent.type}, ${authEvent.state_key}) is not expected`);
    // 2.3 If there are entries which were themselves rejected, reject.
    if (options.isRejected?.(id)) return deny(`auth event ${id} was rejected`);
    if (authEvent.type === EventType.create) hasCreate = true;
  }

  // 2.4 (v1–11) If there is no m.room.create event among the entries, reject.
  if (!version.roomIdFromCreateEvent && !hasCreate) return deny("auth_events does not include the m.room.create event");
  return ALLOW;
}
