/** SQL for this server's own signing keys. */

export interface ServerKeyRow {
  key_id: string;
  seed: string;
  public_key: string;
  created_ts: number;
  expired_ts: number | null;
}

export async function listServerKeys(db: D1Database): Promise<ServerKeyRow[]> {
  const { results } = await db.prepare("SELECT * FROM server_signing_keys ORDER BY created_ts").all<ServerKeyRow>();
  return results;
}

/**
 * Stores a freshly generated key unless a current key already exists. The conditional insert runs
 * as one statement, so two isolates starting at once end up agreeing on the same key.
 */
export async function insertFirstServerKey(db: D1Database, row: Omit<ServerKeyRow, "expired_ts">): Promise<void> {
  await db
    .prepare(
      `INSERT INTO server_signing_keys (key_id, seed, public_key, created_ts)
       SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM server_signing_keys WHERE expired_ts IS NULL)`,
    )
    .bind(row.key_id, row.seed, row.public_key, row.created_ts)
    .run();
}
