/**
 * SQL for end-to-end encryption keys (migrations/0006_e2ee_keys.sql): device keys, one-time keys,
 * fallback keys and cross-signing keys. No rules here; services/e2ee-keys.ts decides.
 *
 * Every write for a device is guarded by `EXISTS (SELECT 1 FROM devices …)` in the same statement,
 * so an upload racing the device's deletion can't leave keys behind without a device.
 */
import { deleteSignaturesOnDeviceStatement } from "./cross-signing";

const DEVICE_EXISTS = "EXISTS (SELECT 1 FROM devices WHERE user_id = ? AND device_id = ?)";

export function getDeviceKeys(db: D1Database, userId: string, deviceId: string): Promise<{ key_json: string } | null> {
  return db.prepare("SELECT key_json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?").bind(userId, deviceId).first();
}

/**
 * Stores a device's keys unless different identity keys are already stored for it: the update only
 * happens when the stored `keys` object equals the new one (both are canonical JSON, so equal
 * objects have equal text). Returns false when nothing was written — the device is gone, or its
 * stored identity keys differ.
 */
export async function putDeviceKeys(db: D1Database, k: { userId: string; deviceId: string; json: string; now: number }): Promise<boolean> {
  const r = await db
    .prepare(
      `INSERT INTO e2e_device_keys (user_id, device_id, key_json, updated_ts) SELECT ?, ?, ?, ? WHERE ${DEVICE_EXISTS}
       ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json, updated_ts = excluded.updated_ts
       WHERE json_extract(e2e_device_keys.key_json, '$.keys') = json_extract(excluded.key_json, '$.keys')`,
    )
    .bind(k.userId, k.deviceId, k.json, k.now, k.userId, k.deviceId)
    .run();
  return r.meta.changes === 1;
}

/** Stored one-time keys of a device among `keyIds` (`<algorithm>:<id>`), key id → JSON. */
export async function oneTimeKeysById(db: D1Database, userId: string, deviceId: string, keyIds: string[]): Promise<Map<string, string>> {
  const { results } = await db
    .prepare("SELECT key_id, key_json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND key_id IN (SELECT value FROM json_each(?))")
    .bind(userId, deviceId, JSON.stringify(keyIds))
    .all<{ key_id: string; key_json: string }>();
  return new Map(results.map((r) => [r.key_id, r.key_json]));
}

/**
 * Adds one-time keys in one statement, so either all of them are stored or none: a key id stored
 * meanwhile by a concurrent upload makes it fail on the unique index (the caller checks again).
 */
export async function insertOneTimeKeys(
  db: D1Database,
  k: { userId: string; deviceId: string; keys: { algorithm: string; keyId: string; json: string }[]; now: number },
): Promise<void> {
  if (k.keys.length === 0) return;
  const rows = k.keys.map((key) => [key.algorithm, key.keyId, key.json]);
  await db
    .prepare(
      `INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, key_json, created_ts)
       SELECT ?, ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), ? FROM json_each(?)
       WHERE ${DEVICE_EXISTS} ORDER BY key`,
    )
    .bind(k.userId, k.deviceId, k.now, JSON.stringify(rows), k.userId, k.deviceId)
    .run();
}

/** Unclaimed one-time keys of a device, by algorithm. */
export async function countOneTimeKeys(db: D1Database, userId: string, deviceId: string): Promise<Record<string, number>> {
  const { results } = await db
    .prepare("SELECT algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm")
    .bind(userId, deviceId)
    .all<{ algorithm: string; n: number }>();
  return Object.fromEntries(results.map((r) => [r.algorithm, r.n]));
}

/**
 * Sets a device's fallback key for one algorithm. The same key uploaded again keeps its `used`
 * mark (as in Synapse: clients re-upload the key they have); a new key starts unused.
 */
export function putFallbackKeyStatement(
  db: D1Database,
  k: { userId: string; deviceId: string; algorithm: string; keyId: string; json: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) SELECT ?, ?, ?, ?, ?, 0 WHERE ${DEVICE_EXISTS}
       ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, key_json = excluded.key_json, used = 0
       WHERE e2e_fallback_keys.key_id != excluded.key_id OR e2e_fallback_keys.key_json != excluded.key_json`,
    )
    .bind(k.userId, k.deviceId, k.algorithm, k.keyId, k.json, k.userId, k.deviceId);
}

/** Algorithms for which the device has a fallback key that hasn't been handed out. */
export async function unusedFallbackKeyTypes(db: D1Database, userId: string, deviceId: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm")
    .bind(userId, deviceId)
    .all<{ algorithm: string }>();
  return results.map((r) => r.algorithm);
}

export interface KeyClaim {
  userId: string;
  deviceId: string;
  algorithm: string;
}

export interface ClaimedKey {
  user_id: string;
  device_id: string;
  key_id: string;
  key_json: string;
}

const CLAIMS = `SELECT json_extract(value, '$[0]') AS u, json_extract(value, '$[1]') AS d, json_extract(value, '$[2]') AS a FROM json_each(?)`;

/**
 * Claims the oldest one-time key of each (user, device, algorithm), all in one DELETE … RETURNING:
 * the statement is atomic, so a key is handed out exactly once however many claims race for it.
 */
export async function claimOneTimeKeys(db: D1Database, claims: KeyClaim[]): Promise<ClaimedKey[]> {
  if (claims.length === 0) return [];
  const { results } = await db
    .prepare(
      `DELETE FROM e2e_one_time_keys WHERE id IN (
         SELECT (SELECT o.id FROM e2e_one_time_keys o WHERE o.user_id = c.u AND o.device_id = c.d AND o.algorithm = c.a ORDER BY o.id LIMIT 1)
         FROM (${CLAIMS}) c)
       RETURNING user_id, device_id, key_id, key_json`,
    )
    .bind(JSON.stringify(claims.map((c) => [c.userId, c.deviceId, c.algorithm])))
    .all<ClaimedKey>();
  return results;
}

/** Hands out the fallback key of each (user, device, algorithm), marking it used. */
export async function claimFallbackKeys(db: D1Database, claims: KeyClaim[]): Promise<ClaimedKey[]> {
  if (claims.length === 0) return [];
  const { results } = await db
    .prepare(
      `UPDATE e2e_fallback_keys SET used = 1 WHERE (user_id, device_id, algorithm) IN (SELECT u, d, a FROM (${CLAIMS}))
       RETURNING user_id, device_id, key_id, key_json`,
    )
    .bind(JSON.stringify(claims.map((c) => [c.userId, c.deviceId, c.algorithm])))
    .all<ClaimedKey>();
  return results;
}

export interface DeviceKeysRow {
  user_id: string;
  device_id: string;
  key_json: string;
  display_name: string | null;
}

/** The device keys of every device of these users that has uploaded some, with the device's display name. */
export async function deviceKeysOfUsers(db: D1Database, userIds: string[]): Promise<DeviceKeysRow[]> {
  if (userIds.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT k.user_id, k.device_id, k.key_json, d.display_name FROM e2e_device_keys k
       JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id
       WHERE k.user_id IN (SELECT value FROM json_each(?)) ORDER BY k.user_id, k.device_id`,
    )
    .bind(JSON.stringify(userIds))
    .all<DeviceKeysRow>();
  return results;
}

/** Stored cross-signing keys of these users: `master`, `self_signing`, `user_signing`. */
export async function crossSigningKeysOfUsers(db: D1Database, userIds: string[]): Promise<{ user_id: string; key_type: string; key_json: string }[]> {
  if (userIds.length === 0) return [];
  const { results } = await db
    .prepare("SELECT user_id, key_type, key_json FROM e2e_cross_signing_keys WHERE user_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(userIds))
    .all<{ user_id: string; key_type: string; key_json: string }>();
  return results;
}

/**
 * Statements removing every key of a device (it is being deleted), the signatures on its keys,
 * and its dehydrated-device record if it is the user's dehydrated device (MSC3814).
 */
export function deleteDeviceKeysStatements(db: D1Database, userId: string, deviceId: string): D1PreparedStatement[] {
  return [
    ...["e2e_device_keys", "e2e_one_time_keys", "e2e_fallback_keys", "e2e_dehydrated_devices"].map((table) =>
      db.prepare(`DELETE FROM ${table} WHERE user_id = ? AND device_id = ?`).bind(userId, deviceId),
    ),
    deleteSignaturesOnDeviceStatement(db, userId, deviceId),
  ];
}
