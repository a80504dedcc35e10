/** SQL for the `users` table. No business rules here. */

export interface UserRow {
  user_id: string;
  localpart: string;
  password_hash: string | null;
  is_admin: number;
  is_guest: number;
  deactivated: number;
  created_ts: number;
  displayname: string | null;
  avatar_url: string | null;
}

export function getUser(db: D1Database, userId: string): Promise<UserRow | null> {
  return db.prepare("SELECT * FROM users WHERE user_id = ?").bind(userId).first<UserRow>();
}

/** Inserts a user; returns false when the id is taken (the unique key decides, so two racing registrations can't both win). */
export async function insertUser(
  db: D1Database,
  user: { userId: string; localpart: string; passwordHash: string | null; isAdmin: boolean; displayname: string | null; createdTs: number },
): Promise<boolean> {
  const result = await db
    .prepare(
      "INSERT INTO users (user_id, localpart, password_hash, is_admin, created_ts, displayname) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(user.userId, user.localpart, user.passwordHash, user.isAdmin ? 1 : 0, user.createdTs, user.displayname)
    .run();
  return result.meta.changes === 1;
}

export function setPasswordHashStatement(db: D1Database, userId: string, hash: string | null): D1PreparedStatement {
  return db.prepare("UPDATE users SET password_hash = ? WHERE user_id = ?").bind(hash, userId);
}

export function deactivateUserStatement(db: D1Database, userId: string): D1PreparedStatement {
  return db
    .prepare("UPDATE users SET deactivated = 1, password_hash = NULL, displayname = NULL, avatar_url = NULL WHERE user_id = ?")
    .bind(userId);
}

export async function setProfileField(db: D1Database, userId: string, field: "displayname" | "avatar_url", value: string | null): Promise<void> {
  // The column name comes from a closed union, never from input.
  await db.prepare(`UPDATE users SET ${field} = ? WHERE user_id = ?`).bind(value, userId).run();
}
