/**
 * The initial events of a new room (spec: Client-Server § POST /createRoom, "Room creation"):
 * the creator's join, power levels, alias, preset state, initial_state, name, topic and invites,
 * in the order the spec lists them.
 */
import { MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import type { RoomVersion } from "../matrix/room-versions";
import type { LocalEventInput } from "../objects/room/room-engine";
import { parsePowerLevels } from "../matrix/auth";

export type Preset = "private_chat" | "public_chat" | "trusted_private_chat";

export interface CreateRoomBody {
  visibility?: "public" | "private";
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  invite_3pid?: unknown[];
  room_version?: string;
  creation_content?: JsonObject;
  initial_state?: { type: string; state_key?: string; content: JsonObject }[];
  preset?: Preset;
  is_direct?: boolean;
  power_level_content_override?: JsonObject;
}

/** The preset's state (spec table "Presets"). */
const PRESETS: Record<Preset, { joinRule: string; historyVisibility: string; guestAccess: string; inviteesAreAdmins: boolean }> = {
  private_chat: { joinRule: "invite", historyVisibility: "shared", guestAccess: "can_join", inviteesAreAdmins: false },
  trusted_private_chat: { joinRule: "invite", historyVisibility: "shared", guestAccess: "can_join", inviteesAreAdmins: true },
  public_chat: { joinRule: "public", historyVisibility: "shared", guestAccess: "forbidden", inviteesAreAdmins: false },
};

export function presetOf(body: CreateRoomBody): Preset {
  return body.preset ?? (body.visibility === "public" ? "public_chat" : "private_chat");
}

/**
 * v12 gives creators infinite power and forbids listing them in `users`; in a
 * trusted_private_chat the invitees become additional creators instead (MSC4289).
 */
export function creationContentFor(body: CreateRoomBody, version: RoomVersion): JsonObject {
  const content: JsonObject = { ...(body.creation_content ?? {}) };
  if (version.privilegedCreators && presetOf(body) === "trusted_private_chat" && body.invite?.length) {
    const existing = Array.isArray(content.additional_creators) ? (content.additional_creators as string[]) : [];
    content.additional_creators = [...new Set([...existing, ...body.invite])];
  }
  return content;
}

export function initialEvents(body: CreateRoomBody, version: RoomVersion, creator: string, creatorMember: JsonObject, alias: string | undefined): LocalEventInput[] {
  const preset = PRESETS[presetOf(body)];
  const invitees = body.invite ?? [];
  const state = (type: string, content: JsonObject, stateKey = ""): LocalEventInput => ({ sender: creator, type, content, stateKey });

  const users: JsonObject = {};
  if (!version.privilegedCreators) {
    users[creator] = 100;
    if (preset.inviteesAreAdmins) for (const u of invitees) users[u] = 100;
  }
  const powerLevels: JsonObject = {
    users,
    users_default: 0,
    events: {
      "m.room.name": 50,
      "m.room.power_levels": 100,
      "m.room.history_visibility": 100,
      "m.room.canonical_alias": 50,
      "m.room.avatar": 50,
      // v12: above the admins' 100, so only creators can upgrade (spec v1.16 § createRoom, MSC4289).
      "m.room.tombstone": version.privilegedCreators ? 150 : 100,
      "m.room.server_acl": 100,
      "m.room.encryption": 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    // Private presets let any member invite, as Synapse does.
    invite: presetOf(body) === "public_chat" ? 50 : 0,
    notifications: { room: 50 },
    ...(body.power_level_content_override ?? {}),
  };

  // Power levels in initial_state replace the generated ones, override included (as Synapse does).
  const initialPowerLevels = body.initial_state?.find((ev) => ev.type === "m.room.power_levels" && (ev.state_key ?? "") === "");
  const events: LocalEventInput[] = [
    state("m.room.member", { ...creatorMember, membership: "join" }, creator),
    state("m.room.power_levels", initialPowerLevels?.content ?? powerLevels),
  ];
  if (alias) events.push(state("m.room.canonical_alias", { alias }));
  events.push(state("m.room.join_rules", { join_rule: preset.joinRule }));
  events.push(state("m.room.history_visibility", { history_visibility: preset.historyVisibility }));
  if (version.id !== "1" && preset.guestAccess) events.push(state("m.room.guest_access", { guest_access: preset.guestAccess }));
  for (const ev of body.initial_state ?? []) {
    if (ev.type === "m.room.create" || ev.type === "m.room.member") {
      throw new MatrixError("M_INVALID_PARAM", `initial_state may not contain ${ev.type}`);
    }
    if (ev === initialPowerLevels) continue;
    // Later entries replace earlier ones of the same type/key, including preset state.
    const key = ev.state_key ?? "";
    const existing = events.findIndex((e) => e.type === ev.type && e.stateKey === key && e.type !== "m.room.member");
    if (existing >= 0) events.splice(existing, 1);
    events.push(state(ev.type, ev.content, key));
  }
  if (body.name !== undefined) events.push(state("m.room.name", { name: body.name }));
  if (body.topic !== undefined) {
    // Spec v1.15: topics carry an m.topic block beside the plain text.
    events.push(state("m.room.topic", { topic: body.topic, "m.topic": { "m.text": [{ body: body.topic, mimetype: "text/plain" }] } }));
  }
  for (const invitee of invitees) {
    const content: JsonObject = { membership: "invite" };
    if (body.is_direct) content.is_direct = true;
    events.push(state("m.room.member", content, invitee));
  }
  return events;
}

/**
 * Checks up front what the room's own auth rules would refuse later, so a bad request gets a 400
 * before anything is stored rather than leaving a half-made room behind.
 */
export function validateInitialContent(events: LocalEventInput[], creationContent: JsonObject, version: RoomVersion, creator: string): void {
  const powerLevels = [...events].reverse().find((e) => e.type === "m.room.power_levels");
  if (powerLevels) {
    const parsed = parsePowerLevels(powerLevels.content, version);
    if (!parsed.ok) throw new MatrixError("M_BAD_JSON", `Invalid power levels: ${parsed.reason}`);
  }
  if (!version.privilegedCreators) return;
  const extra = creationContent.additional_creators;
  if (extra !== undefined && (!Array.isArray(extra) || extra.some((u) => typeof u !== "string" || !/^@[^:]+:.+$/.test(u)))) {
    throw new MatrixError("M_BAD_JSON", "additional_creators must be a list of user ids");
  }
  // Room v12: creators have infinite power and must not be listed in `users`.
  const creators = new Set([creator, ...((Array.isArray(extra) ? extra : []) as string[])]);
  const users = powerLevels?.content.users;
  if (users && typeof users === "object" && !Array.isArray(users) && Object.keys(users).some((u) => creators.has(u))) {
    throw new MatrixError("M_BAD_JSON", "Room creators may not be listed in power level users in this room version");
  }
}
