/** SQL for User-Interactive Authentication sessions. */

export interface UiaSessionRow {
  session_id: string;
  endpoint: string;
  user_id: string | null;
  completed: string;
  data: string;
  created_ts: number;
}

export function getUiaSession(db: D1Database, sessionId: string): Promise<UiaSessionRow | null> {
  return db.prepare("SELECT * FROM uia_sessions WHERE session_id = ?").bind(sessionId).first<UiaSessionRow>();
}

export async function insertUiaSession(db: D1Database, s: { sessionId: string; endpoint: string; userId: string | null; now: number }): Promise<void> {
  await db
    .prepare("INSERT INTO uia_sessions (session_id, endpoint, user_id, completed, created_ts) VALUES (?, ?, ?, '[]', ?)")
    .bind(s.sessionId, s.endpoint, s.userId, s.now)
    .run();
}

export async function setUiaProgress(db: D1Database, sessionId: string, completed: string[], data: Record<string, string>): Promise<void> {
  await db
    .prepare("UPDATE uia_sessions SET completed = ?, data = ? WHERE session_id = ?")
    .bind(JSON.stringify(completed), JSON.stringify(data), sessionId)
    .run();
}

export async function deleteUiaSession(db: D1Database, sessionId: string): Promise<void> {
  await db.prepare("DELETE FROM uia_sessions WHERE session_id = ?").bind(sessionId).run();
}

export async function deleteExpiredUiaSessions(db: D1Database, olderThan: number): Promise<void> {
  await db.prepare("DELETE FROM uia_sessions WHERE created_ts < ?").bind(olderThan).run();
}
