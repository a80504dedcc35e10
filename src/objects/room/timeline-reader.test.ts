import { describe, expect, it } from "vitest";
import { makeTestRoom, type TestRoom } from "../../../test/support/room-fixture";
import { stateKey } from "../../matrix/events";
import type { RoomEventFilter } from "../../matrix/filters";
import { SCAN_BUDGET, TimelineReader, type MessagesPage, type MessagesQuery } from "./timeline-reader";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const CAROL = "@carol:a.test";
const EVE = "@eve:a.test";

function timeline(room: TestRoom): TimelineReader {
  return new TimelineReader(room.store, room.reader, room.roomId);
}

function page(room: TestRoom, userId: string, q: MessagesQuery): MessagesPage {
  const r = timeline(room).messages({ userId }, q);
  if (!r.ok) throw new Error(`${r.errcode}: ${r.error}`);
  return r.value;
}

/** Follows `end` until it is omitted, returning every event id seen, in order. */
function paginateAll(room: TestRoom, userId: string, q: MessagesQuery): { ids: string[]; pages: number } {
  const ids: string[] = [];
  let from = q.from;
  for (let pages = 1; pages < 500; pages++) {
    const p = page(room, userId, { ...q, from });
    ids.push(...p.chunk.map((e) => e.event_id));
    if (p.end === undefined) return { ids, pages };
    from = p.end;
  }
  throw new Error("pagination did not end");
}

/** Every visible-timeline event id of the room, oldest first. */
function allIds(room: TestRoom): string[] {
  return room.store.timeline({ fromStream: 0, dir: "f", limit: 100000 }).map((s) => s.event.event_id);
}

async function sendMessages(room: TestRoom, sender: string, n: number, prefix = "m"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await room.send(sender, "m.room.message", { msgtype: "m.text", body: `${prefix}${i}` })).event_id);
  return ids;
}

describe("timeline: /messages pagination", () => {
  it("pages backwards from the newest and forwards from the oldest, every event once, `end` omitted at the end", async () => {
    const room = await makeTestRoom(ALICE);
    await sendMessages(room, ALICE, 23);
    const all = allIds(room);

    const back = paginateAll(room, ALICE, { dir: "b", limit: 5 });
    expect(back.ids).toEqual([...all].reverse());
    expect(back.pages).toBeGreaterThan(Math.floor(all.length / 5));

    const forward = paginateAll(room, ALICE, { dir: "f", limit: 7 });
    expect(forward.ids).toEqual(all);
  });

  it("keeps the token meaning: backwards from t<N> starts with N, forwards with N+1, `to` stops", async () => {
    const room = await makeTestRoom(ALICE);
    const ids = await sendMessages(room, ALICE, 6);
    const n = room.streamOf(ids[3]!);

    const back = page(room, ALICE, { dir: "b", from: n, limit: 2 });
    expect(back.chunk.map((e) => e.event_id)).toEqual([ids[3], ids[2]]);
    expect(back.start).toBe(n);
    // Continuing from `end` picks up exactly where the page stopped.
    expect(page(room, ALICE, { dir: "b", from: back.end!, limit: 1 }).chunk[0]!.event_id).toBe(ids[1]);

    const fwd = page(room, ALICE, { dir: "f", from: n, limit: 2 });
    expect(fwd.chunk.map((e) => e.event_id)).toEqual([ids[4], ids[5]]);

    // `to` = t<stream of ids[1]>: backwards stops after ids[2], forwards stops at ids[4].
    const bounded = page(room, ALICE, { dir: "b", from: n, to: room.streamOf(ids[1]!), limit: 10 });
    expect(bounded.chunk.map((e) => e.event_id)).toEqual([ids[3], ids[2]]);
    expect(bounded.end).toBeUndefined();
    const boundedF = page(room, ALICE, { dir: "f", from: room.streamOf(ids[1]!), to: room.streamOf(ids[4]!), limit: 10 });
    expect(boundedF.chunk.map((e) => e.event_id)).toEqual([ids[2], ids[3], ids[4]]);
  });

  it("defaults the limit to 10, takes the filter's limit when the query has none, and caps it", async () => {
    const room = await makeTestRoom(ALICE);
    await sendMessages(room, ALICE, 15);
    expect(page(room, ALICE, { dir: "b" }).chunk).toHaveLength(10);
    expect(page(room, ALICE, { dir: "b", filter: { limit: 3 } }).chunk).toHaveLength(3);
    expect(page(room, ALICE, { dir: "b", limit: 4, filter: { limit: 3 } }).chunk).toHaveLength(4);
    expect(page(room, ALICE, { dir: "b", limit: 1_000_000 }).chunk).toHaveLength(allIds(room).length);
  });

  it("echoes the transaction id to the sending device only", async () => {
    const room = await makeTestRoom(ALICE);
    const r = await room.engine.append({ sender: ALICE, type: "m.room.message", content: { body: "x" }, txn: { deviceId: "DEV", txnId: "tx1", scope: "send" } });
    expect(r.ok).toBe(true);
    const mine = timeline(room).messages({ userId: ALICE, deviceId: "DEV" }, { dir: "b", limit: 1 });
    const other = timeline(room).messages({ userId: ALICE, deviceId: "OTHER" }, { dir: "b", limit: 1 });
    expect(mine.ok && mine.value.chunk[0]!.unsigned?.transaction_id).toBe("tx1");
    expect(other.ok && other.value.chunk[0]!.unsigned?.transaction_id).toBeUndefined();
  });
});

describe("timeline: filters", () => {
  async function mixedRoom() {
    const room = await makeTestRoom(ALICE);
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const a1 = await room.send(ALICE, "m.room.message", { msgtype: "m.text", body: "a1" });
    const b1 = await room.send(BOB, "m.room.message", { msgtype: "m.image", body: "img", url: "mxc://a.test/x" });
    const r1 = await room.send(BOB, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: a1.event_id, key: "👍" } });
    const b2 = await room.send(BOB, "m.room.message", { msgtype: "m.file", body: "doc", url: "mxc://a.test/y" });
    const topic = await room.send(ALICE, "m.room.topic", { topic: "t" }, "");
    // Bob redacts his second upload: its url is gone from what clients see.
    await room.send(BOB, "m.room.redaction", { redacts: b2.event_id });
    return { room, a1, b1, r1, b2, topic };
  }

  const ids = (room: TestRoom, filter: RoomEventFilter) => page(room, ALICE, { dir: "f", limit: 100, filter }).chunk.map((e) => e.event_id);

  it("applies types and not_types with wildcards, senders and not_senders", async () => {
    const { room, a1, b1, r1, b2, topic } = await mixedRoom();
    expect(ids(room, { types: ["m.room.message"] })).toEqual([a1.event_id, b1.event_id, b2.event_id]);
    expect(ids(room, { types: ["m.room.*"], notTypes: ["m.room.member", "m.room.redaction", "m.room.power_levels", "m.room.join_rules", "m.room.create"] })).toEqual([
      a1.event_id,
      b1.event_id,
      b2.event_id,
      topic.event_id,
    ]);
    expect(ids(room, { types: ["m.*"], notTypes: ["m.room.*"] })).toEqual([r1.event_id]);
    expect(ids(room, { senders: [BOB], types: ["m.room.message"] })).toEqual([b1.event_id, b2.event_id]);
    // A not_senders match excludes even when the sender is also listed.
    expect(ids(room, { senders: [ALICE, BOB], notSenders: [BOB], types: ["m.room.message"] })).toEqual([a1.event_id]);
  });

  it("applies contains_url to the content clients see (a redacted upload has no url)", async () => {
    const { room, a1, b1, r1, topic } = await mixedRoom();
    expect(ids(room, { containsUrl: true })).toEqual([b1.event_id]);
    const without = ids(room, { containsUrl: false });
    expect(without).toContain(a1.event_id);
    expect(without).toContain(r1.event_id);
    expect(without).toContain(topic.event_id);
    expect(without).not.toContain(b1.event_id);
  });

  it("honours rooms and not_rooms", async () => {
    const { room } = await mixedRoom();
    expect(ids(room, { notRooms: [room.roomId] })).toEqual([]);
    expect(ids(room, { rooms: ["!elsewhere:a.test"] })).toEqual([]);
    expect(ids(room, { rooms: [room.roomId] })).toEqual(allIds(room));
  });

  it("reads in bounded batches: a filter matching nothing recent stops at the scan budget and resumes from `end`", async () => {
    const room = await makeTestRoom(ALICE);
    const needle = await room.send(ALICE, "org.example.needle", { body: "here" });
    const hay = await sendMessages(room, ALICE, SCAN_BUDGET + 50, "hay");
    const filter: RoomEventFilter = { types: ["org.example.needle"] };

    const first = page(room, ALICE, { dir: "b", limit: 5, filter });
    expect(first.chunk).toEqual([]);
    // The page examined exactly the budget, newest first, and says where to continue.
    expect(first.end).toBe(room.streamOf(hay[hay.length - 1]!) - SCAN_BUDGET);

    const second = page(room, ALICE, { dir: "b", limit: 5, from: first.end, filter });
    expect(second.chunk.map((e) => e.event_id)).toEqual([needle.event_id]);
    expect(second.end).toBeUndefined();
  }, 60_000);

  it("lazy-loads the member events of the chunk's senders only", async () => {
    const room = await makeTestRoom(ALICE);
    await room.send(BOB, "m.room.member", { membership: "join", displayname: "Bob" }, BOB);
    await room.send(CAROL, "m.room.member", { membership: "join" }, CAROL);
    await room.send(CAROL, "m.room.message", { body: "early" });
    await room.send(BOB, "m.room.message", { body: "hi" });
    await room.send(ALICE, "m.room.message", { body: "hello" });

    const lazy = page(room, ALICE, { dir: "b", limit: 2, filter: { lazyLoadMembers: true } });
    expect(lazy.state?.map((e) => e.state_key).sort()).toEqual([ALICE, BOB].sort());
    expect(lazy.state?.every((e) => e.type === "m.room.member")).toBe(true);
    expect(lazy.state?.find((e) => e.state_key === BOB)?.content.displayname).toBe("Bob");
    expect(page(room, ALICE, { dir: "b", limit: 2 }).state).toBeUndefined();
  });
});

describe("timeline: ignored users", () => {
  it("leaves out an ignored user's messages but still sends their state events, on /messages and /context", async () => {
    const room = await makeTestRoom(ALICE);
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const mine = await room.send(ALICE, "m.room.message", { body: "mine" });
    const his = await room.send(BOB, "m.room.message", { body: "his" });
    const topic = await room.send(BOB, "m.room.member", { membership: "join", displayname: "Bobby" }, BOB);
    const later = await room.send(ALICE, "m.room.message", { body: "later" });
    const viewer = { userId: ALICE, ignoredUsers: [BOB] };
    const r = timeline(room).messages(viewer, { dir: "f", from: room.streamOf(join.event_id) - 1, limit: 10 });
    expect(r.ok && r.value.chunk.map((e) => e.event_id)).toEqual([join.event_id, mine.event_id, topic.event_id, later.event_id]);
    const c = timeline(room).context(viewer, mine.event_id, { limit: 10 });
    expect(c.ok && c.value.eventsAfter.map((e) => e.event_id)).not.toContain(his.event_id);
    expect(c.ok && c.value.eventsAfter.map((e) => e.event_id)).toContain(topic.event_id);
  });
});

describe("timeline: history visibility on /messages", () => {
  it("joined: a later joiner sees from their own join on", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    // The room's opening was sent before history_visibility was set, under the shared default:
    // Bob sees it once he has joined (spec rule 3).
    const opening = allIds(room);
    await sendMessages(room, ALICE, 3, "before");
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const after = await sendMessages(room, ALICE, 2, "after");
    const expected = [...opening, join.event_id, ...after];
    expect(paginateAll(room, BOB, { dir: "b", limit: 3 }).ids).toEqual([...expected].reverse());
    expect(paginateAll(room, BOB, { dir: "f", limit: 3 }).ids).toEqual(expected);
  });

  it("shared: a later joiner sees everything before their join", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "shared" });
    await sendMessages(room, ALICE, 3, "before");
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    expect(paginateAll(room, BOB, { dir: "f", limit: 4 }).ids).toEqual(allIds(room));
  });

  it("invited: sees from the invite on", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "invited" });
    const opening = allIds(room);
    await sendMessages(room, ALICE, 2, "before");
    const invite = await room.send(ALICE, "m.room.member", { membership: "invite" }, BOB);
    const between = await sendMessages(room, ALICE, 2, "between");
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    expect(paginateAll(room, BOB, { dir: "f", limit: 2 }).ids).toEqual([...opening, invite.event_id, ...between, join.event_id]);
  });

  it("a user who left sees up to their leave and nothing after, in both directions", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const opening = allIds(room);
    await sendMessages(room, ALICE, 2, "hidden");
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const during = await sendMessages(room, ALICE, 2, "during");
    const leave = await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
    await sendMessages(room, ALICE, 30, "after");

    // Bob's own leave is visible to him (his membership before it was join).
    const expected = [...opening, join.event_id, ...during, leave.event_id];
    const back = page(room, BOB, { dir: "b", limit: 10 });
    // Paging back from the newest starts at the leave, not at the room's newest event.
    expect(back.start).toBe(room.streamOf(leave.event_id));
    expect(back.chunk.map((e) => e.event_id)).toEqual([...expected].reverse().slice(0, 10));
    const fwd = paginateAll(room, BOB, { dir: "f", limit: 2 });
    expect(fwd.ids).toEqual(expected);
    // Even from a token past the leave, nothing after it is served.
    const late = page(room, BOB, { dir: "b", from: room.store.maxStream(), limit: 1 });
    expect(late.chunk.map((e) => e.event_id)).toEqual([leave.event_id]);
  });

  it("world_readable: a never-member reads the room; otherwise a never-member is refused", async () => {
    const open = await makeTestRoom(ALICE, { historyVisibility: "world_readable" });
    await sendMessages(open, ALICE, 3);
    // From the history_visibility event on (visible because the setting after it allows);
    // the four events before it were shared, which a stranger may not read.
    expect(paginateAll(open, EVE, { dir: "f", limit: 5 }).ids).toEqual(allIds(open).slice(4));

    const closed = await makeTestRoom(ALICE, { historyVisibility: "shared" });
    const r = timeline(closed).messages({ userId: EVE }, { dir: "b" });
    expect(r).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
    // An invited user who has not joined yet is refused too.
    await closed.send(ALICE, "m.room.member", { membership: "invite" }, BOB);
    expect(timeline(closed).messages({ userId: BOB }, { dir: "b" })).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
  });

  it("hidden history costs no unbounded scan: a late joiner of a long joined-only room gets `end` and an empty page, then the end", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    await sendMessages(room, ALICE, SCAN_BUDGET + 10);
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const first = page(room, BOB, { dir: "b", limit: 5 });
    expect(first.chunk.map((e) => e.event_id)).toEqual([join.event_id]);
    expect(first.end).toBeDefined();
    const rest = paginateAll(room, BOB, { dir: "b", from: first.end, limit: 5 });
    // What remains visible is the room's opening, up to and including the history_visibility
    // event (judged by the shared default before it).
    expect(rest.ids).toEqual(allIds(room).slice(0, 5).reverse());
  }, 60_000);
});

describe("timeline: /context", () => {
  it("splits the limit around the event, returns tokens that continue with /messages, and state at the last event", async () => {
    const room = await makeTestRoom(ALICE);
    const ids = await sendMessages(room, ALICE, 9);
    const target = ids[4]!;
    const r = timeline(room).context({ userId: ALICE }, target, { limit: 5 });
    if (!r.ok) throw new Error(r.error);
    const c = r.value;
    expect(c.event.event_id).toBe(target);
    expect(c.eventsBefore.map((e) => e.event_id)).toEqual([ids[3], ids[2]]);
    expect(c.eventsAfter.map((e) => e.event_id)).toEqual([ids[5], ids[6], ids[7]]);
    expect(page(room, ALICE, { dir: "b", from: c.start, limit: 1 }).chunk[0]!.event_id).toBe(ids[1]);
    expect(page(room, ALICE, { dir: "f", from: c.end, limit: 1 }).chunk[0]!.event_id).toBe(ids[8]);
    expect(c.state.map((e) => e.type)).toEqual(expect.arrayContaining(["m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules"]));
  });

  it("returns the event even with limit 0, and filters the lists and state but not the event", async () => {
    const room = await makeTestRoom(ALICE);
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const before = await room.send(BOB, "m.room.message", { body: "b" });
    await room.send(ALICE, "m.room.message", { body: "a" });
    const target = await room.send(ALICE, "org.example.custom", { body: "target" });
    const after = await room.send(BOB, "m.room.message", { body: "b2" });

    const zero = timeline(room).context({ userId: ALICE }, target.event_id, { limit: 0 });
    expect(zero.ok && [zero.value.event.event_id, zero.value.eventsBefore.length, zero.value.eventsAfter.length]).toEqual([target.event_id, 0, 0]);

    const filtered = timeline(room).context({ userId: ALICE }, target.event_id, { limit: 10, filter: { senders: [BOB], types: ["m.room.message"] } });
    if (!filtered.ok) throw new Error(filtered.error);
    expect(filtered.value.event.event_id).toBe(target.event_id);
    expect(filtered.value.eventsBefore.map((e) => e.event_id)).toEqual([before.event_id]);
    expect(filtered.value.eventsAfter.map((e) => e.event_id)).toEqual([after.event_id]);
    expect(filtered.value.state).toEqual([]);

    const lazy = timeline(room).context({ userId: ALICE }, target.event_id, { limit: 2, filter: { lazyLoadMembers: true } });
    if (!lazy.ok) throw new Error(lazy.error);
    // One event before (Alice's), one after (Bob's): both senders' members, plus the non-member state.
    expect(lazy.value.state.filter((e) => e.type === "m.room.member").map((e) => e.state_key).sort()).toEqual([ALICE, BOB].sort());
    expect(lazy.value.state.some((e) => e.type === "m.room.create")).toBe(true);
    const lazyNarrow = timeline(room).context({ userId: ALICE }, target.event_id, { limit: 0, filter: { lazyLoadMembers: true } });
    expect(lazyNarrow.ok && lazyNarrow.value.state.filter((e) => e.type === "m.room.member").map((e) => e.state_key)).toEqual([ALICE]);
  });

  it("is 404 for an event the viewer may not see and for an unknown one, 403 for a never-member", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const hidden = await room.send(ALICE, "m.room.message", { body: "before bob" });
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const visible = await room.send(ALICE, "m.room.message", { body: "after bob" });
    expect(timeline(room).context({ userId: BOB }, hidden.event_id, {})).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(timeline(room).context({ userId: BOB }, "$nope", {})).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(timeline(room).context({ userId: EVE }, visible.event_id, {})).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
    const ok = timeline(room).context({ userId: BOB }, visible.event_id, { limit: 10 });
    if (!ok.ok) throw new Error(ok.error);
    // Nothing from before Bob's join leaks into events_before.
    expect(ok.value.eventsBefore.map((e) => e.event_id)).not.toContain(hidden.event_id);
    expect(ok.value.eventsBefore[0]!.event_id).toBe(join.event_id);
  });

  it("stops a departed user's events_after at their leave", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "shared" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const msg = await room.send(ALICE, "m.room.message", { body: "while bob is here" });
    const leave = await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
    await sendMessages(room, ALICE, 3, "after");
    const r = timeline(room).context({ userId: BOB }, msg.event_id, { limit: 10 });
    if (!r.ok) throw new Error(r.error);
    expect(r.value.eventsAfter.map((e) => e.event_id)).toEqual([leave.event_id]);
  });
});

describe("timeline: timestamp_to_event", () => {
  it("finds the closest event in each direction, skipping what the viewer may not see, 404 when none", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const early = await room.send(ALICE, "m.room.message", { body: "early" }, undefined, { ts: 5_000_000 });
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB, { ts: 6_000_000 });
    const late = await room.send(ALICE, "m.room.message", { body: "late" }, undefined, { ts: 7_000_000 });
    const t = timeline(room);

    expect(t.eventAtTimestamp(ALICE, 5_500_000, "b")).toEqual({ ok: true, value: { eventId: early.event_id, originServerTs: 5_000_000 } });
    expect(t.eventAtTimestamp(ALICE, 5_500_000, "f")).toEqual({ ok: true, value: { eventId: join.event_id, originServerTs: 6_000_000 } });
    expect(t.eventAtTimestamp(ALICE, 7_000_000, "f")).toMatchObject({ ok: true, value: { eventId: late.event_id } });
    expect(t.eventAtTimestamp(ALICE, 7_000_001, "f")).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    // Bob may not see `early`: backwards from before his join he lands on the room's opening
    // (sent before history_visibility was set, so shared), skipping the hidden message.
    const hv = room.store.currentState().get(stateKey("m.room.history_visibility", ""))!;
    expect(t.eventAtTimestamp(BOB, 5_500_000, "b")).toMatchObject({ ok: true, value: { eventId: hv } });
    expect(t.eventAtTimestamp(BOB, 6_500_000, "b")).toMatchObject({ ok: true, value: { eventId: join.event_id } });
    expect(t.eventAtTimestamp(EVE, 6_500_000, "b")).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
  });

  it("breaks timestamp ties by stream order", async () => {
    const room = await makeTestRoom(ALICE);
    const a = await room.send(ALICE, "m.room.message", { body: "a" }, undefined, { ts: 9_000_000 });
    const b = await room.send(ALICE, "m.room.message", { body: "b" }, undefined, { ts: 9_000_000 });
    const t = timeline(room);
    expect(t.eventAtTimestamp(ALICE, 9_000_000, "b")).toMatchObject({ ok: true, value: { eventId: b.event_id } });
    expect(t.eventAtTimestamp(ALICE, 9_000_000, "f")).toMatchObject({ ok: true, value: { eventId: a.event_id } });
  });
});
