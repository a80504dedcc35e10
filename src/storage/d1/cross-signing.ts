/**
 * SQL for cross-signing keys (migrations/0006_e2ee_keys.sql) and the signatures uploaded for
 * keys (migrations/0009_key_backup.sql). No rules here; services/cross-signing.ts decides.
 */

export type CrossSigningKeyType = "master" | "self_signing" | "user_signing";

const NO_MASTER_KEY = "NOT EXISTS (SELECT 1 FROM e2e_cross_signing_keys WHERE user_id = ? AND key_type = 'master')";

/**
 * Statements storing a user's cross-signing keys, master key last. With `onlyIfNoMasterKey` every
 * statement is guarded by "the user has no master key yet" (evaluated inside the batch, which is
 * one transaction): a first setup, which needs no UIA, can't overwrite keys set up meanwhile by a
 * concurrent request. The caller reads the master statement's `changes` to know if it happened.
 */
export function putCrossSigningKeysStatements(
  db: D1Database,
  userId: string,
  keys: { type: CrossSigningKeyType; json: string }[],
  now: number,
  onlyIfNoMasterKey: boolean,
): D1PreparedStatement[] {
  const ordered = [...keys.filter((k) => k.type !== "master"), ...keys.filter((k) => k.type === "master")];
  return ordered.map((k) =>
    onlyIfNoMasterKey
      ? db
          .prepare(
            `INSERT INTO e2e_cross_signing_keys (user_id, key_type, key_json, updated_ts) SELECT ?, ?, ?, ? WHERE ${NO_MASTER_KEY}
             ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json, updated_ts = excluded.updated_ts`,
          )
          .bind(userId, k.type, k.json, now, userId)
      : db
          .prepare(
            `INSERT INTO e2e_cross_signing_keys (user_id, key_type, key_json, updated_ts) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, key_type) DO UPDATE SET key_json = excluded.key_json, updated_ts = excluded.updated_ts`,
          )
          .bind(userId, k.type, k.json, now),
  );
}

export interface SignatureRow {
  signer_user_id: string;
  signing_key_id: string;
  target_user_id: string;
  target_key_id: string;
  signature: string;
}

/** Stores signatures; the same signer and signing key on the same target replaces the old signature. */
export async function putSignatures(db: D1Database, rows: SignatureRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .prepare(
      `INSERT INTO e2e_cross_signing_signatures (signer_user_id, signing_key_id, target_user_id, target_key_id, signature)
       SELECT json_extract(value, '$.signer_user_id'), json_extract(value, '$.signing_key_id'), json_extract(value, '$.target_user_id'),
              json_extract(value, '$.target_key_id'), json_extract(value, '$.signature') FROM json_each(?) WHERE true
       ON CONFLICT (target_user_id, target_key_id, signer_user_id, signing_key_id) DO UPDATE SET signature = excluded.signature`,
    )
    .bind(JSON.stringify(rows))
    .run();
}

/**
 * Signatures on keys of these users made by the key's owner, or by `viewer` (whose signatures of
 * other users' master keys only they may see, as Synapse does).
 */
export async function signaturesOnKeysOf(db: D1Database, userIds: string[], viewer: string): Promise<SignatureRow[]> {
  if (userIds.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT signer_user_id, signing_key_id, target_user_id, target_key_id, signature FROM e2e_cross_signing_signatures
       WHERE target_user_id IN (SELECT value FROM json_each(?)) AND (signer_user_id = target_user_id OR signer_user_id = ?)`,
    )
    .bind(JSON.stringify(userIds), viewer)
    .all<SignatureRow>();
  return results;
}

/** Statement removing the signatures on a device's keys (it is being deleted). */
export function deleteSignaturesOnDeviceStatement(db: D1Database, userId: string, deviceId: string): D1PreparedStatement {
  return db.prepare("DELETE FROM e2e_cross_signing_signatures WHERE target_user_id = ? AND target_key_id = ?").bind(userId, deviceId);
}
