/**
 * Power levels (spec: Client-Server API § m.room.power_levels; Server-Server API § Definitions
 * "Required Power Level", "Invite Level, Kick Level, Ban Level, Redact Level"; Room versions
 * § Authorization rules, the notes on defaults and — v12 — on room creators).
 */
import type { JsonObject, JsonValue } from "../canonical-json";
import type { RoomEvent } from "../events";
import type { RoomVersion } from "../room-versions";
import { isValidUserId } from "./ids";
import { has, isJsonObject, own, ownString } from "./json";
import { EventType, type AuthStateLookup } from "./types";

/** The integer-valued top-level properties of `m.room.power_levels`, in camelCase. */
export type PowerLevelField = "usersDefault" | "eventsDefault" | "stateDefault" | "ban" | "kick" | "redact" | "invite";

export const POWER_LEVEL_FIELDS: readonly PowerLevelField[] = [
  "usersDefault",
  "eventsDefault",
  "stateDefault",
  "ban",
  "redact",
  "kick",
  "invite",
];

/** The wire name of each field. */
export const POWER_LEVEL_WIRE_NAME: Readonly<Record<PowerLevelField, string>> = {
  usersDefault: "users_default",
  eventsDefault: "events_default",
  stateDefault: "state_default",
  ban: "ban",
  kick: "kick",
  redact: "redact",
  invite: "invite",
};

/**
 * Defaults when a property is absent or there is no power levels event at all: `state_default`,
 * `kick`, `ban` and `redact` are 50; `users_default`, `events_default` and `invite` are 0.
 */
export const POWER_LEVEL_DEFAULTS: Readonly<Record<PowerLevelField, number>> = {
  usersDefault: 0,
  eventsDefault: 0,
  stateDefault: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
};

/** The `@room` notification level defaults to 50 (m.room.power_levels § notifications.room). */
export const DEFAULT_ROOM_NOTIFICATION_LEVEL = 50;

/** Power levels as parsed from an event's content: only the values it states explicitly. */
export interface PowerLevels {
  fields: Partial<Record<PowerLevelField, number>>;
  users: ReadonlyMap<string, number>;
  events: ReadonlyMap<string, number>;
  notifications: ReadonlyMap<string, number>;
}

export type ParsePowerLevelsResult =
  | { ok: true; levels: PowerLevels }
  /** `levels` holds every value that did parse, so lenient readers can still use it. */
  | { ok: false; reason: string; levels: PowerLevels };

const STRINGY_INTEGER = /^\s*[+-]?[0-9]+\s*$/;

/**
 * One power level value as the room version allows it, or `undefined` if it is malformed.
 *
 * - v1–9 accept strings holding a base-10 integer with optional sign, leading zeroes and
 *   surrounding whitespace (rooms/v1 § "m.room.power_levels events accept values as strings").
 * - v1–5 accept floats, truncated toward zero; non-finite values are refused (rooms/v1 § "…accept
 *   values as floats"). From v6 events must be canonical JSON, so only integers remain.
 * - v10+ accept JSON integers only (rooms/v10 § Authorization rules 9.1–9.3).
 */
export function parsePowerLevelValue(value: JsonValue | undefined, version: RoomVersion): number | undefined {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value === 0 ? 0 : value;
    if (!version.strictCanonicalJson && Number.isFinite(value)) {
      const t = Math.trunc(value);
      return t === 0 ? 0 : t;
    }
    return undefined;
  }
  if (typeof value === "string" && !version.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? (n === 0 ? 0 : n) : undefined;
  }
  return undefined;
}

function parseLevelMap(
  content: JsonObject,
  key: string,
  version: RoomVersion,
  problems: string[],
  validKey: (k: string) => boolean = () => true,
): Map<string, number> {
  const out = new Map<string, number>();
  if (!has(content, key)) return out;
  const value = own(content, key);
  if (!isJsonObject(value)) {
    problems.push(`${key} is not an object`);
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!validKey(k)) {
      problems.push(`${key} has an invalid key ${JSON.stringify(k)}`);
      continue;
    }
    const level = parsePowerLevelValue(v, version);
    if (level === undefined) problems.push(`${key}.${k} is not a valid power level`);
    else out.set(k, level);
  }
  return out;
}

/**
 * Parse `m.room.power_levels` content for the given room version.
 *
 * Every present value must be a valid power level for the version, `events`, `notifications` and
 * `users` must be objects, and `users` keys must be valid user ids. For v10+ this is exactly rules
 * 9.1–9.3; for v1–9 the spec only states it for `users` (rule 10.1 / 9.1), and we apply it to the
 * other properties too — a value that cannot be read as a level cannot be compared either, so
 * refusing it is the fail-closed reading (ruma does the same; Synapse raises on it later).
 */
export function parsePowerLevels(content: JsonObject, version: RoomVersion): ParsePowerLevelsResult {
  const problems: string[] = [];
  const fields: Partial<Record<PowerLevelField, number>> = {};
  for (const field of POWER_LEVEL_FIELDS) {
    const wire = POWER_LEVEL_WIRE_NAME[field];
    if (!has(content, wire)) continue;
    const level = parsePowerLevelValue(own(content, wire), version);
    if (level === undefined) problems.push(`${wire} is not a valid power level`);
    else fields[field] = level;
  }
  const levels: PowerLevels = {
    fields,
    events: parseLevelMap(content, "events", version, problems),
    notifications: parseLevelMap(content, "notifications", version, problems),
    users: parseLevelMap(content, "users", version, problems, isValidUserId),
  };
  if (problems.length > 0) return { ok: false, reason: problems.join("; "), levels };
  return { ok: true, levels };
}

/** A field's value, or its default when the content does not state it. */
export function fieldLevel(levels: PowerLevels | undefined, field: PowerLevelField): number {
  return levels?.fields[field] ?? POWER_LEVEL_DEFAULTS[field];
}

/**
 * The creator for the pre-v12 rules ("the state_key is the creator", "the room's creator has a
 * power level of 100" without a power levels event): `content.creator` in v1–10, the create
 * event's `sender` from v11 (rooms/v11 § Authorization rules 1, 4.3.1).
 */
export function creatorOf(create: RoomEvent, version: RoomVersion): string | undefined {
  if (version.implicitRoomCreator) return create.sender;
  return ownString(create.content, "creator");
}

/**
 * The room creators: the create event's creator, plus in v12 every string of
 * `content.additional_creators` (rooms/v12 § Authorization rules, note on room creators).
 */
export function roomCreators(create: RoomEvent | undefined, version: RoomVersion): ReadonlySet<string> {
  const out = new Set<string>();
  if (!create) return out;
  const creator = creatorOf(create, version);
  if (creator !== undefined) out.add(creator);
  if (version.privilegedCreators) {
    const extra = own(create.content, "additional_creators");
    if (Array.isArray(extra)) for (const id of extra) if (typeof id === "string") out.add(id);
  }
  return out;
}

/**
 * A user's power level given already-parsed power levels (or none) and the create event.
 * v12 creators are infinitely powerful whatever the power levels say. Otherwise a listed user has
 * their level, anyone else `users_default`; without a power levels event the creator has 100 in
 * v1–11 and everyone else 0.
 */
export function userLevelIn(
  userId: string,
  levels: PowerLevels | undefined,
  create: RoomEvent | undefined,
  version: RoomVersion,
): number {
  if (version.privilegedCreators && roomCreators(create, version).has(userId)) return Infinity;
  if (levels) return levels.users.get(userId) ?? fieldLevel(levels, "usersDefault");
  if (!version.privilegedCreators && create && creatorOf(create, version) === userId) return 100;
  return 0;
}

/** The level needed to send an event: `events[type]`, else `state_default` or `events_default`. */
export function requiredLevelIn(type: string, isState: boolean, levels: PowerLevels | undefined): number {
  return levels?.events.get(type) ?? fieldLevel(levels, isState ? "stateDefault" : "eventsDefault");
}

/**
 * Power levels in the given state, read leniently: a malformed value falls back to its default.
 * `checkEventAuth` itself refuses to authorize against malformed power levels; this reader is for
 * the helpers below, whose answers are advisory (the event is still authorized before it is sent).
 */
export function powerLevelsIn(authState: AuthStateLookup, version: RoomVersion): PowerLevels | undefined {
  const event = authState(EventType.powerLevels, "");
  return event ? parsePowerLevels(event.content, version).levels : undefined;
}

/** A user's power level in the given state; `Infinity` for v12 room creators. */
export function powerLevelOf(userId: string, authState: AuthStateLookup, version: RoomVersion): number {
  return userLevelIn(userId, powerLevelsIn(authState, version), authState(EventType.create, ""), version);
}

/** The power level needed to send an event of `type` (a state event if `isState`). */
export function requiredPowerForEvent(type: string, isState: boolean, authState: AuthStateLookup, version: RoomVersion): number {
  return requiredLevelIn(type, isState, powerLevelsIn(authState, version));
}

/** The level of a `notifications` key, e.g. `room` for `@room` mentions (default 50). */
export function notificationPowerLevel(key: string, authState: AuthStateLookup, version: RoomVersion): number {
  const levels = powerLevelsIn(authState, version);
  const level = levels?.notifications.get(key);
  if (level !== undefined) return level;
  return key === "room" ? DEFAULT_ROOM_NOTIFICATION_LEVEL : Infinity;
}
