/** SQL for stored filters (spec: Client-Server § Filtering). */

/**
 * Stores a filter and returns its id, or the id of the user's identical filter if there is one.
 * The id is the user's highest plus one, taken in the INSERT itself: D1 runs one statement at a
 * time, so two concurrent uploads can't get the same id (and the primary key would refuse it).
 */
export async function insertFilter(db: D1Database, userId: string, json: string, now: number): Promise<number> {
  const [, found] = await db.batch<{ filter_id: number }>([
    db
      .prepare(
        `INSERT INTO filters (user_id, filter_id, json, created_ts)
         SELECT ?1, (SELECT COALESCE(MAX(filter_id), -1) + 1 FROM filters WHERE user_id = ?1), ?2, ?3
         WHERE NOT EXISTS (SELECT 1 FROM filters WHERE user_id = ?1 AND json = ?2)`,
      )
      .bind(userId, json, now),
    db.prepare("SELECT filter_id FROM filters WHERE user_id = ? AND json = ? ORDER BY filter_id LIMIT 1").bind(userId, json),
  ]);
  const id = found?.results[0]?.filter_id;
  if (id === undefined) throw new Error("filter insert returned no id");
  return id;
}

/** The JSON text of one of the user's filters. */
export async function getFilter(db: D1Database, userId: string, filterId: number): Promise<string | undefined> {
  const row = await db.prepare("SELECT json FROM filters WHERE user_id = ? AND filter_id = ?").bind(userId, filterId).first<{ json: string }>();
  return row?.json;
}
