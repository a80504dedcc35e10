/** SQL for content reports (spec: Client-Server § Reporting content). */

export interface NewReport {
  roomId: string;
  /** Null for a report about the whole room. */
  eventId: string | null;
  reporter: string;
  reason: string | null;
  score: number | null;
  now: number;
}

export async function insertReport(db: D1Database, r: NewReport): Promise<void> {
  await db
    .prepare("INSERT INTO event_reports (room_id, event_id, reporter, reason, score, received_ts) VALUES (?, ?, ?, ?, ?, ?)")
    .bind(r.roomId, r.eventId, r.reporter, r.reason, r.score, r.now)
    .run();
}

export async function insertUserReport(db: D1Database, r: { target: string; reporter: string; reason: string; now: number }): Promise<void> {
  await db.prepare("INSERT INTO user_reports (target_user_id, reporter, reason, received_ts) VALUES (?, ?, ?, ?)").bind(r.target, r.reporter, r.reason, r.now).run();
}
