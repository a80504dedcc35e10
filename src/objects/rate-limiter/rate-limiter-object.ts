/**
 * One rate-limit bucket per key (e.g. `login-ip:203.0.113.7`). A Durable Object gives every edge
 * location the same count, which per-isolate memory could not. Buckets live in memory only: an
 * evicted object starts full again, which errs on the side of letting a user in.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { benchFloor, type BenchFloorInput } from "../bench/bench-floor";
import { TokenBucket, type TakeResult } from "./token-bucket";

export class RateLimiterDurableObject extends DurableObject<Env> {
  private bucket: TokenBucket | undefined;
  private shape = "";

  take(burst: number, periodSeconds: number): TakeResult {
    const now = Date.now();
    const shape = `${burst}/${periodSeconds}`;
    if (!this.bucket || shape !== this.shape) {
      this.bucket = new TokenBucket(burst, periodSeconds * 1000, now);
      this.shape = shape;
    }
    return this.bucket.take(now);
  }

  /**
   * The benchmark floor (BENCHMARKS.md): one signature and one SQLite insert. It lives on this
   * class so benchmarks need no extra Durable Object class in production; only the route behind
   * BENCH_ROUTES=on (src/api/bench-floor.ts) calls it, and those objects hold nothing else.
   */
  benchFloor(input: BenchFloorInput): Promise<{ id: number; signed: boolean }> {
    return benchFloor(this.ctx.storage, this.env, input);
  }
}
