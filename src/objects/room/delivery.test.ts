import { describe, expect, it } from "vitest";
import { makeTestRoom } from "../../../test/support/room-fixture";
import { nodeSql } from "../../../test/support/node-sql";
import { SyncEngine } from "../user/sync-engine";
import { migrate as migrateUser } from "../user/schema";
import { UserStore } from "../user/user-store";
import { DeliveryPlanner } from "./delivery";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const REMOTE = "@carol:b.test";

/** Runs the planner to the end, handing each delivery to the recipients' sync engines. */
function pumpInto(planner: DeliveryPlanner, users: Map<string, SyncEngine>) {
  const seen = new Map<string, number>();
  for (;;) {
    const plan = planner.plan(7);
    if (!plan) break;
    for (const [userId, d] of plan.deliveries) {
      seen.set(userId, (seen.get(userId) ?? 0) + d.events.length);
      users.get(userId)?.deliver(d);
    }
    planner.advance(plan.upTo);
  }
  return seen;
}

function userEngine(userId: string) {
  const sql = nodeSql();
  migrateUser(sql);
  return new SyncEngine(new UserStore(sql), userId, () => 2_000_000);
}

describe("room → user delivery", () => {
  it("delivers each event to the local members joined at that point, and the target of a membership change", async () => {
    const room = await makeTestRoom(ALICE);
    const planner = new DeliveryPlanner(room.store, room.reader, room.roomId, "a.test");
    const engines = new Map([[ALICE, userEngine(ALICE)], [BOB, userEngine(BOB)]]);
    pumpInto(planner, engines);
    await room.send(ALICE, "m.room.message", { body: "before bob" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    await room.send(ALICE, "m.room.message", { body: "with bob" });
    await room.send(REMOTE, "m.room.member", { membership: "join" }, REMOTE);
    await room.send(ALICE, "m.room.member", { membership: "ban", reason: "bye" }, BOB);
    await room.send(ALICE, "m.room.message", { body: "after ban" });
    pumpInto(planner, engines);

    const bob = engines.get(BOB)!.compute({ deviceId: "D" });
    // Bob left (banned): no joined room; an initial sync without include_leave doesn't list it.
    expect(Object.keys(bob.join)).toEqual([]);
    const bobLeave = engines.get(BOB)!.compute({ deviceId: "D", filter: { includeLeave: true } });
    const bodies = bobLeave.leave[room.roomId]!.timeline.events.map((e) => e.content.body ?? e.content.membership);
    expect(bodies).toContain("with bob");
    expect(bodies).toContain("ban");
    expect(bodies).not.toContain("after ban");

    const alice = engines.get(ALICE)!.compute({ deviceId: "D", filter: { timeline: { limit: 50 } } });
    const aliceBodies = alice.join[room.roomId]!.timeline.events.map((e) => e.content.body ?? e.content.membership);
    expect(aliceBodies).toEqual(expect.arrayContaining(["before bob", "with bob", "after ban"]));
  });

  it("a user who joins gets the room's state and the history they may see, once", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const planner = new DeliveryPlanner(room.store, room.reader, room.roomId, "a.test");
    const engines = new Map([[ALICE, userEngine(ALICE)], [BOB, userEngine(BOB)]]);
    await room.send(ALICE, "m.room.name", { name: "Hall" }, "");
    await room.send(ALICE, "m.room.message", { body: "secret before join" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    await room.send(BOB, "m.room.message", { body: "hi" });
    pumpInto(planner, engines);
    // A second pump from an old cursor (a retry) must not duplicate anything.
    planner.advance(0);
    pumpInto(planner, engines);

    const bob = engines.get(BOB)!.compute({ deviceId: "D", filter: { timeline: { limit: 50 } } }).join[room.roomId]!;
    const texts = bob.timeline.events.map((e) => e.content.body).filter(Boolean);
    expect(texts).toEqual(["hi"]);
    expect(bob.state.concat(bob.timeline.events).find((e) => e.type === "m.room.name")?.content.name).toBe("Hall");
    const ids = bob.timeline.events.map((e) => e.event_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("incremental sync is limited with a prev_batch when more arrived than the limit", async () => {
    const room = await makeTestRoom(ALICE);
    const planner = new DeliveryPlanner(room.store, room.reader, room.roomId, "a.test");
    const engines = new Map([[ALICE, userEngine(ALICE)]]);
    pumpInto(planner, engines);
    const first = engines.get(ALICE)!.compute({ deviceId: "D" });
    await room.send(ALICE, "m.room.topic", { topic: "new topic" }, "");
    for (let i = 0; i < 15; i++) await room.send(ALICE, "m.room.message", { body: `m${i}` });
    pumpInto(planner, engines);
    const next = engines.get(ALICE)!.compute({ deviceId: "D", since: first.nextPos, filter: { timeline: { limit: 5 } } }).join[room.roomId]!;
    expect(next.timeline.events.map((e) => e.content.body)).toEqual(["m10", "m11", "m12", "m13", "m14"]);
    expect(next.timeline.limited).toBe(true);
    expect(next.timeline.prevBatch).toBe(room.store.getEvent(next.timeline.events[0]!.event_id)!.stream - 1);
    // The topic change fell outside the timeline, so it comes as state.
    expect(next.state.find((e) => e.type === "m.room.topic")?.content.topic).toBe("new topic");
  });

  it("sends nothing to remote users or non-members", async () => {
    const room = await makeTestRoom(ALICE);
    await room.send(REMOTE, "m.room.member", { membership: "join" }, REMOTE);
    await room.send(REMOTE, "m.room.message", { body: "from afar" });
    const planner = new DeliveryPlanner(room.store, room.reader, room.roomId, "a.test");
    const seen = pumpInto(planner, new Map());
    expect([...seen.keys()]).toEqual([ALICE]);
  });
});
