/**
 * The user object's check of a sync request's access token (docs/design/sync.md § Who checks a
 * sync's token). It keeps the D1 row of each token it has checked; the services that revoke
 * tokens or deactivate the account call `forget` once their D1 write is durable
 * (services/sessions.ts `sessionsRevoked`), so the next request reads D1 again.
 */
import type { TokenLookupRow } from "../../storage/d1/tokens";
import { CachedMap } from "./d1-cache";

/** A backstop only: rows are re-read this often even if no revocation is announced. */
export const SESSION_MAX_AGE_MS = 10 * 60_000;

export class SessionCache {
  private readonly rows: CachedMap<string, TokenLookupRow>;

  constructor(
    private readonly lookup: (tokenHash: string) => Promise<TokenLookupRow | undefined>,
    private readonly now: () => number,
  ) {
    this.rows = new CachedMap(SESSION_MAX_AGE_MS, now);
  }

  /**
   * The device the token signs in for `userId`, or undefined when this object won't accept it:
   * unknown, another user's, the account deactivated, expired, or the first use of a refreshed
   * pair (which must retire its predecessor in D1). The caller then takes the D1 path, which
   * answers each of those with the right error.
   */
  async deviceOf(userId: string, tokenHash: string): Promise<string | undefined> {
    const row = await this.rows.get(tokenHash, () => this.lookup(tokenHash));
    if (!row || row.user_id !== userId || row.deactivated || row.retire_refresh_hash !== null) return undefined;
    if (row.expires_ts !== null && row.expires_ts <= this.now()) return undefined;
    return row.device_id;
  }

  forget(): void {
    this.rows.invalidate();
  }
}
