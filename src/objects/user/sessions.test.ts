import { describe, expect, it } from "vitest";
import type { TokenLookupRow } from "../../storage/d1/tokens";
import { CachedMap } from "./d1-cache";
import { SESSION_MAX_AGE_MS, SessionCache } from "./sessions";

const ALICE = "@alice:a.test";

const row = (over: Partial<TokenLookupRow> = {}): TokenLookupRow => ({
  user_id: ALICE,
  device_id: "PHONE",
  expires_ts: null,
  retire_refresh_hash: null,
  is_admin: 0,
  is_guest: 0,
  deactivated: 0,
  ...over,
});

/** A D1 stand-in: the rows by token hash, and how many reads were made. */
function d1(rows: Record<string, TokenLookupRow>) {
  const db = { rows, reads: 0 };
  const lookup = async (hash: string) => {
    db.reads += 1;
    return db.rows[hash];
  };
  return { db, lookup };
}

describe("SessionCache", () => {
  it("reads D1 once per token, then answers from memory until told to forget", async () => {
    const { db, lookup } = d1({ t1: row() });
    const cache = new SessionCache(lookup, () => 0);
    expect(await cache.deviceOf(ALICE, "t1")).toBe("PHONE");
    expect(await cache.deviceOf(ALICE, "t1")).toBe("PHONE");
    expect(db.reads).toBe(1);
    delete db.rows.t1;
    cache.forget();
    expect(await cache.deviceOf(ALICE, "t1")).toBeUndefined();
  });

  it("refuses another user's token, a deactivated account, an expired token and a pair that must retire its predecessor", async () => {
    const clock = { t: 1000 };
    const { lookup } = d1({
      bob: row({ user_id: "@bob:a.test" }),
      gone: row({ deactivated: 1 }),
      expiring: row({ expires_ts: 2000 }),
      fresh: row({ retire_refresh_hash: "old" }),
    });
    const cache = new SessionCache(lookup, () => clock.t);
    expect(await cache.deviceOf(ALICE, "bob")).toBeUndefined();
    expect(await cache.deviceOf(ALICE, "gone")).toBeUndefined();
    expect(await cache.deviceOf(ALICE, "fresh")).toBeUndefined();
    expect(await cache.deviceOf(ALICE, "expiring")).toBe("PHONE");
    clock.t = 2000;
    // Held in memory, and still refused once its time is up.
    expect(await cache.deviceOf(ALICE, "expiring")).toBeUndefined();
  });

  it("re-reads a row older than the backstop age", async () => {
    const clock = { t: 0 };
    const { db, lookup } = d1({ t1: row() });
    const cache = new SessionCache(lookup, () => clock.t);
    await cache.deviceOf(ALICE, "t1");
    clock.t = SESSION_MAX_AGE_MS;
    delete db.rows.t1;
    expect(await cache.deviceOf(ALICE, "t1")).toBeUndefined();
  });
});

describe("CachedMap", () => {
  it("does not keep a read that a change overtook", async () => {
    const cache = new CachedMap<string, number>(Infinity);
    let release!: (v: number) => void;
    const stale = cache.get("k", () => new Promise<number>((r) => (release = r)));
    cache.invalidate(); // e.g. a revocation landed while D1 was being read
    release(1);
    expect(await stale).toBe(1);
    expect(await cache.get("k", async () => 2)).toBe(2);
  });

  it("keeps nothing for a miss and stays within its size", async () => {
    const cache = new CachedMap<number, number>(Infinity, () => 0, 2);
    let reads = 0;
    const load = (v: number | undefined) => async () => {
      reads += 1;
      return v;
    };
    expect(await cache.get(1, load(undefined))).toBeUndefined();
    expect(await cache.get(1, load(10))).toBe(10);
    expect(reads).toBe(2);
    await cache.get(2, load(20));
    await cache.get(3, load(30)); // full: starts over
    expect(await cache.get(1, load(11))).toBe(11);
  });
});
