import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import type { ClientEvent } from "../../matrix/client-event";
import { migrate } from "./schema";
import { SlidingSyncEngine } from "./sliding-sync";
import { recordDeliveredBumps } from "./sliding-sync-lists";
import type { SlidingSyncRequest, SlidingSyncResult } from "./sliding-sync-types";
import { SyncEngine } from "./sync-engine";
import { UserStore } from "./user-store";

const ME = "@me:a.test";

let n = 0;
function ev(roomId: string, type: string, content: Record<string, unknown>, stateKey?: string, sender = ME): ClientEvent {
  n += 1;
  return { event_id: `$e${n}`, room_id: roomId, sender, type, content: content as ClientEvent["content"], origin_server_ts: 1000 + n, ...(stateKey !== undefined ? { state_key: stateKey } : {}) };
}

function setup() {
  const sql = nodeSql();
  migrate(sql);
  const store = new UserStore(sql);
  const sync = new SyncEngine(store, ME, () => Date.now());
  const sliding = new SlidingSyncEngine(store, ME, () => Date.now(), {
    unread: (roomId) => sync.notifications.counts(roomId, false).room,
    toDevice: () => sync.toDevice,
  });
  const streams = new Map<string, number>();
  const deliver = (roomId: string, ...events: ClientEvent[]) => {
    let s = streams.get(roomId) ?? 0;
    const delivery = { roomId, events: events.map((event) => ({ roomStream: ++s, event })), summary: { joined: 1, invited: 0, heroes: [ME] } };
    sync.deliver(delivery);
    recordDeliveredBumps(sliding.sliding, delivery);
    streams.set(roomId, s);
  };
  const createRoom = (roomId: string, name: string) =>
    deliver(roomId, ev(roomId, "m.room.create", { room_version: "11" }, ""), ev(roomId, "m.room.member", { membership: "join" }, ME), ev(roomId, "m.room.name", { name }, ""));
  const request = (over: Partial<SlidingSyncRequest> = {}): SlidingSyncRequest => ({
    deviceId: "DEV",
    connId: "",
    timeoutMs: 0,
    lists: { all: { ranges: [[0, 19]], requiredState: [["m.room.name", ""], ["m.room.member", "$ME"]], timelineLimit: 1 } },
    roomSubscriptions: {},
    extensions: {},
    dmRooms: [],
    ...over,
  });
  const run = async (req: SlidingSyncRequest): Promise<SlidingSyncResult> => {
    const out = await sliding.sync(req);
    if (!out.ok) throw new Error(out.reason);
    return out.value;
  };
  return { deliver, createRoom, request, run, sliding };
}

describe("sliding sync engine", () => {
  it("of 500 rooms, the first window holds the 20 most recently bumped, newest first, each with its state", async () => {
    const t = setup();
    for (let i = 0; i < 500; i++) t.createRoom(`!r${i}:a.test`, `Room ${i}`);
    // Messages bump, in this order: rooms 7, 300, 42. A reaction and a topic change don't bump.
    for (const i of [7, 300, 42]) t.deliver(`!r${i}:a.test`, ev(`!r${i}:a.test`, "m.room.message", { body: `hi ${i}` }));
    t.deliver("!r1:a.test", ev("!r1:a.test", "m.reaction", {}));
    t.deliver("!r2:a.test", ev("!r2:a.test", "m.room.topic", { topic: "x" }, ""));

    const res = await t.run(t.request());
    expect(res.lists.all!.count).toBe(500);
    const order = Object.entries(res.rooms)
      .sort(([, a], [, b]) => b.bumpStamp - a.bumpStamp)
      .map(([id]) => id);
    expect(order).toHaveLength(20);
    expect(order.slice(0, 3)).toEqual(["!r42:a.test", "!r300:a.test", "!r7:a.test"]);
    // Then by creation (the create event bumps): the newest rooms, not the reacted or re-topiced ones.
    expect(order[3]).toBe("!r499:a.test");
    expect(order).not.toContain("!r1:a.test");
    expect(order).not.toContain("!r2:a.test");
    const room = res.rooms["!r42:a.test"]!;
    expect(room.name).toBe("Room 42");
    expect(room.requiredState.map((e) => e.type).sort()).toEqual(["m.room.member", "m.room.name"]);
    expect(room.timeline?.map((e) => e.content.body)).toEqual(["hi 42"]);
  });

  it("a room that changed out of range is sent with what the client missed once back in range", async () => {
    const t = setup();
    t.createRoom("!a:a.test", "A");
    t.createRoom("!b:a.test", "B");
    const one = (ranges: [number, number][]) => t.request({ lists: { all: { ranges, requiredState: [], timelineLimit: 10 } } });
    const first = await t.run(one([[0, 1]]));
    expect(Object.keys(first.rooms).sort()).toEqual(["!a:a.test", "!b:a.test"]);
    // Only the top room (b) is watched; a gets two messages, moves to the top and is sent with both.
    const narrowed = await t.run({ ...one([[0, 0]]), pos: first.pos });
    expect(narrowed.rooms).toEqual({});
    t.deliver("!a:a.test", ev("!a:a.test", "m.room.message", { body: "one" }), ev("!a:a.test", "m.room.message", { body: "two" }));
    const back = await t.run({ ...one([[0, 0]]), pos: narrowed.pos });
    expect(back.rooms["!a:a.test"]?.initial).toBe(false);
    expect(back.rooms["!a:a.test"]?.timeline?.map((e) => e.content.body)).toEqual(["one", "two"]);
    // b, now out of range, changes; it comes back with just that when the range grows again.
    t.deliver("!b:a.test", ev("!b:a.test", "m.room.topic", { topic: "while away" }, ""));
    const away = await t.run({ ...one([[0, 0]]), pos: back.pos });
    expect(away.rooms["!b:a.test"]).toBeUndefined();
    const grown = await t.run({ ...one([[0, 1]]), pos: away.pos });
    expect(grown.rooms["!b:a.test"]?.timeline?.map((e) => e.type)).toEqual(["m.room.topic"]);
    expect(grown.rooms["!a:a.test"]).toBeUndefined();
  });

  it("an unknown pos, or one behind a newer pos the client used, is refused", async () => {
    const t = setup();
    t.createRoom("!a:a.test", "A");
    expect(await t.sliding.sync(t.request({ pos: 12345 }))).toEqual({ ok: false, reason: "unknown_pos" });
    const first = await t.run(t.request());
    const second = await t.run(t.request({ pos: first.pos }));
    await t.run(t.request({ pos: second.pos }));
    expect(await t.sliding.sync(t.request({ pos: first.pos }))).toEqual({ ok: false, reason: "unknown_pos" });
    // Another conn_id never had that position.
    expect(await t.sliding.sync(t.request({ pos: second.pos, connId: "other" }))).toEqual({ ok: false, reason: "unknown_pos" });
  });

  it("a long-poll whose connection was started over meanwhile ends with unknown_pos", async () => {
    const t = setup();
    t.createRoom("!a:a.test", "A");
    const first = await t.run(t.request());
    const waiting = t.sliding.sync(t.request({ pos: first.pos, timeoutMs: 10_000 }));
    await t.run(t.request());
    t.deliver("!a:a.test", ev("!a:a.test", "m.room.message", { body: "news" }));
    t.sliding.wake();
    expect(await waiting).toEqual({ ok: false, reason: "unknown_pos" });
  });
});
