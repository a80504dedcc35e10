/** Rate limits for login and registration (429 `M_LIMIT_EXCEEDED` with `retry_after_ms`). */
import type { RateLimit } from "../config";
import { limitExceeded } from "../api/errors";
import type { Deps } from "./deps";

export type RateLimitKind = "login-ip" | "login-account" | "register-ip";

export async function enforceRateLimit(deps: Deps, kind: RateLimitKind, key: string, limit: RateLimit): Promise<void> {
  if (!deps.config.rateLimits.enabled) return;
  const stub = deps.env.RATE_LIMITERS.getByName(`${kind}:${key}`);
  const result = await stub.take(limit.burst, limit.periodSeconds);
  if (!result.ok) throw limitExceeded(result.retryAfterMs);
}
