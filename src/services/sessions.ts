/**
 * Access and refresh tokens (spec: Client-Server § Client authentication, § Refreshing access
 * tokens). Tokens carry 256 random bits and only their SHA-256 lives in D1, which is the one
 * source of truth: a revoked token is refused on the very next request, everywhere (DESIGN §1).
 */
import type { Context } from "hono";
import type { AppEnv } from "../api/app-env";
import { MatrixError } from "../api/errors";
import {
  claimRefreshTokenStatement,
  deleteRefreshTokenStatements,
  getRefreshToken,
  insertAccessTokenStatement,
  insertRefreshTokenStatement,
  lookupAccessToken,
  retirePredecessorStatements,
  type TokenLookupRow,
} from "../storage/d1/tokens";
import { typedStub } from "../objects/rpc";
import type { UserDurableObject } from "../objects/user/user-object";
import type { Deps } from "./deps";
import { randomToken, sha256Hex } from "./random";

export interface Session {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  isGuest: boolean;
  accessTokenHash: string;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

function extractToken(c: Context<AppEnv>): string | undefined {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new MatrixError("M_MISSING_TOKEN", "Invalid Authorization header");
    return m[1];
  }
  // Deprecated in v1.11 but still part of the spec: the `access_token` query parameter.
  return c.req.query("access_token") || undefined;
}

export async function authenticateRequest(c: Context<AppEnv>, deps: Deps, optional: boolean): Promise<Session | undefined> {
  const token = extractToken(c);
  if (token === undefined) {
    if (optional) return undefined;
    throw new MatrixError("M_MISSING_TOKEN", "Missing access token");
  }
  return authenticateToken(deps, token);
}

export async function authenticateToken(deps: Deps, token: string): Promise<Session> {
  return authenticateTokenHash(deps, await sha256Hex(token));
}

async function authenticateTokenHash(deps: Deps, tokenHash: string): Promise<Session> {
  const row = await lookupAccessToken(deps.env.DB, tokenHash);
  if (!row || row.deactivated) throw new MatrixError("M_UNKNOWN_TOKEN", "Unrecognised access token", { soft_logout: false });
  if (row.expires_ts !== null && row.expires_ts <= deps.now()) {
    // An expired token from a refreshable session: the client should refresh, not log out.
    throw new MatrixError("M_UNKNOWN_TOKEN", "Access token has expired", { soft_logout: true });
  }
  if (row.retire_refresh_hash) {
    await deps.env.DB.batch(retirePredecessorStatements(deps.env.DB, tokenHash, row.retire_refresh_hash));
    await sessionsRevoked(deps, row.user_id);
  }
  return { userId: row.user_id, deviceId: row.device_id, isAdmin: row.is_admin === 1, isGuest: row.is_guest === 1, accessTokenHash: tokenHash };
}

// Sessions checked by the user object (docs/design/sync.md § Who checks a sync's token). /sync and
// sliding sync are long-polls a client repeats all the time, and each already calls the user's
// object: that object checks the token from its own copy of the D1 row, so a poll needs no D1
// read. D1 stays the source of truth: every write that revokes a token or deactivates an account
// calls `sessionsRevoked` once it is durable, and the object drops its copies, so a revoked token
// is refused on the very next request (DESIGN §1).

/**
 * Which user each token belongs to, once D1 has said so in this isolate. A token (a hash of 256
 * random bits) never changes owner, so this may be kept; whether it is still valid is the user
 * object's decision, made on every request.
 */
const tokenOwners = new Map<string, string>();
const MAX_TOKEN_OWNERS = 10_000;

/**
 * Auth for a request the user object answers: the user to route to and the token to check there;
 * `session` is set when D1 verified the token for this very request (the object need not check).
 */
export interface UserObjectAuth {
  userId: string;
  tokenHash: string;
  session?: Session;
}

export async function authenticateForUserObject(c: Context<AppEnv>, deps: Deps): Promise<UserObjectAuth> {
  const token = extractToken(c);
  if (token === undefined) throw new MatrixError("M_MISSING_TOKEN", "Missing access token");
  const tokenHash = await sha256Hex(token);
  const userId = tokenOwners.get(tokenHash);
  return userId !== undefined ? { userId, tokenHash } : verifyInD1(deps, tokenHash);
}

/**
 * The D1 path: used the first time an isolate sees a token, and whenever the user object refuses
 * one, so that every refusal carries the same error as any other route's (unknown, expired, soft
 * logout) and the first use of a refreshed pair retires its predecessor here.
 */
export async function verifyInD1(deps: Deps, tokenHash: string): Promise<Required<UserObjectAuth>> {
  tokenOwners.delete(tokenHash);
  const session = await authenticateTokenHash(deps, tokenHash);
  if (tokenOwners.size >= MAX_TOKEN_OWNERS) tokenOwners.clear();
  tokenOwners.set(tokenHash, session.userId);
  return { userId: session.userId, tokenHash, session };
}

/**
 * Runs a step that may refuse the request before the user object has checked the token: if it
 * throws, the token is verified in D1 first, so a bad token is reported before bad input, as on
 * every other route.
 */
export async function authFirst<T>(deps: Deps, auth: UserObjectAuth, step: () => Promise<T> | T): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!auth.session) await verifyInD1(deps, auth.tokenHash);
    throw err;
  }
}

/** The row the user object keeps for a token (objects/user/sessions.ts); undefined if none. */
export async function sessionRow(deps: Deps, tokenHash: string): Promise<TokenLookupRow | undefined> {
  return (await lookupAccessToken(deps.env.DB, tokenHash)) ?? undefined;
}

/**
 * Call after a D1 write that revoked any of the user's tokens or devices, or deactivated them: the
 * user object drops the sessions (and the key counts of devices) it copied from D1. Errors
 * propagate, so a revocation that could not reach the object is not reported as done.
 */
export async function sessionsRevoked(deps: Deps, userId: string): Promise<void> {
  await typedStub<UserDurableObject, "forgetSessions">(deps.env.USERS.getByName(userId)).forgetSessions(userId);
}

/**
 * Statements that create a new token pair for a device, plus the tokens to hand to the client.
 * With `refresh`, the access token expires and a refresh token comes with it.
 */
export async function newTokenPair(
  deps: Deps,
  userId: string,
  deviceId: string,
  refresh: boolean,
): Promise<{ tokens: IssuedTokens; statements: D1PreparedStatement[] }> {
  const db = deps.env.DB;
  const now = deps.now();
  const accessToken = `syt_${randomToken(32)}`;
  const accessHash = await sha256Hex(accessToken);
  if (!refresh) {
    return {
      tokens: { access_token: accessToken },
      statements: [insertAccessTokenStatement(db, { tokenHash: accessHash, userId, deviceId, now, expiresTs: null, refreshTokenHash: null })],
    };
  }
  const refreshToken = `syr_${randomToken(32)}`;
  const refreshHash = await sha256Hex(refreshToken);
  const lifetime = deps.config.accessTokenLifetimeMs;
  return {
    tokens: { access_token: accessToken, refresh_token: refreshToken, expires_in_ms: lifetime },
    statements: [
      insertRefreshTokenStatement(db, { tokenHash: refreshHash, userId, deviceId, now }),
      insertAccessTokenStatement(db, { tokenHash: accessHash, userId, deviceId, now, expiresTs: now + lifetime, refreshTokenHash: refreshHash }),
    ],
  };
}

/**
 * POST /refresh (spec: Client-Server § Refreshing access tokens). The old refresh token stays
 * valid until the new pair is first used, so a client that lost the response can retry; from then
 * on it is refused. The exchange is claimed with a compare-and-set inside one D1 batch, so two
 * concurrent refreshes with one token cannot both produce a live pair.
 */
export async function refreshSession(deps: Deps, refreshToken: string): Promise<IssuedTokens> {
  const db = deps.env.DB;
  const oldHash = await sha256Hex(refreshToken);
  const row = await getRefreshToken(db, oldHash);
  if (!row) throw new MatrixError("M_UNKNOWN_TOKEN", "Unknown refresh token", { soft_logout: false });

  const now = deps.now();
  const accessToken = `syt_${randomToken(32)}`;
  const newRefresh = `syr_${randomToken(32)}`;
  const accessHash = await sha256Hex(accessToken);
  const newHash = await sha256Hex(newRefresh);
  const lifetime = deps.config.accessTokenLifetimeMs;
  const claimed = "EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ? AND next_token_hash = ?)";
  const results = await db.batch([
    claimRefreshTokenStatement(db, oldHash, row.next_token_hash, newHash),
    // Using this token proves its predecessor is no longer needed.
    db.prepare("DELETE FROM access_tokens WHERE refresh_token_hash IN (SELECT token_hash FROM refresh_tokens WHERE next_token_hash = ?)").bind(oldHash),
    db.prepare("DELETE FROM refresh_tokens WHERE next_token_hash = ?").bind(oldHash),
    // A pair issued by an earlier, unused exchange of this same token is replaced.
    ...(row.next_token_hash ? deleteRefreshTokenStatements(db, row.next_token_hash) : []),
    db
      .prepare(`INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts) SELECT ?, ?, ?, ? WHERE ${claimed}`)
      .bind(newHash, row.user_id, row.device_id, now, oldHash, newHash),
    db
      .prepare(
        `INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_hash, retire_refresh_hash)
         SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${claimed}`,
      )
      .bind(accessHash, row.user_id, row.device_id, now, now + lifetime, newHash, oldHash, oldHash, newHash),
  ]);
  // The batch revoked the predecessor's access tokens (and any unused pair).
  await sessionsRevoked(deps, row.user_id);
  if (results[0]?.meta.changes !== 1) throw new MatrixError("M_UNKNOWN_TOKEN", "Refresh token was used concurrently", { soft_logout: false });
  return { access_token: accessToken, refresh_token: newRefresh, expires_in_ms: lifetime };
}
