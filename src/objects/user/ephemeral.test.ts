import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import type { ClientEvent } from "../../matrix/client-event";
import { migrate } from "./schema";
import type { DeliveredReceipt } from "./stream-types";
import { SyncEngine } from "./sync-engine";
import { UserStore } from "./user-store";

const ME = "@me:a.test";
const BOB = "@bob:a.test";
const ROOM = "!room:a.test";
const OTHER_ROOM = "!other:a.test";

function engine() {
  const sql = nodeSql();
  migrate(sql);
  const clock = { now: 5_000_000 };
  const store = new UserStore(sql);
  return { sql, store, clock, engine: new SyncEngine(store, ME, () => clock.now) };
}

let n = 0;
function event(roomId: string, type: string, content: Record<string, unknown>, stateKey?: string): ClientEvent {
  n += 1;
  return { event_id: `$e${n}`, room_id: roomId, sender: ME, type, content: content as never, origin_server_ts: 1, ...(stateKey !== undefined ? { state_key: stateKey } : {}) };
}

/** Puts ME in `roomId` with `messages` timeline events; returns their events. */
function join(e: SyncEngine, roomId: string, messages = 0, from = 1): ClientEvent[] {
  const events = [event(roomId, "m.room.member", { membership: "join" }, ME)];
  for (let i = 0; i < messages; i++) events.push(event(roomId, "m.room.message", { body: `m${i}` }));
  e.deliver({ roomId, summary: { joined: 1, invited: 0, heroes: [] }, events: events.map((ev, i) => ({ roomStream: from + i, event: ev })) });
  return events;
}

const typing = (serial: number, userIds: string[], expiresAt = 9_000_000, roomId = ROOM) => ({ kind: "typing" as const, roomId, serial, userIds, expiresAt });
const receipt = (r: Partial<DeliveredReceipt> & { eventId: string; stream: number }): DeliveredReceipt => ({ userId: BOB, receiptType: "m.read", ts: 7, ...r });

describe("user object: typing", () => {
  it("each change shows once in the next incremental sync; a stop shows as an empty set", () => {
    const { engine: e } = engine();
    join(e, ROOM);
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    e.deliverEphemeral(typing(10, [BOB, ME]));
    const r1 = e.compute({ deviceId: "D", since: s0 });
    expect(r1.join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [BOB, ME] } }]);
    expect(r1.join[ROOM]!.timeline.events).toEqual([]);
    expect(e.compute({ deviceId: "D", since: r1.nextPos }).join[ROOM]).toBeUndefined();
    e.deliverEphemeral(typing(11, []));
    expect(e.compute({ deviceId: "D", since: r1.nextPos }).join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [] } }]);
  });

  it("an update older than the one held is ignored (typing is sent unordered)", () => {
    const { engine: e } = engine();
    join(e, ROOM);
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    e.deliverEphemeral(typing(20, []));
    e.deliverEphemeral(typing(30, [BOB]));
    e.deliverEphemeral(typing(25, []));
    expect(e.compute({ deviceId: "D", since: s0 }).join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [BOB] } }]);
  });

  it("initial sync carries the current set, unless it is empty or past its expiry", () => {
    const { engine: e, clock } = engine();
    join(e, ROOM);
    join(e, OTHER_ROOM);
    e.deliverEphemeral(typing(1, [BOB], clock.now + 1000));
    expect(e.compute({ deviceId: "D" }).join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [BOB] } }]);
    expect(e.compute({ deviceId: "D" }).join[OTHER_ROOM]!.ephemeral).toEqual([]);
    const before = e.compute({ deviceId: "D" }).nextPos - 1;
    clock.now += 1000;
    // The room's "stopped" was lost: the expiry still ends it.
    expect(e.compute({ deviceId: "D" }).join[ROOM]!.ephemeral).toEqual([]);
    expect(e.compute({ deviceId: "D", since: before }).join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [] } }]);
  });

  it("is dropped for a room the user is not joined to, and never grows the stream past one row per room", () => {
    const { engine: e, store } = engine();
    const s0 = store.maxPos();
    e.deliverEphemeral(typing(1, [BOB]));
    expect(store.maxPos()).toBe(s0);
    join(e, ROOM);
    for (let i = 2; i < 50; i++) e.deliverEphemeral(typing(i, i % 2 ? [BOB] : []));
    const rows = store.streamAfter(0, 1000).filter((r) => r.kind === "typing");
    expect(rows).toHaveLength(1);
  });

  it("a re-announcement of the same set moves nothing", () => {
    const { engine: e, store } = engine();
    join(e, ROOM);
    e.deliverEphemeral(typing(1, [BOB]));
    const pos = store.maxPos();
    e.deliverEphemeral(typing(2, [BOB], 9_500_000));
    e.deliverEphemeral(typing(3, []));
    e.deliverEphemeral(typing(4, []));
    expect(store.maxPos()).toBe(pos + 1);
  });
});

describe("user object: receipts", () => {
  it("merges deliveries into one m.receipt event per thread with only what changed since the token", () => {
    const { engine: e } = engine();
    const [, a, b] = join(e, ROOM, 2);
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: a!.event_id, stream: 1 })] });
    e.deliverEphemeral({
      kind: "receipts",
      roomId: ROOM,
      receipts: [
        receipt({ eventId: b!.event_id, stream: 2, userId: ME }),
        receipt({ eventId: b!.event_id, stream: 3, userId: ME, receiptType: "m.read.private" }),
        receipt({ eventId: a!.event_id, stream: 4, threadId: "$root" }),
      ],
    });
    const r1 = e.compute({ deviceId: "D", since: s0 });
    expect(r1.join[ROOM]!.ephemeral).toEqual(
      expect.arrayContaining([
        { type: "m.receipt", content: { [a!.event_id]: { "m.read": { [BOB]: { ts: 7 } } }, [b!.event_id]: { "m.read": { [ME]: { ts: 7 } }, "m.read.private": { [ME]: { ts: 7 } } } } },
        { type: "m.receipt", content: { [a!.event_id]: { "m.read": { [BOB]: { ts: 7, thread_id: "$root" } } } } },
      ]),
    );
    expect(r1.join[ROOM]!.ephemeral).toHaveLength(2);
    // Bob moves on: the next sync has his new receipt only.
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: b!.event_id, stream: 5 })] });
    expect(e.compute({ deviceId: "D", since: r1.nextPos }).join[ROOM]!.ephemeral).toEqual([{ type: "m.receipt", content: { [b!.event_id]: { "m.read": { [BOB]: { ts: 7 } } } } }]);
  });

  it("drops repeated and older deliveries, and other users' private receipts", () => {
    const { engine: e, store } = engine();
    const [, a, b] = join(e, ROOM, 2);
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: b!.event_id, stream: 9 })] });
    const pos = store.maxPos();
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: b!.event_id, stream: 9 })] });
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: a!.event_id, stream: 8 })] });
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: a!.event_id, stream: 10, receiptType: "m.read.private" })] });
    expect(store.maxPos()).toBe(pos);
    expect(JSON.stringify(e.compute({ deviceId: "D" }).join[ROOM]!.ephemeral)).not.toContain("m.read.private");
  });

  it("initial sync: receipts on the events this object holds and the user's own; the stream keeps one receipt row per room", () => {
    const { engine: e, store } = engine();
    const [, a] = join(e, ROOM, 1);
    e.deliverEphemeral({
      kind: "receipts",
      roomId: ROOM,
      receipts: [
        receipt({ eventId: a!.event_id, stream: 1 }),
        receipt({ eventId: "$long-gone", stream: 2, userId: "@carol:a.test" }),
        receipt({ eventId: "$long-gone", stream: 3, userId: ME, receiptType: "m.read.private" }),
      ],
    });
    for (let i = 4; i < 30; i++) e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: a!.event_id, stream: i, ts: i })] });
    const content = e.compute({ deviceId: "D" }).join[ROOM]!.ephemeral![0]!.content as Record<string, unknown>;
    expect(content).toEqual({
      [a!.event_id]: { "m.read": { [BOB]: { ts: 29 } } },
      "$long-gone": { "m.read.private": { [ME]: { ts: 7 } } },
    });
    expect(store.streamAfter(0, 1000).filter((r) => r.kind === "receipt")).toHaveLength(1);
  });

  it("a receipt wakes a waiting long-poll", async () => {
    const { engine: e, clock } = engine();
    const [, a] = join(e, ROOM, 1);
    const since = e.compute({ deviceId: "D" }).nextPos;
    let answered = false;
    const poll = e.sync({ deviceId: "D", since, timeoutMs: 60_000 }).then((r) => {
      answered = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    clock.now += 20;
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt({ eventId: a!.event_id, stream: 1 })] });
    const result = await poll;
    expect(result.join[ROOM]!.ephemeral).toHaveLength(1);
  });

  it("a typing change wakes a waiting long-poll", async () => {
    const { engine: e } = engine();
    join(e, ROOM);
    const since = e.compute({ deviceId: "D" }).nextPos;
    const poll = e.sync({ deviceId: "D", since, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    e.deliverEphemeral(typing(1, [BOB]));
    expect((await poll).join[ROOM]!.ephemeral).toEqual([{ type: "m.typing", content: { user_ids: [BOB] } }]);
  });
});
