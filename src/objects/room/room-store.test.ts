import { describe, expect, it } from "vitest";
import { makeTestRoom, type TestRoom } from "../../../test/support/room-fixture";
import { RoomStore } from "./room-store";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const CAROL = "@carol:a.test";

/** Everything the store may answer from memory, as a fresh store over the same SQLite reads it. */
function snapshot(store: RoomStore) {
  const events = store.eventsAfter(0, 10_000);
  return {
    events: events.map((e) => ({ stream: e.stream, id: e.event.event_id, type: e.event.type, group: e.stateGroup, redactedBy: e.redactedBy, rejected: e.rejected })),
    after3: store.eventsAfter(3, 4).map((e) => e.stream),
    txns: events.map((e) => store.txnOf(e.event.event_id) ?? null),
    joined: store.membersWith("join").sort(),
    invited: store.membersWith("invite").sort(),
    left: store.membersWith("leave").sort(),
    joinedCount: store.countMembers("join"),
    extremities: [...store.forwardExtremities()].sort(),
    currentGroup: store.currentStateGroup(),
    currentState: [...store.currentState()].sort(),
    roomId: store.getMeta("room_id"),
  };
}

async function busyRoom(): Promise<TestRoom> {
  const room = await makeTestRoom(ALICE);
  // The delivery pump reads the member lists after every event; so does this room.
  const send = room.send;
  room.send = async (...args) => {
    const ev = await send(...args);
    for (const m of ["join", "invite", "leave"]) room.store.membersWith(m);
    return ev;
  };
  await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
  const sent = await room.engine.append({
    sender: BOB,
    type: "m.room.message",
    content: { body: "with a txn" },
    txn: { deviceId: "PHONE", txnId: "t1", scope: "send" },
  });
  if (!sent.ok) throw new Error(sent.error);
  await room.send(ALICE, "m.room.member", { membership: "invite" }, CAROL);
  const doomed = await room.send(BOB, "m.room.message", { body: "to be redacted" });
  await room.send(BOB, "m.room.redaction", { redacts: doomed.event_id }, undefined, { redacts: doomed.event_id });
  await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
  await room.send(ALICE, "m.room.topic", { topic: "after" }, "");
  await room.send(ALICE, "m.room.message", { body: "last" });
  return room;
}

describe("room store: in-memory copies", () => {
  it("answers from memory exactly what SQLite holds (events after a position, redactions, txn ids, members, extremities)", async () => {
    const room = await busyRoom();
    const fromMemory = snapshot(room.store);
    const fromDisk = snapshot(new RoomStore(room.store.sql));
    expect(fromMemory).toEqual(fromDisk);
    // The redaction mark reached the copy the delivery pump reads.
    expect(fromMemory.events.filter((e) => e.redactedBy !== null)).toHaveLength(1);
    expect(fromMemory.txns.filter((t) => t !== null)).toEqual([{ deviceId: "PHONE", txnId: "t1" }]);
    expect(fromMemory.joined).toEqual([ALICE]);
    expect(fromMemory.invited).toEqual([CAROL]);
    expect(fromMemory.left).toEqual([BOB]);
  });

  it("keeps nothing in memory from a write that rolled back, and the next write builds on the last stored event", async () => {
    const room = await busyRoom();
    const before = snapshot(room.store);
    const realInsert = room.store.insertRelation.bind(room.store);
    room.store.insertRelation = () => {
      throw new Error("disk full");
    };
    const parent = before.events[before.events.length - 1]!.id;
    await expect(room.send(ALICE, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: parent, key: "👍" } })).rejects.toThrow("disk full");
    room.store.insertRelation = realInsert;

    expect(snapshot(room.store)).toEqual(before);
    const next = await room.send(ALICE, "m.room.message", { body: "after the failure" });
    expect(next.prev_events).toEqual([parent]);
    expect(snapshot(room.store)).toEqual(snapshot(new RoomStore(room.store.sql)));
  });
});
