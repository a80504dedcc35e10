/** SQL for the `account_data` table. `room_id` is '' for global account data. */

export const GLOBAL_ROOM = "";

export interface AccountDataRow {
  room_id: string;
  type: string;
  /** JSON text of an object. */
  content: string;
}

export async function getAccountData(db: D1Database, userId: string, roomId: string, type: string): Promise<string | null> {
  const row = await db
    .prepare("SELECT content FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?")
    .bind(userId, roomId, type)
    .first<{ content: string }>();
  return row?.content ?? null;
}

export async function putAccountData(db: D1Database, a: { userId: string; roomId: string; type: string; content: string; now: number }): Promise<void> {
  await db
    .prepare(
      `INSERT INTO account_data (user_id, room_id, type, content, updated_ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, updated_ts = excluded.updated_ts`,
    )
    .bind(a.userId, a.roomId, a.type, a.content, a.now)
    .run();
}

/**
 * Sets or removes one key of an object held under a top-level key of the content (the tags of
 * `m.tag`), in one statement so concurrent changes to different keys don't overwrite each other.
 * `value` null removes the key. Uses JSON merge patches (RFC 7396): the first removes the key,
 * the second sets it, so a new value replaces the old one instead of merging into it. As in any
 * merge patch, null members inside `value` are dropped.
 */
export async function patchAccountDataEntry(
  db: D1Database,
  a: { userId: string; roomId: string; type: string; field: string; key: string; value: object | null; now: number },
): Promise<void> {
  const remove = JSON.stringify({ [a.field]: { [a.key]: null } });
  const set = a.value === null ? "{}" : JSON.stringify({ [a.field]: { [a.key]: a.value } });
  const initial = JSON.stringify({ [a.field]: {} });
  await db
    .prepare(
      `INSERT INTO account_data (user_id, room_id, type, content, updated_ts) VALUES (?1, ?2, ?3, json_patch(?4, ?5), ?6)
       ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = json_patch(json_patch(content, ?7), ?5), updated_ts = ?6`,
    )
    .bind(a.userId, a.roomId, a.type, initial, set, a.now, remove)
    .run();
}

/** Every account data entry of the user, global and per room. */
export async function listAccountData(db: D1Database, userId: string): Promise<AccountDataRow[]> {
  const { results } = await db
    .prepare("SELECT room_id, type, content FROM account_data WHERE user_id = ? ORDER BY room_id, type")
    .bind(userId)
    .all<AccountDataRow>();
  return results;
}

/**
 * The given entries of the user, as [roomId, type] pairs. The pairs travel as one JSON parameter,
 * so any number of them is one statement within D1's bound-parameter limit.
 */
export async function selectAccountData(db: D1Database, userId: string, keys: [roomId: string, type: string][]): Promise<AccountDataRow[]> {
  if (keys.length === 0) return [];
  const { results } = await db
    .prepare(
      `SELECT room_id, type, content FROM account_data
       WHERE user_id = ?1 AND (room_id, type) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2))
       ORDER BY room_id, type`,
    )
    .bind(userId, JSON.stringify(keys))
    .all<AccountDataRow>();
  return results;
}
