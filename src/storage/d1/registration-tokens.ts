/** SQL for registration tokens (spec: Client-Server § Token-authenticated registration). */

export interface RegistrationTokenRow {
  token: string;
  uses_allowed: number | null;
  pending: number;
  completed: number;
  expiry_time: number | null;
}

export function getRegistrationToken(db: D1Database, token: string): Promise<RegistrationTokenRow | null> {
  return db.prepare("SELECT * FROM registration_tokens WHERE token = ?").bind(token).first<RegistrationTokenRow>();
}

export async function insertRegistrationToken(
  db: D1Database,
  t: { token: string; usesAllowed: number | null; expiryTime: number | null },
): Promise<boolean> {
  const r = await db
    .prepare("INSERT INTO registration_tokens (token, uses_allowed, expiry_time) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(t.token, t.usesAllowed, t.expiryTime)
    .run();
  return r.meta.changes === 1;
}

/** Counts one completed registration, only while uses remain: a single statement decides. */
export function consumeRegistrationTokenStatement(db: D1Database, token: string, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE registration_tokens SET completed = completed + 1 WHERE token = ?
       AND (uses_allowed IS NULL OR completed < uses_allowed) AND (expiry_time IS NULL OR expiry_time > ?)`,
    )
    .bind(token, now);
}

/** Gives back a use spent by a registration that then failed. */
export function refundRegistrationTokenStatement(db: D1Database, token: string): D1PreparedStatement {
  return db.prepare("UPDATE registration_tokens SET completed = completed - 1 WHERE token = ? AND completed > 0").bind(token);
}
