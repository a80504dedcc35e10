import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import { PRESENCE_CURRENTLY_ACTIVE_MS, PRESENCE_IDLE_MS, PRESENCE_REFRESH_MS, presenceContent, type PresenceUpdate } from "./presence";
import { migrate } from "./schema";
import { SyncEngine } from "./sync-engine";
import { UserStore } from "./user-store";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";

function engine(userId: string, clock: { t: number }) {
  const sql = nodeSql();
  migrate(sql);
  return new SyncEngine(new UserStore(sql), userId, () => clock.t);
}

const update = (seq: number, presence: PresenceUpdate["presence"], lastActiveTs: number, statusMsg: string | null = null): PresenceUpdate => ({
  userId: ALICE,
  presence,
  statusMsg,
  lastActiveTs,
  seq,
});

describe("presence content, computed when read", () => {
  it("derives last_active_ago, currently_active and the idle timeout from the last-active time", () => {
    const now = 10_000_000;
    expect(presenceContent({ presence: "online", statusMsg: "here", lastActiveTs: now - 1000 }, now)).toEqual({
      presence: "online",
      last_active_ago: 1000,
      status_msg: "here",
      currently_active: true,
    });
    expect(presenceContent({ presence: "online", statusMsg: null, lastActiveTs: now - PRESENCE_CURRENTLY_ACTIVE_MS }, now)).toEqual({
      presence: "online",
      last_active_ago: PRESENCE_CURRENTLY_ACTIVE_MS,
      currently_active: false,
    });
    // Online but idle past the timeout reads as unavailable (spec: § Idle timeout).
    expect(presenceContent({ presence: "online", statusMsg: null, lastActiveTs: now - PRESENCE_IDLE_MS }, now)).toEqual({
      presence: "unavailable",
      last_active_ago: PRESENCE_IDLE_MS,
    });
    expect(presenceContent({ presence: "offline", statusMsg: null, lastActiveTs: null }, now)).toEqual({ presence: "offline" });
  });
});

describe("a user's own presence", () => {
  it("is offline until set; a sync marks it online and bumps last active; PUT sets both fields", () => {
    const clock = { t: 1_000_000 };
    const e = engine(ALICE, clock);
    expect(e.presence.current(clock.t)).toEqual({ presence: "offline" });

    expect(e.applyPresence({ kind: "sync" })).toMatchObject({ userId: ALICE, presence: "online", lastActiveTs: 1_000_000, seq: 1 });
    clock.t += 30_000;
    expect(e.presence.current(clock.t)).toEqual({ presence: "online", last_active_ago: 30_000, currently_active: true });

    e.applyPresence({ kind: "set", presence: "unavailable", statusMsg: "lunch" });
    clock.t += 5_000;
    expect(e.presence.current(clock.t)).toEqual({ presence: "unavailable", last_active_ago: 5_000, status_msg: "lunch" });
  });

  it("set_presence=offline changes nothing; unavailable marks idle without counting as activity", () => {
    const clock = { t: 1_000_000 };
    const e = engine(ALICE, clock);
    e.applyPresence({ kind: "set", presence: "unavailable", statusMsg: "away" });
    clock.t += 10_000;
    expect(e.applyPresence({ kind: "sync", setPresence: "offline" })).toBeUndefined();
    expect(e.presence.current(clock.t)).toEqual({ presence: "unavailable", last_active_ago: 10_000, status_msg: "away" });

    e.applyPresence({ kind: "sync" });
    clock.t += 10_000;
    const pushed = e.applyPresence({ kind: "sync", setPresence: "unavailable" });
    expect(pushed).toMatchObject({ presence: "unavailable", statusMsg: "away", lastActiveTs: 1_010_000 });
    expect(e.presence.current(clock.t)).toMatchObject({ presence: "unavailable", last_active_ago: 10_000 });
  });

  it("is pushed on a change, or while active once per refresh interval, not on every sync", () => {
    const clock = { t: 1_000_000 };
    const e = engine(ALICE, clock);
    expect(e.applyPresence({ kind: "sync" })?.seq).toBe(1);
    clock.t += 10_000;
    expect(e.applyPresence({ kind: "sync" })).toBeUndefined();
    clock.t += 10_000;
    // Same state through PUT: activity, not a change.
    expect(e.applyPresence({ kind: "set", presence: "online", statusMsg: null })).toBeUndefined();
    expect(e.applyPresence({ kind: "set", presence: "online", statusMsg: "busy" })).toMatchObject({ seq: 2, statusMsg: "busy" });
    clock.t += PRESENCE_REFRESH_MS;
    expect(e.applyPresence({ kind: "sync" })).toEqual({ userId: ALICE, seq: 3, presence: "online", lastActiveTs: clock.t, statusMsg: "busy", refresh: true });
    expect(e.applyPresence({ kind: "sync" })).toBeUndefined();
    // A change is not a refresh.
    expect(e.applyPresence({ kind: "sync", setPresence: "unavailable" })?.refresh).toBeUndefined();
  });
});

describe("presence in /sync", () => {
  it("shows the user's own presence and pushed presence of others, each change once", async () => {
    const clock = { t: 5_000_000 };
    const bob = engine(BOB, clock);
    bob.applyPresence({ kind: "sync" });
    bob.receivePresence(update(1, "online", clock.t - 2000, "hi"));
    const initial = await bob.sync({ deviceId: "B" });
    expect(initial.presence).toEqual(
      expect.arrayContaining([
        { sender: BOB, content: { presence: "online", last_active_ago: 0, currently_active: true } },
        { sender: ALICE, content: { presence: "online", last_active_ago: 2000, status_msg: "hi", currently_active: true } },
      ]),
    );
    expect(initial.presence).toHaveLength(2);

    // Nothing new: no presence in the next sync.
    expect((await bob.sync({ deviceId: "B", since: initial.nextPos })).presence).toEqual([]);

    // A newer push arrives and is shown once; an older one arriving late is ignored.
    bob.receivePresence(update(3, "unavailable", clock.t, "gone"));
    bob.receivePresence(update(2, "online", clock.t, "stale"));
    const next = await bob.sync({ deviceId: "B", since: initial.nextPos });
    expect(next.presence).toEqual([{ sender: ALICE, content: { presence: "unavailable", last_active_ago: 0, status_msg: "gone" } }]);
    expect((await bob.sync({ deviceId: "B", since: next.nextPos })).presence).toEqual([]);
  });

  it("a pushed change wakes a waiting sync", async () => {
    const clock = { t: Date.now() };
    const sql = nodeSql();
    migrate(sql);
    const bob = new SyncEngine(new UserStore(sql), BOB, () => Date.now());
    const first = await bob.sync({ deviceId: "B" });
    const started = Date.now();
    const poll = bob.sync({ deviceId: "B", since: first.nextPos, timeoutMs: 5000 });
    setTimeout(() => bob.receivePresence(update(1, "online", clock.t)), 50);
    const result = await poll;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.presence?.map((p) => p.sender)).toEqual([ALICE]);
  });

  it("a refresh (only last-active moved) doesn't wake a waiting sync, and goes out with its answer", async () => {
    const sql = nodeSql();
    migrate(sql);
    const bob = new SyncEngine(new UserStore(sql), BOB, () => Date.now());
    bob.receivePresence(update(1, "online", Date.now()));
    const first = await bob.sync({ deviceId: "B" });
    const started = Date.now();
    const poll = bob.sync({ deviceId: "B", since: first.nextPos, timeoutMs: 600 });
    setTimeout(() => bob.receivePresence({ ...update(2, "online", Date.now()), refresh: true }), 50);
    const result = await poll;
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(result.presence?.map((p) => p.sender)).toEqual([ALICE]);
  });
});
