/** A token bucket: `burst` requests at once, refilled evenly over `periodSeconds`. */
export type TakeResult = { ok: true } | { ok: false; retryAfterMs: number };

export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly burst: number,
    private readonly periodMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updated = now;
  }

  take(now: number): TakeResult {
    const refillPerMs = this.burst / this.periodMs;
    this.tokens = Math.min(this.burst, this.tokens + (now - this.updated) * refillPerMs);
    this.updated = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - this.tokens) / refillPerMs) };
  }
}
