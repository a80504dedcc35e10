/** SQL for pushers (migrations/0010_pushers.sql). No rules here: validation is in services/pushers.ts. */

export interface PusherRow {
  user_id: string;
  app_id: string;
  pushkey: string;
  kind: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  data: string;
  pushkey_ts: number;
  device_id: string | null;
}

export async function listPushers(db: D1Database, userId: string): Promise<PusherRow[]> {
  const res = await db.prepare("SELECT * FROM pushers WHERE user_id = ? ORDER BY app_id, pushkey").bind(userId).all<PusherRow>();
  return res.results;
}

/**
 * Creates or replaces the user's pusher for (app_id, pushkey). Unless `append`, in the same batch
 * (one D1 transaction) removes that pair's pushers of other users; their ids are returned so their
 * objects can be told.
 */
export async function upsertPusher(db: D1Database, row: PusherRow, append: boolean): Promise<string[]> {
  const upsert = db
    .prepare(
      `INSERT INTO pushers (user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, pushkey_ts, device_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name,
         device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang,
         data = excluded.data, pushkey_ts = excluded.pushkey_ts, device_id = excluded.device_id`,
    )
    .bind(
      row.user_id,
      row.app_id,
      row.pushkey,
      row.kind,
      row.app_display_name,
      row.device_display_name,
      row.profile_tag,
      row.lang,
      row.data,
      row.pushkey_ts,
      row.device_id,
    );
  if (append) {
    await upsert.run();
    return [];
  }
  const [removed] = await db.batch<{ user_id: string }>([
    db.prepare("DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id != ? RETURNING user_id").bind(row.app_id, row.pushkey, row.user_id),
    upsert,
  ]);
  return [...new Set((removed?.results ?? []).map((r) => r.user_id))];
}

/** Whether there was such a pusher to delete. */
export async function deletePusher(db: D1Database, userId: string, appId: string, pushkey: string): Promise<boolean> {
  const res = await db.prepare("DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?").bind(userId, appId, pushkey).run();
  return res.meta.changes > 0;
}
