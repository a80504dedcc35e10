/**
 * Room upgrades (spec: Client-Server § Room upgrades, "Server behaviour"). The replacement room is
 * created and filled first, so a failure leaves the old room untouched; only then is the old room
 * tombstoned, its aliases and directory entry moved and its power levels restricted.
 */
import { MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import type { RoomEvent } from "../matrix/events";
import {
  lookupFromEvents,
  membershipOf,
  parsePowerLevels,
  POWER_LEVEL_FIELDS,
  POWER_LEVEL_WIRE_NAME,
  powerLevelOf,
  requiredPowerForEvent,
  roomCreators,
  type AuthStateLookup,
} from "../matrix/auth";
import { getRoomVersion, type RoomVersion } from "../matrix/room-versions";
import type { LocalEventInput } from "../objects/room/room-engine";
import { getRoomSummary, moveAliasesStatement, setRoomPublic } from "../storage/d1/rooms";
import type { Deps } from "./deps";
import { randomToken } from "./random";
import { CREATABLE_ROOM_VERSIONS, createRoom, profileMemberContent, roomStub, unwrapRead, type RoomApi } from "./rooms";

/** Longest an upgrade holds its claim on the old room (beginUpgrade): far more than an upgrade takes. */
const UPGRADE_LEASE_MS = 60_000;

/** State the spec recommends carrying over; everything else is sensitive to who sent it. */
const TRANSFERRED_STATE = [
  "m.room.server_acl",
  "m.room.encryption",
  "m.room.name",
  "m.room.avatar",
  "m.room.topic",
  "m.room.guest_access",
  "m.room.history_visibility",
  "m.room.join_rules",
];

export interface UpgradeRequest {
  roomId: string;
  userId: string;
  newVersion: string;
  /** v12+: the creators besides the upgrader; they are not copied from the old room (spec v1.16). */
  additionalCreators?: string[];
}

/**
 * Power levels re-read for the new room: values the old room version accepted as strings or
 * floats become integers (v10+ accepts nothing else); values no version can read are dropped.
 */
function fixupPowerLevels(content: JsonObject, version: RoomVersion): JsonObject {
  const { levels } = parsePowerLevels(content, version);
  const out: JsonObject = { ...content };
  for (const field of POWER_LEVEL_FIELDS) {
    const wire = POWER_LEVEL_WIRE_NAME[field];
    if (!(wire in content)) continue;
    const value = levels.fields[field];
    if (value === undefined) delete out[wire];
    else out[wire] = value;
  }
  for (const key of ["users", "events", "notifications"] as const) {
    if (key in content) out[key] = Object.fromEntries(levels[key]);
  }
  return out;
}

function levelField(content: JsonObject, key: string, fallback: number): number {
  const v = content[key];
  return typeof v === "number" ? v : fallback;
}

/**
 * The new room's power levels: the old ones, with the upgrader temporarily raised to the highest
 * level any copied state or ban needs (`initial`), then the old ones as they were (`final`). In v12
 * the creators are infinitely powerful and may not be listed in `users`.
 */
function newRoomPowerLevels(
  old: AuthStateLookup,
  oldVersion: RoomVersion,
  newVersion: RoomVersion,
  upgrader: string,
  creators: ReadonlySet<string>,
): { initial: JsonObject; final: JsonObject } {
  const oldEvent = old("m.room.power_levels", "");
  let content: JsonObject;
  if (oldEvent) content = fixupPowerLevels(oldEvent.content, oldVersion);
  else {
    // Without a power levels event the old room's creators had 100 (v12: more); keep them at 100.
    content = { users: Object.fromEntries([...roomCreators(old("m.room.create", ""), oldVersion)].map((u) => [u, 100])) };
  }
  const users = { ...((content.users as JsonObject | undefined) ?? {}) };
  if (oldVersion.privilegedCreators && !newVersion.privilegedCreators) {
    // Infinitely powerful creators become the most powerful users of a room version without them.
    const top = Math.max(100, ...Object.values(users).filter((v): v is number => typeof v === "number"));
    for (const creator of roomCreators(old("m.room.create", ""), oldVersion)) users[creator] = top;
  }
  if (newVersion.privilegedCreators) {
    for (const creator of creators) delete users[creator];
    const final = { ...content, users };
    return { initial: final, final };
  }
  const final = { ...content, users };
  const events = Object.values((content.events as JsonObject | undefined) ?? {}).filter((v): v is number => typeof v === "number");
  const needed = Math.max(levelField(content, "state_default", 50), levelField(content, "ban", 50), ...events);
  const current = typeof users[upgrader] === "number" ? (users[upgrader] as number) : levelField(content, "users_default", 0);
  if (current >= needed) return { initial: final, final };
  return { initial: { ...content, users: { ...users, [upgrader]: needed } }, final };
}

/** The old room's canonical alias split in two: what stays (remote aliases) and what moves (ours). */
function splitCanonicalAlias(content: JsonObject, serverName: string): { old: JsonObject; moved: JsonObject } | undefined {
  const ours = (a: unknown): a is string => typeof a === "string" && a.endsWith(`:${serverName}`);
  const old: JsonObject = { ...content };
  const moved: JsonObject = {};
  if (ours(content.alias)) {
    moved.alias = content.alias;
    delete old.alias;
  }
  if (Array.isArray(content.alt_aliases)) {
    const alt = content.alt_aliases;
    if (alt.some(ours)) moved.alt_aliases = alt.filter(ours);
    old.alt_aliases = alt.filter((a) => !ours(a));
    if ((old.alt_aliases as unknown[]).length === 0) delete old.alt_aliases;
  }
  return Object.keys(moved).length ? { old, moved } : undefined;
}

/** POST /rooms/{roomId}/upgrade: returns the replacement room's id. */
export async function upgradeRoom(deps: Deps, req: UpgradeRequest): Promise<string> {
  const version = getRoomVersion(req.newVersion);
  if (!version || !(CREATABLE_ROOM_VERSIONS as readonly string[]).includes(version.id)) {
    throw new MatrixError("M_UNSUPPORTED_ROOM_VERSION", `This server does not create rooms of version ${req.newVersion}`);
  }
  const oldStub = roomStub(deps, req.roomId);
  const oldVersionId = await oldStub.roomVersion();
  if (!oldVersionId) throw new MatrixError("M_NOT_FOUND", "Unknown room");
  const oldVersion = getRoomVersion(oldVersionId)!;
  const oldState = unwrapRead(await oldStub.getState(req.userId)) as unknown as RoomEvent[];
  const old = lookupFromEvents(oldState);
  // The auth rules for the tombstone: joined, with the power to send it.
  if (
    membershipOf(req.userId, old) !== "join" ||
    powerLevelOf(req.userId, old, oldVersion) < requiredPowerForEvent("m.room.tombstone", true, old, oldVersion)
  ) {
    throw new MatrixError("M_FORBIDDEN", "You cannot upgrade this room");
  }
  const lease = randomToken(12);
  if (!(await oldStub.beginUpgrade(lease, UPGRADE_LEASE_MS))) {
    throw new MatrixError("M_UNKNOWN", "An upgrade for this room is currently in progress", {}, 400);
  }
  try {
    return await replaceRoom(deps, req, version, oldStub, oldVersion, oldState, old);
  } finally {
    await oldStub.endUpgrade(lease);
  }
}

/** The upgrade proper, once the room is claimed: the new room, then the tombstone and the moves. */
async function replaceRoom(deps: Deps, req: UpgradeRequest, version: RoomVersion, oldStub: RoomApi, oldVersion: RoomVersion, oldState: RoomEvent[], old: AuthStateLookup): Promise<string> {

  const oldCreate = old("m.room.create", "")!;
  const predecessor: JsonObject = { room_id: req.roomId };
  // Deprecated from v1.16 and optional for v12 targets; older versions still expect it.
  if (!version.roomIdFromCreateEvent) {
    const last = await oldStub.latestEventId();
    if (last) predecessor.event_id = last;
  }
  const creationContent: JsonObject = { predecessor };
  if (typeof oldCreate.content.type === "string") creationContent.type = oldCreate.content.type;
  if (oldCreate.content["m.federate"] === false) creationContent["m.federate"] = false;
  const additional = version.privilegedCreators ? [...new Set(req.additionalCreators ?? [])].filter((u) => u !== req.userId) : [];
  if (additional.length) creationContent.additional_creators = additional;
  const creators = new Set([req.userId, ...additional]);

  const state = (type: string, content: JsonObject, stateKey = ""): LocalEventInput => ({ sender: req.userId, type, content, stateKey });
  const powerLevels = newRoomPowerLevels(old, oldVersion, version, req.userId, creators);
  const initial: LocalEventInput[] = [
    state("m.room.member", { ...(await profileMemberContent(deps, req.userId)), membership: "join" }, req.userId),
    state("m.room.power_levels", powerLevels.initial),
  ];
  for (const type of TRANSFERRED_STATE) {
    const ev = old(type, "");
    if (ev) initial.push(state(type, ev.content));
  }
  if (oldCreate.content.type === "m.space") {
    for (const ev of oldState) {
      if (ev.type === "m.space.child" && typeof ev.state_key === "string" && Object.keys(ev.content).length) initial.push(state(ev.type, ev.content, ev.state_key));
    }
  }
  const canonical = old("m.room.canonical_alias", "");
  const aliasSplit = canonical ? splitCanonicalAlias(canonical.content, deps.config.serverName) : undefined;
  if (aliasSplit) initial.push(state("m.room.canonical_alias", aliasSplit.moved));
  // Bans carry over, except of users the upgrader can't ban there: the new room's creators, and
  // anyone listed at or above the upgrader's level.
  const levelIn = (content: JsonObject, userId: string): number => {
    const users = (content.users as JsonObject | undefined) ?? {};
    return typeof users[userId] === "number" ? (users[userId] as number) : levelField(content, "users_default", 0);
  };
  const upgraderLevel = version.privilegedCreators ? Infinity : levelIn(powerLevels.initial, req.userId);
  for (const ev of oldState) {
    if (ev.type !== "m.room.member" || ev.content.membership !== "ban" || typeof ev.state_key !== "string") continue;
    if (creators.has(ev.state_key) || levelIn(powerLevels.initial, ev.state_key) >= upgraderLevel) continue;
    initial.push(state("m.room.member", ev.content, ev.state_key));
  }
  if (powerLevels.final !== powerLevels.initial) initial.push(state("m.room.power_levels", powerLevels.final));

  const summary = await getRoomSummary(deps.env.DB, req.roomId);
  const isPublic = summary?.is_public === 1;
  const { roomId: newRoomId } = await createRoom(deps, {
    creator: req.userId,
    version,
    creationContent,
    isPublic,
    initial: async () => initial,
  });

  const tombstone = await oldStub.send(state("m.room.tombstone", { body: "This room has been replaced", replacement_room: newRoomId }));
  if (!tombstone.ok) throw new MatrixError(tombstone.errcode, tombstone.error);

  const moves: D1PreparedStatement[] = [moveAliasesStatement(deps.env.DB, req.roomId, newRoomId)];
  if (isPublic) moves.push(setRoomPublic(deps.env.DB, req.roomId, false));
  await deps.env.DB.batch(moves);
  // The rest is best effort, as the spec's "if possible": a refusal leaves the old room as it is.
  if (aliasSplit) await oldStub.send(state("m.room.canonical_alias", aliasSplit.old));
  // Regular users may no longer speak or invite: events_default and invite go to the greater of 50
  // and users_default + 1.
  const oldLevels = old("m.room.power_levels", "");
  if (oldLevels) {
    const { fields } = parsePowerLevels(oldLevels.content, oldVersion).levels;
    const restricted = Math.max(50, (fields.usersDefault ?? 0) + 1);
    const content: JsonObject = { ...oldLevels.content };
    if ((fields.eventsDefault ?? 0) < restricted) content.events_default = restricted;
    if ((fields.invite ?? 0) < restricted) content.invite = restricted;
    if (content.events_default !== oldLevels.content.events_default || content.invite !== oldLevels.content.invite) {
      await oldStub.send(state("m.room.power_levels", content));
    }
  }
  return newRoomId;
}
