/**
 * SQL for server-side key backups (migrations/0009_key_backup.sql): backup versions and the
 * session keys stored in them. No rules here but one: which of two keys for a session is kept,
 * which must be decided inside the write statement to hold under concurrent uploads.
 */

export interface BackupVersionRow {
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
  deleted: number;
}

export interface RoomKeyRow {
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: number;
  session_data: string;
}

export interface RoomKeyInput {
  roomId: string;
  sessionId: string;
  firstMessageIndex: number;
  forwardedCount: number;
  isVerified: boolean;
  sessionData: string;
}

const CURRENT_VERSION = "(SELECT MAX(version) FROM e2e_room_keys_versions WHERE user_id = ?1 AND deleted = 0)";

/** The current backup: the highest version not deleted. */
export function currentBackupVersion(db: D1Database, userId: string): Promise<BackupVersionRow | null> {
  return db
    .prepare("SELECT version, algorithm, auth_data, etag, deleted FROM e2e_room_keys_versions WHERE user_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1")
    .bind(userId)
    .first<BackupVersionRow>();
}

/** A version, deleted or not. */
export function backupVersion(db: D1Database, userId: string, version: number): Promise<BackupVersionRow | null> {
  return db
    .prepare("SELECT version, algorithm, auth_data, etag, deleted FROM e2e_room_keys_versions WHERE user_id = ? AND version = ?")
    .bind(userId, version)
    .first<BackupVersionRow>();
}

/** Creates the next version (one statement, so two concurrent creations get different numbers). */
export async function createBackupVersion(db: D1Database, userId: string, algorithm: string, authData: string): Promise<number> {
  const row = await db
    .prepare(
      `INSERT INTO e2e_room_keys_versions (user_id, version, algorithm, auth_data)
       SELECT ?1, COALESCE(MAX(version), 0) + 1, ?2, ?3 FROM e2e_room_keys_versions WHERE user_id = ?1 RETURNING version`,
    )
    .bind(userId, algorithm, authData)
    .first<{ version: number }>();
  return row!.version;
}

/** Replaces a live version's auth data; false if it is gone. */
export async function updateBackupAuthData(db: D1Database, userId: string, version: number, authData: string): Promise<boolean> {
  const r = await db.prepare("UPDATE e2e_room_keys_versions SET auth_data = ? WHERE user_id = ? AND version = ? AND deleted = 0").bind(authData, userId, version).run();
  return r.meta.changes === 1;
}

/** Marks a version deleted and drops its keys, in one transaction. */
export async function deleteBackupVersion(db: D1Database, userId: string, version: number): Promise<void> {
  await db.batch([
    db.prepare("UPDATE e2e_room_keys_versions SET deleted = 1 WHERE user_id = ? AND version = ?").bind(userId, version),
    db.prepare("DELETE FROM e2e_room_keys WHERE user_id = ? AND version = ?").bind(userId, version),
  ]);
}

/**
 * Whether the key `n` is better than the stored key `o` (spec: § Server-side key backups, storing
 * keys): a verified key beats an unverified one, then the lower first message index wins, then
 * the lower forwarded count. An equal key is not better, so the stored one stays.
 */
function better(n: { verified: string; index: string; forwarded: string }, o: { verified: string; index: string; forwarded: string }): string {
  return `(${n.verified} > ${o.verified} OR (${n.verified} = ${o.verified} AND (${n.index} < ${o.index}
          OR (${n.index} = ${o.index} AND ${n.forwarded} < ${o.forwarded}))))`;
}

const STORED = { verified: "k.is_verified", index: "k.first_message_index", forwarded: "k.forwarded_count" };
const UPLOADED = { verified: "json_extract(j.value, '$[4]')", index: "json_extract(j.value, '$[2]')", forwarded: "json_extract(j.value, '$[3]')" };

/**
 * Stores session keys in `version` if it is still the current version, keeping the better key of
 * each session, and bumps the version's etag if anything changed. Both statements run in one
 * transaction; the etag statement looks at the keys before the write, so it needs nothing from
 * the write itself. Nothing is written if `version` is not the current one when they run.
 */
export async function putRoomKeys(db: D1Database, userId: string, version: number, keys: RoomKeyInput[]): Promise<void> {
  const rows = JSON.stringify(keys.map((k) => [k.roomId, k.sessionId, k.firstMessageIndex, k.forwardedCount, k.isVerified ? 1 : 0, k.sessionData]));
  await db.batch([
    db
      .prepare(
        `UPDATE e2e_room_keys_versions SET etag = etag + 1 WHERE user_id = ?1 AND version = ?2 AND ?2 = ${CURRENT_VERSION} AND EXISTS (
           SELECT 1 FROM json_each(?3) j LEFT JOIN e2e_room_keys k
             ON k.user_id = ?1 AND k.version = ?2 AND k.room_id = json_extract(j.value, '$[0]') AND k.session_id = json_extract(j.value, '$[1]')
           WHERE k.session_id IS NULL OR ${better(UPLOADED, STORED)})`,
      )
      .bind(userId, version, rows),
    db
      .prepare(
        `INSERT INTO e2e_room_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data)
         SELECT ?1, ?2, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), json_extract(j.value, '$[3]'),
                json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]')
         FROM json_each(?3) j WHERE ?2 = ${CURRENT_VERSION}
         ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET
           first_message_index = excluded.first_message_index, forwarded_count = excluded.forwarded_count,
           is_verified = excluded.is_verified, session_data = excluded.session_data
         WHERE ${better(
           { verified: "excluded.is_verified", index: "excluded.first_message_index", forwarded: "excluded.forwarded_count" },
           { verified: "e2e_room_keys.is_verified", index: "e2e_room_keys.first_message_index", forwarded: "e2e_room_keys.forwarded_count" },
         )}`,
      )
      .bind(userId, version, rows),
  ]);
}

/** Keys of a version, optionally of one room or one session. */
export async function roomKeys(db: D1Database, userId: string, version: number, roomId?: string, sessionId?: string): Promise<RoomKeyRow[]> {
  const { results } = await db
    .prepare(
      `SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data FROM e2e_room_keys
       WHERE user_id = ?1 AND version = ?2 AND (?3 IS NULL OR room_id = ?3) AND (?4 IS NULL OR session_id = ?4) ORDER BY room_id, session_id`,
    )
    .bind(userId, version, roomId ?? null, sessionId ?? null)
    .all<RoomKeyRow>();
  return results;
}

/** Deletes keys of a version (all, one room's or one session's), bumping its etag if any went. */
export async function deleteRoomKeys(db: D1Database, userId: string, version: number, roomId?: string, sessionId?: string): Promise<void> {
  const match = "user_id = ?1 AND version = ?2 AND (?3 IS NULL OR room_id = ?3) AND (?4 IS NULL OR session_id = ?4)";
  const args = [userId, version, roomId ?? null, sessionId ?? null];
  await db.batch([
    db.prepare(`UPDATE e2e_room_keys_versions SET etag = etag + 1 WHERE user_id = ?1 AND version = ?2 AND EXISTS (SELECT 1 FROM e2e_room_keys WHERE ${match})`).bind(...args),
    db.prepare(`DELETE FROM e2e_room_keys WHERE ${match}`).bind(...args),
  ]);
}

/** The etag and key count of a version. */
export async function backupEtagAndCount(db: D1Database, userId: string, version: number): Promise<{ etag: number; count: number }> {
  const row = await db
    .prepare(
      `SELECT v.etag AS etag, (SELECT COUNT(*) FROM e2e_room_keys k WHERE k.user_id = v.user_id AND k.version = v.version) AS count
       FROM e2e_room_keys_versions v WHERE v.user_id = ? AND v.version = ?`,
    )
    .bind(userId, version)
    .first<{ etag: number; count: number }>();
  return row ?? { etag: 0, count: 0 };
}
