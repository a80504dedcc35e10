/** SQL for access and refresh tokens, which are stored only as SHA-256 hashes. */

export interface TokenLookupRow {
  user_id: string;
  device_id: string;
  expires_ts: number | null;
  retire_refresh_hash: string | null;
  is_admin: number;
  is_guest: number;
  deactivated: number;
}

export function lookupAccessToken(db: D1Database, tokenHash: string): Promise<TokenLookupRow | null> {
  return db
    .prepare(
      `SELECT t.user_id, t.device_id, t.expires_ts, t.retire_refresh_hash, u.is_admin, u.is_guest, u.deactivated
       FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?`,
    )
    .bind(tokenHash)
    .first<TokenLookupRow>();
}

export function insertAccessTokenStatement(
  db: D1Database,
  t: {
    tokenHash: string;
    userId: string;
    deviceId: string;
    now: number;
    expiresTs: number | null;
    refreshTokenHash: string | null;
    retireRefreshHash?: string | null;
  },
): D1PreparedStatement {
  return db
    .prepare(
      "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_hash, retire_refresh_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.tokenHash, t.userId, t.deviceId, t.now, t.expiresTs, t.refreshTokenHash, t.retireRefreshHash ?? null);
}

export function insertRefreshTokenStatement(
  db: D1Database,
  t: { tokenHash: string; userId: string; deviceId: string; now: number },
): D1PreparedStatement {
  return db
    .prepare("INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts) VALUES (?, ?, ?, ?)")
    .bind(t.tokenHash, t.userId, t.deviceId, t.now);
}

export function getRefreshToken(
  db: D1Database,
  tokenHash: string,
): Promise<{ user_id: string; device_id: string; next_token_hash: string | null } | null> {
  return db
    .prepare("SELECT user_id, device_id, next_token_hash FROM refresh_tokens WHERE token_hash = ?")
    .bind(tokenHash)
    .first();
}

/**
 * Marks a refresh token as exchanged for `next`, but only if it is still in the state the caller
 * read (`expectedNext`), so two concurrent refreshes with one token can't both win.
 */
export function claimRefreshTokenStatement(db: D1Database, tokenHash: string, expectedNext: string | null, next: string): D1PreparedStatement {
  return db
    .prepare("UPDATE refresh_tokens SET next_token_hash = ? WHERE token_hash = ? AND next_token_hash IS ?")
    .bind(next, tokenHash, expectedNext);
}

/** Removes a refresh token and the access tokens it issued. */
export function deleteRefreshTokenStatements(db: D1Database, refreshTokenHash: string): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM access_tokens WHERE refresh_token_hash = ?").bind(refreshTokenHash),
    db.prepare("DELETE FROM refresh_tokens WHERE token_hash = ?").bind(refreshTokenHash),
  ];
}

/** First use of a refreshed pair: the refresh token it replaced is revoked for good. */
export function retirePredecessorStatements(db: D1Database, accessTokenHash: string, predecessorHash: string): D1PreparedStatement[] {
  return [
    ...deleteRefreshTokenStatements(db, predecessorHash),
    db.prepare("UPDATE access_tokens SET retire_refresh_hash = NULL WHERE token_hash = ?").bind(accessTokenHash),
  ];
}

export function deleteAccessTokenStatement(db: D1Database, tokenHash: string): D1PreparedStatement {
  return db.prepare("DELETE FROM access_tokens WHERE token_hash = ?").bind(tokenHash);
}

export function getAccessTokenRefreshHash(db: D1Database, tokenHash: string): Promise<{ refresh_token_hash: string | null } | null> {
  return db.prepare("SELECT refresh_token_hash FROM access_tokens WHERE token_hash = ?").bind(tokenHash).first();
}
