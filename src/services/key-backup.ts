/**
 * Server-side key backups (spec: Client-Server § Server-side key backups): backup versions and
 * the encrypted megolm session keys stored in them. The server never sees a key: `auth_data` and
 * `session_data` are the client's, stored as canonical JSON. Data in D1 (storage/d1/key-backup.ts).
 */
import { MatrixError, invalidParam, missingParam, notFound } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import {
  backupEtagAndCount,
  backupVersion,
  createBackupVersion,
  currentBackupVersion,
  deleteBackupVersion,
  deleteRoomKeys,
  putRoomKeys,
  roomKeys,
  updateBackupAuthData,
  type BackupVersionRow,
  type RoomKeyInput,
  type RoomKeyRow,
} from "../storage/d1/key-backup";
import type { Deps } from "./deps";
import { canonical } from "./e2ee-keys";

/** KeyBackupData (spec: PUT /room_keys/keys/{roomId}/{sessionId}), as the route validated it. */
export interface KeyBackupData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: JsonObject;
}

export type RoomKeysUpdate = { etag: string; count: number };

const unknownVersion = () => notFound("Unknown backup version");

/** Versions are the numbers this server hands out; anything else names no backup. */
function parseVersion(version: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(version) ? Number(version) : undefined;
}

/** The `version` query parameter of the /room_keys/keys endpoints: required. */
function requireVersionParam(version: string | undefined): string {
  if (version === undefined) throw missingParam("The version query parameter is required");
  return version;
}

/** A version that exists and is not deleted, or 404. */
async function liveVersion(deps: Deps, userId: string, version: string): Promise<BackupVersionRow> {
  const n = parseVersion(version);
  const row = n === undefined ? null : await backupVersion(deps.env.DB, userId, n);
  if (!row || row.deleted) throw unknownVersion();
  return row;
}

async function describe(deps: Deps, userId: string, row: BackupVersionRow): Promise<JsonObject> {
  const { etag, count } = await backupEtagAndCount(deps.env.DB, userId, row.version);
  return { algorithm: row.algorithm, auth_data: JSON.parse(row.auth_data) as JsonObject, count, etag: String(etag), version: String(row.version) };
}

/** POST /room_keys/version */
export async function createBackup(deps: Deps, userId: string, algorithm: string, authData: JsonObject): Promise<{ version: string }> {
  const version = await createBackupVersion(deps.env.DB, userId, algorithm, canonical(authData, "auth_data"));
  return { version: String(version) };
}

/** GET /room_keys/version and GET /room_keys/version/{version} */
export async function getBackup(deps: Deps, userId: string, version?: string): Promise<JsonObject> {
  if (version === undefined) {
    const row = await currentBackupVersion(deps.env.DB, userId);
    if (!row) throw notFound("No current backup version");
    return describe(deps, userId, row);
  }
  return describe(deps, userId, await liveVersion(deps, userId, version));
}

/** PUT /room_keys/version/{version}: only `auth_data` may change. */
export async function updateBackup(
  deps: Deps,
  userId: string,
  version: string,
  body: { algorithm: string; auth_data: JsonObject; version?: string },
): Promise<Record<string, never>> {
  if (body.version !== undefined && body.version !== version) throw invalidParam("The version in the body does not match the version in the path");
  const row = await liveVersion(deps, userId, version);
  if (body.algorithm !== row.algorithm) throw invalidParam("Algorithm does not match the backup's algorithm");
  if (!(await updateBackupAuthData(deps.env.DB, userId, row.version, canonical(body.auth_data, "auth_data")))) throw unknownVersion();
  return {};
}

/** DELETE /room_keys/version/{version}: deleting a version deleted before succeeds too (spec). */
export async function deleteBackup(deps: Deps, userId: string, version: string): Promise<Record<string, never>> {
  const n = parseVersion(version);
  const row = n === undefined ? null : await backupVersion(deps.env.DB, userId, n);
  if (!row) throw unknownVersion();
  if (!row.deleted) await deleteBackupVersion(deps.env.DB, userId, row.version);
  return {};
}

/**
 * Keys may only be stored in the current backup: another version that exists (or existed) is
 * 403 M_WRONG_ROOM_KEYS_VERSION with `current_version`, so a client still writing to an old
 * backup learns of the new one; a version that never existed, or no backup at all, is 404.
 */
async function requireCurrent(deps: Deps, userId: string, version: string): Promise<number> {
  const db = deps.env.DB;
  const current = await currentBackupVersion(db, userId);
  const n = parseVersion(version);
  if (current && n === current.version) return n;
  const known = n === undefined ? null : await backupVersion(db, userId, n);
  if (!current || !known) throw unknownVersion();
  throw new MatrixError("M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version", { current_version: String(current.version) }, 403);
}

async function update(deps: Deps, userId: string, version: number): Promise<RoomKeysUpdate> {
  const { etag, count } = await backupEtagAndCount(deps.env.DB, userId, version);
  return { etag: String(etag), count };
}

/** PUT /room_keys/keys[/{roomId}[/{sessionId}]]: keeps the better key of each session (storage/d1/key-backup.ts). */
export async function storeRoomKeys(
  deps: Deps,
  userId: string,
  versionParam: string | undefined,
  rooms: Record<string, Record<string, KeyBackupData>>,
): Promise<RoomKeysUpdate> {
  const version = await requireCurrent(deps, userId, requireVersionParam(versionParam));
  const keys: RoomKeyInput[] = [];
  for (const [roomId, sessions] of Object.entries(rooms)) {
    for (const [sessionId, k] of Object.entries(sessions)) {
      keys.push({
        roomId,
        sessionId,
        firstMessageIndex: k.first_message_index,
        forwardedCount: k.forwarded_count,
        isVerified: k.is_verified,
        sessionData: canonical(k.session_data, "session_data"),
      });
    }
  }
  if (keys.length > 0) {
    await putRoomKeys(deps.env.DB, userId, version, keys);
    // The write is guarded by "still the current version": if a new backup was created
    // meanwhile, nothing was stored, and the client must hear so.
    await requireCurrent(deps, userId, String(version));
  }
  return update(deps, userId, version);
}

function toWire(row: RoomKeyRow): JsonObject {
  return {
    first_message_index: row.first_message_index,
    forwarded_count: row.forwarded_count,
    is_verified: row.is_verified === 1,
    session_data: JSON.parse(row.session_data) as JsonObject,
  };
}

/** GET /room_keys/keys[/{roomId}[/{sessionId}]] — from any live version, not only the current one. */
export async function fetchRoomKeys(deps: Deps, userId: string, versionParam: string | undefined, roomId?: string, sessionId?: string): Promise<JsonObject> {
  const row = await liveVersion(deps, userId, requireVersionParam(versionParam));
  const rows = await roomKeys(deps.env.DB, userId, row.version, roomId, sessionId);
  if (sessionId !== undefined) {
    if (!rows[0]) throw notFound("Key not found");
    return toWire(rows[0]);
  }
  const rooms: Record<string, { sessions: Record<string, JsonObject> }> = {};
  for (const r of rows) (rooms[r.room_id] ??= { sessions: {} }).sessions[r.session_id] = toWire(r);
  if (roomId !== undefined) return rooms[roomId] ?? { sessions: {} };
  return { rooms };
}

/** DELETE /room_keys/keys[/{roomId}[/{sessionId}]] */
export async function removeRoomKeys(deps: Deps, userId: string, versionParam: string | undefined, roomId?: string, sessionId?: string): Promise<RoomKeysUpdate> {
  const row = await liveVersion(deps, userId, requireVersionParam(versionParam));
  await deleteRoomKeys(deps.env.DB, userId, row.version, roomId, sessionId);
  return update(deps, userId, row.version);
}
