import { describe, expect, it } from "vitest";
import { makeTestRoom, type TestRoom } from "../../../test/support/room-fixture";
import { nodeSql } from "../../../test/support/node-sql";
import { SyncEngine } from "../user/sync-engine";
import { migrate as migrateUser } from "../user/schema";
import { UserStore } from "../user/user-store";
import type { DeliveredReceipt } from "../user/stream-types";
import { DeliveryPlanner } from "./delivery";
import { RoomReceipts } from "./receipts";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const CAROL = "@carol:a.test";
const REMOTE = "@dave:b.test";

async function roomWithBob(opts: { historyVisibility?: string } = {}) {
  const room = await makeTestRoom(ALICE, opts);
  await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
  return { room, receipts: new RoomReceipts(room.store, room.reader, "a.test") };
}

const message = (room: TestRoom, sender: string, body: string, rel?: Record<string, unknown>) =>
  room.send(sender, "m.room.message", { msgtype: "m.text", body, ...(rel ? { "m.relates_to": rel } : {}) });

/** Drains the receipt plan, returning what each user was handed. */
function drain(receipts: RoomReceipts): Map<string, DeliveredReceipt[]> {
  const got = new Map<string, DeliveredReceipt[]>();
  for (;;) {
    const plan = receipts.plan(3);
    if (!plan) return got;
    for (const [userId, list] of plan.deliveries) got.set(userId, [...(got.get(userId) ?? []), ...list]);
    receipts.advance(plan.upTo);
  }
}

describe("room receipts: posting", () => {
  it("stores the latest receipt per user, type and thread; an older or repeated one changes nothing", async () => {
    const { room, receipts } = await roomWithBob();
    const one = await message(room, ALICE, "one");
    const two = await message(room, ALICE, "two");
    expect(receipts.post(BOB, "m.read", two.event_id, undefined, 5)).toEqual({ ok: true, changed: true });
    expect(receipts.post(BOB, "m.read", two.event_id, undefined, 6)).toEqual({ ok: true, changed: false });
    expect(receipts.post(BOB, "m.read", one.event_id, undefined, 7)).toEqual({ ok: true, changed: false });
    // Other types and thread categories are separate markers.
    expect(receipts.post(BOB, "m.read.private", one.event_id, undefined, 8)).toEqual({ ok: true, changed: true });
    expect(receipts.post(BOB, "m.read", one.event_id, "main", 9)).toEqual({ ok: true, changed: true });
    const bob = drain(receipts).get(BOB)!;
    expect(bob.map((r) => [r.receiptType, r.eventId, r.threadId])).toEqual([
      ["m.read", two.event_id, undefined],
      ["m.read.private", one.event_id, undefined],
      ["m.read", one.event_id, "main"],
    ]);
    expect(bob[0]!.ts).toBe(5);
  });

  it("refuses users who are not joined, and events that are unknown or hidden from the user", async () => {
    const { room, receipts } = await roomWithBob({ historyVisibility: "joined" });
    const early = await message(room, ALICE, "before carol");
    expect(receipts.post(CAROL, "m.read", early.event_id, undefined, 1)).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
    await room.send(CAROL, "m.room.member", { membership: "join" }, CAROL);
    expect(receipts.post(CAROL, "m.read", early.event_id, undefined, 1)).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(receipts.post(CAROL, "m.read", "$nope", undefined, 1)).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    const later = await message(room, ALICE, "after carol");
    expect(receipts.post(CAROL, "m.read", later.event_id, undefined, 1)).toEqual({ ok: true, changed: true });
    await room.send(CAROL, "m.room.member", { membership: "leave" }, CAROL);
    const last = await message(room, ALICE, "after carol left");
    expect(receipts.post(CAROL, "m.read", last.event_id, undefined, 1)).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
  });

  it("threaded receipts must name the event's thread: main, or the root (spec: § Threaded read receipts)", async () => {
    const { room, receipts } = await roomWithBob();
    const root = await message(room, ALICE, "root");
    const other = await message(room, ALICE, "another root");
    const reply = await message(room, BOB, "reply", { rel_type: "m.thread", event_id: root.event_id });
    const otherReply = await message(room, BOB, "other reply", { rel_type: "m.thread", event_id: other.event_id });
    const onReply = await room.send(ALICE, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: reply.event_id, key: "👍" } });
    const onRoot = await room.send(ALICE, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: root.event_id, key: "👍" } });
    const plain = await message(room, ALICE, "plain");

    expect(receipts.threadOf(reply.event_id)).toBe(root.event_id);
    expect(receipts.threadOf(onReply.event_id)).toBe(root.event_id);
    expect(receipts.threadOf(root.event_id)).toBe("main");
    expect(receipts.threadOf(onRoot.event_id)).toBe("main");
    expect(receipts.threadOf(plain.event_id)).toBe("main");

    const ok = (eventId: string, thread: string) => expect(receipts.post(BOB, "m.read", eventId, thread, 1).ok, `${eventId} in ${thread}`).toBe(true);
    const bad = (eventId: string, thread: string) =>
      expect(receipts.post(BOB, "m.read", eventId, thread, 1), `${eventId} in ${thread}`).toMatchObject({ ok: false, errcode: "M_INVALID_PARAM" });
    bad(reply.event_id, "main");
    bad(reply.event_id, other.event_id);
    bad(plain.event_id, root.event_id);
    bad(onRoot.event_id, root.event_id);
    bad(reply.event_id, "");
    ok(root.event_id, "main");
    ok(root.event_id, root.event_id);
    ok(reply.event_id, root.event_id);
    ok(onReply.event_id, root.event_id);
    ok(otherReply.event_id, other.event_id);
    ok(plain.event_id, "main");
    // Unthreaded receipts may point anywhere.
    expect(receipts.post(BOB, "m.read", reply.event_id, undefined, 1).ok).toBe(true);
  });
});

describe("room receipts: delivery", () => {
  it("m.read goes to every local joined member, m.read.private to its owner only, each once", async () => {
    const { room, receipts } = await roomWithBob();
    await room.send(REMOTE, "m.room.member", { membership: "join" }, REMOTE);
    await room.send(CAROL, "m.room.member", { membership: "join" }, CAROL);
    await room.send(CAROL, "m.room.member", { membership: "leave" }, CAROL);
    const ev = await message(room, ALICE, "hello");
    receipts.post(BOB, "m.read", ev.event_id, undefined, 1);
    receipts.post(ALICE, "m.read.private", ev.event_id, undefined, 2);
    const got = drain(receipts);
    expect([...got.keys()].sort()).toEqual([ALICE, BOB]);
    expect(got.get(ALICE)!.map((r) => `${r.userId} ${r.receiptType}`)).toEqual([`${BOB} m.read`, `${ALICE} m.read.private`]);
    expect(got.get(BOB)!.map((r) => `${r.userId} ${r.receiptType}`)).toEqual([`${BOB} m.read`]);
    // The cursor moved: nothing is delivered twice.
    expect(receipts.plan()).toBeUndefined();
    const next = await message(room, ALICE, "again");
    receipts.post(BOB, "m.read", next.event_id, undefined, 3);
    expect([...drain(receipts).values()].flat().map((r) => r.eventId)).toEqual([next.event_id, next.event_id]);
  });

  it("a new member gets the newest public receipts and their own, never someone else's private one", async () => {
    const { room, receipts } = await roomWithBob();
    const ev = await message(room, ALICE, "hello");
    receipts.post(ALICE, "m.read", ev.event_id, undefined, 1);
    receipts.post(ALICE, "m.read.private", ev.event_id, undefined, 2);
    const forBob = receipts.forNewMember(BOB);
    expect(forBob.map((r) => `${r.userId} ${r.receiptType}`)).toEqual([`${ALICE} m.read`]);
    receipts.post(BOB, "m.read.private", ev.event_id, undefined, 3);
    expect(receipts.forNewMember(BOB).map((r) => `${r.userId} ${r.receiptType}`).sort()).toEqual([`${ALICE} m.read`, `${BOB} m.read.private`]);
  });

  it("end to end in Node: the room's plan, taken by user objects, shows up in their syncs as it should", async () => {
    const { room, receipts } = await roomWithBob();
    const engines = new Map([ALICE, BOB, CAROL].map((u) => [u, userEngine(u)]));
    const planner = new DeliveryPlanner(room.store, room.reader, room.roomId, "a.test");
    const pump = () => {
      for (let plan = planner.plan(); plan; plan = planner.plan()) {
        for (const [userId, d] of plan.deliveries) engines.get(userId)?.deliver(d);
        planner.advance(plan.upTo);
      }
      for (let plan = receipts.plan(); plan; plan = receipts.plan()) {
        for (const [userId, list] of plan.deliveries) engines.get(userId)?.deliverEphemeral({ kind: "receipts", roomId: room.roomId, receipts: list });
        receipts.advance(plan.upTo);
      }
    };
    const ev = await message(room, ALICE, "hello");
    pump();
    const since = new Map([...engines].map(([u, e]) => [u, e.compute({ deviceId: "D" }).nextPos]));
    receipts.post(BOB, "m.read", ev.event_id, undefined, 1);
    receipts.post(BOB, "m.read.private", ev.event_id, undefined, 2);
    pump();
    const ephemeralOf = (userId: string) => engines.get(userId)!.compute({ deviceId: "D", since: since.get(userId) }).join[room.roomId]?.ephemeral;
    expect(ephemeralOf(ALICE)).toEqual([{ type: "m.receipt", content: { [ev.event_id]: { "m.read": { [BOB]: { ts: 1 } } } } }]);
    expect(ephemeralOf(BOB)).toEqual([{ type: "m.receipt", content: { [ev.event_id]: { "m.read": { [BOB]: { ts: 1 } }, "m.read.private": { [BOB]: { ts: 2 } } } } }]);
    expect(ephemeralOf(CAROL)).toBeUndefined();
  });
});

function userEngine(userId: string) {
  const sql = nodeSql();
  migrateUser(sql);
  return new SyncEngine(new UserStore(sql), userId, () => 2_000_000);
}
