/**
 * The redaction algorithm (spec: Rooms § Redactions of each room version; fragments
 * v1-redactions, v6-redactions, v9-redactions, v11-redactions and content/rooms/v8.md).
 *
 * Redaction is not only what a client sees after `m.room.redaction`: the event signature and the
 * reference hash (hence v3+ event ids) are computed over the redacted event (spec: Server-Server
 * API § Signing Events), so a single key kept or dropped in the wrong room version changes event
 * ids and breaks signatures with every other server. The rules therefore follow the spec text key
 * by key, for each room version:
 *
 * | versions | change |
 * |---|---|
 * | 1–5  | base algorithm; `m.room.aliases` keeps `aliases` |
 * | 6–7  | `m.room.aliases` no longer keeps anything (MSC2432) |
 * | 8    | `m.room.join_rules` keeps `allow` (MSC3083, restricted joins) |
 * | 9–10 | `m.room.member` keeps `join_authorised_via_users_server` |
 * | 11–12| top-level `origin`, `membership`, `prev_state` dropped; `m.room.create` keeps all content; `m.room.power_levels` keeps `invite`; `m.room.redaction` keeps `content.redacts`; `m.room.member` keeps `third_party_invite.signed` |
 *
 * `RoomVersion.redaction` names the v1/v9/v11 algorithms; the v6 and v8 changes shipped in the
 * same MSCs as other flags of those versions (`specialCaseAliasesAuth` for MSC2432,
 * `restrictedJoins` for MSC3083), so those flags select them.
 */
import type { JsonObject, JsonValue } from "./canonical-json";
import type { Pdu, RoomEvent } from "./events";
import type { RoomVersion } from "./room-versions";

/**
 * Any PDU-shaped object, including a room version 12 `m.room.create` event, which carries no
 * `room_id` (spec: room_id_v12 "Omitted from m.room.create events"). Every `Pdu` is a `PduLike`.
 */
export type PduLike = {
  [key: string]: JsonValue | undefined;
  type: string;
  sender: string;
  content: JsonObject;
  room_id?: string;
  event_id?: string;
  state_key?: string;
};

/** Top-level keys kept in room versions 1–10 (fragments v1/v6/v9-redactions, v8.md). */
const TOP_LEVEL_V1: readonly string[] = [
  "event_id",
  "type",
  "room_id",
  "sender",
  "state_key",
  "content",
  "hashes",
  "signatures",
  "depth",
  "prev_events",
  "prev_state",
  "auth_events",
  "origin",
  "origin_server_ts",
  "membership",
];

/** v11 (fragment v11-redactions): `origin`, `membership` and `prev_state` are no longer protected. */
const TOP_LEVEL_V11: readonly string[] = [
  "event_id",
  "type",
  "room_id",
  "sender",
  "state_key",
  "content",
  "hashes",
  "signatures",
  "depth",
  "prev_events",
  "auth_events",
  "origin_server_ts",
];

const POWER_LEVEL_KEYS = ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"];

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick(from: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) {
    // Only keys that are present: a kept key must not appear as `undefined`/`null` when absent,
    // or the canonical JSON (and so every hash) would differ from other servers'.
    if (Object.prototype.hasOwnProperty.call(from, key)) out[key] = from[key]!;
  }
  return out;
}

function redactContent(type: string, content: JsonObject, version: RoomVersion): JsonObject {
  const v11 = version.redaction === "v11";
  switch (type) {
    case "m.room.member": {
      const kept = pick(content, version.redaction === "v1" ? ["membership"] : ["membership", "join_authorised_via_users_server"]);
      if (v11) {
        // v11 keeps the `signed` key of `third_party_invite` (MSC3821: "preserve a portion of
        // third_party_invite under content, if present"): the auth rules need `signed` to
        // validate a redacted third-party invite. When `third_party_invite` is an object without
        // `signed`, the preserved portion is the empty object; other servers keep `{}` there too,
        // and dropping it would change the event id.
        const invite = content.third_party_invite;
        if (isObject(invite)) kept.third_party_invite = pick(invite, ["signed"]);
      }
      return kept;
    }
    case "m.room.create":
      return v11 ? { ...content } : pick(content, ["creator"]);
    case "m.room.join_rules":
      return pick(content, version.restrictedJoins ? ["join_rule", "allow"] : ["join_rule"]);
    case "m.room.power_levels":
      return pick(content, v11 ? [...POWER_LEVEL_KEYS, "invite"] : POWER_LEVEL_KEYS);
    case "m.room.aliases":
      return version.specialCaseAliasesAuth ? pick(content, ["aliases"]) : {};
    case "m.room.history_visibility":
      return pick(content, ["history_visibility"]);
    case "m.room.redaction":
      return v11 ? pick(content, ["redacts"]) : {};
    default:
      return {};
  }
}

/**
 * Redact an event under the rules of `version`. Returns a new object; nested values that are kept
 * are shared with the input, not copied, so neither must be mutated afterwards.
 *
 * Everything outside the keep list goes, including `unsigned` and (before v11) the top-level
 * `redacts`. Callers serving a redacted event to clients add `unsigned.redacted_because` themselves
 * (spec: Client-Server API § Redactions).
 */
export function redactEvent(event: RoomEvent, version: RoomVersion): RoomEvent;
export function redactEvent(event: Pdu, version: RoomVersion): Pdu;
export function redactEvent(event: PduLike, version: RoomVersion): PduLike;
export function redactEvent(event: PduLike, version: RoomVersion): PduLike {
  const source = event as JsonObject;
  const out = pick(source, version.redaction === "v11" ? TOP_LEVEL_V11 : TOP_LEVEL_V1);
  out.content = redactContent(event.type, isObject(event.content) ? event.content : {}, version);
  return out as PduLike;
}
