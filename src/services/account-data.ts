/**
 * Account data (spec: Client-Server § Client Config) and room tags (§ Room Tagging), stored in D1
 * (DESIGN §1). Every write tells the user's sync stream which type changed; /sync then reads the
 * current values through `accountDataForSync`.
 */
import { forbidden, MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import {
  getAccountData,
  GLOBAL_ROOM,
  listAccountData,
  patchAccountDataEntry,
  putAccountData,
  selectAccountData,
  type AccountDataRow,
} from "../storage/d1/account-data";
import type { Deps } from "./deps";
import { PUSH_RULES_TYPE, pushRulesContent } from "./push-rules";
import { assertRoomId } from "./rooms";
import { notifyUser } from "./user-stream";
import { ignoredUserIds } from "../objects/user/ignored-users";

/**
 * Types the server manages: "Servers MUST reject clients from setting account data for event
 * types that the server manages. Currently, this only includes m.fully_read and m.push_rules.
 * This applies to both global and room-specific account data." (spec: § Client Config, Server
 * behaviour; 405 `M_BAD_JSON` in account-data.yaml).
 */
const SERVER_MANAGED = new Set(["m.fully_read", "m.push_rules"]);

export const TAG_TYPE = "m.tag";
export const FULLY_READ_TYPE = "m.fully_read";

export interface AccountDataEvent {
  type: string;
  content: JsonObject;
}

export interface SyncAccountData {
  global: AccountDataEvent[];
  rooms: Record<string, AccountDataEvent[]>;
}

/** The types that changed since a sync token, as the user's stream recorded them. */
export interface AccountDataChanges {
  global: string[];
  rooms: Record<string, string[]>;
}

/** Account data belongs to its user alone: no one else may read or write it, admins included. */
export function assertOwnAccountData(sessionUserId: string, userId: string): void {
  if (sessionUserId !== userId) throw forbidden("You cannot access another user's account data");
}

function assertClientWritable(type: string): void {
  if (SERVER_MANAGED.has(type)) throw new MatrixError("M_BAD_JSON", `Cannot set ${type} through this API`, {}, 405);
}

function parseContent(text: string): JsonObject {
  return JSON.parse(text) as JsonObject;
}

export async function getGlobalAccountData(deps: Deps, userId: string, type: string): Promise<JsonObject> {
  // Push rules live in their own tables; this reads them as the event /sync shows (as Synapse does).
  if (type === PUSH_RULES_TYPE) return pushRulesContent(deps, userId);
  const content = await getAccountData(deps.env.DB, userId, GLOBAL_ROOM, type);
  if (content === null) throw new MatrixError("M_NOT_FOUND", "Account data not found");
  return parseContent(content);
}

export async function setGlobalAccountData(deps: Deps, userId: string, type: string, content: JsonObject): Promise<void> {
  assertClientWritable(type);
  await putAccountData(deps.env.DB, { userId, roomId: GLOBAL_ROOM, type, content: JSON.stringify(content), now: deps.now() });
  await notifyUser(deps, userId, { kind: "account_data", type });
}

/**
 * Room account data needs no membership: like Synapse, a user may keep data about any room id
 * (the spec sets no condition); it is theirs alone and reveals nothing about the room.
 */
export async function getRoomAccountData(deps: Deps, userId: string, roomId: string, type: string): Promise<JsonObject> {
  assertRoomId(roomId);
  const content = await getAccountData(deps.env.DB, userId, roomId, type);
  if (content === null) throw new MatrixError("M_NOT_FOUND", "Room account data not found");
  return parseContent(content);
}

export async function setRoomAccountData(deps: Deps, userId: string, roomId: string, type: string, content: JsonObject): Promise<void> {
  assertRoomId(roomId);
  assertClientWritable(type);
  await writeRoomAccountData(deps, userId, roomId, type, content);
}

/** Writes room account data the server manages too (the read marker); callers have checked the rest. */
export async function writeRoomAccountData(deps: Deps, userId: string, roomId: string, type: string, content: JsonObject): Promise<void> {
  await putAccountData(deps.env.DB, { userId, roomId, type, content: JSON.stringify(content), now: deps.now() });
  await notifyUser(deps, userId, { kind: "room_account_data", roomId, type });
}

// Room tags (spec: § Room Tagging): the `tags` of the room's `m.tag` account data, as /sync shows them.

const MAX_TAG_BYTES = 255;

function assertTag(tag: string): void {
  if (new TextEncoder().encode(tag).length > MAX_TAG_BYTES) throw new MatrixError("M_INVALID_PARAM", `Tag names are limited to ${MAX_TAG_BYTES} bytes`);
}

export async function getTags(deps: Deps, userId: string, roomId: string): Promise<Record<string, JsonObject>> {
  assertRoomId(roomId);
  const content = await getAccountData(deps.env.DB, userId, roomId, TAG_TYPE);
  const tags = content === null ? undefined : parseContent(content).tags;
  // m.tag may also have been written whole through the account data API, in any shape.
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) return {};
  return tags as Record<string, JsonObject>;
}

export async function setTag(deps: Deps, userId: string, roomId: string, tag: string, content: JsonObject): Promise<void> {
  assertRoomId(roomId);
  assertTag(tag);
  await patchAccountDataEntry(deps.env.DB, { userId, roomId, type: TAG_TYPE, field: "tags", key: tag, value: content, now: deps.now() });
  await notifyUser(deps, userId, { kind: "room_account_data", roomId, type: TAG_TYPE });
}

/** Removing a tag the room doesn't have succeeds, as in Synapse: the end state is what was asked. */
export async function removeTag(deps: Deps, userId: string, roomId: string, tag: string): Promise<void> {
  assertRoomId(roomId);
  assertTag(tag);
  await patchAccountDataEntry(deps.env.DB, { userId, roomId, type: TAG_TYPE, field: "tags", key: tag, value: null, now: deps.now() });
  await notifyUser(deps, userId, { kind: "room_account_data", roomId, type: TAG_TYPE });
}

// For /sync.

function group(rows: AccountDataRow[]): SyncAccountData {
  const out: SyncAccountData = { global: [], rooms: {} };
  for (const row of rows) {
    const event = { type: row.type, content: parseContent(row.content) };
    if (row.room_id === GLOBAL_ROOM) out.global.push(event);
    else (out.rooms[row.room_id] ??= []).push(event);
  }
  return out;
}

/**
 * The user's account data for /sync: all of it when `changes` is undefined (an initial sync),
 * otherwise the current value of each changed type. One D1 query either way, and one more (run
 * alongside it) for `m.push_rules`, which comes from the push rule tables on an initial sync and
 * whenever it changed (spec: § Push Rules: Events).
 */
export async function accountDataForSync(deps: Deps, userId: string, changes?: AccountDataChanges): Promise<SyncAccountData> {
  const pushRules = !changes || changes.global.includes(PUSH_RULES_TYPE) ? pushRulesContent(deps, userId) : Promise.resolve(undefined);
  let rows: Promise<AccountDataRow[]>;
  if (!changes) rows = listAccountData(deps.env.DB, userId);
  else {
    const keys: [string, string][] = [];
    for (const type of new Set(changes.global)) keys.push([GLOBAL_ROOM, type]);
    for (const [roomId, types] of Object.entries(changes.rooms)) {
      if (roomId === GLOBAL_ROOM) continue;
      for (const type of new Set(types)) keys.push([roomId, type]);
    }
    rows = selectAccountData(deps.env.DB, userId, keys);
  }
  const [data, rules] = await Promise.all([rows.then(group), pushRules]);
  if (rules) data.global.push({ type: PUSH_RULES_TYPE, content: rules });
  return data;
}

/** The users the user ignores (`m.ignored_user_list`, spec: § Ignoring Users), for their sync stream. */
export async function ignoredUsers(deps: Deps, userId: string): Promise<string[]> {
  const text = await getAccountData(deps.env.DB, userId, GLOBAL_ROOM, "m.ignored_user_list");
  return text ? ignoredUserIds(JSON.parse(text) as unknown) : [];
}
