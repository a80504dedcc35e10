import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import { decodeBase64 } from "../../matrix/base64";
import type { ClientEvent } from "../../matrix/client-event";
import { signEvent } from "../../matrix/event-signing";
import type { Pdu } from "../../matrix/events";
import { getRoomVersion, type RoomVersion } from "../../matrix/room-versions";
import { signingKeyFromSeed } from "../../matrix/signing";
import { buildCreateEvent } from "./create-event";
import { RelationsReader, type RelationsQuery } from "./relations";
import { RoomEngine } from "./room-engine";
import { RoomReader } from "./room-reader";
import { RoomStore } from "./room-store";
import { migrate } from "./schema";

const SEED = decodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const CAROL = "@carol:a.test";
const EVE = "@eve:a.test";

let counter = 0;
const randomId = () => `r${++counter}x${Math.random().toString(36).slice(2, 8)}`;

type Content = Record<string, unknown>;

async function makeRoom() {
  const version = getRoomVersion("11")!;
  const key = await signingKeyFromSeed(SEED, "a.test", "ed25519:1");
  const sign = (pdu: Pdu, v: RoomVersion) => signEvent(pdu, key, v);
  const sql = nodeSql();
  migrate(sql);
  const store = new RoomStore(sql);
  let clock = 1_000_000;
  const engine = new RoomEngine(store, { serverName: "a.test", sign, now: () => ++clock, randomId });
  const { event: create, roomId } = await buildCreateEvent({ version, creator: ALICE, content: {}, serverName: "a.test", now: clock, randomId, sign });
  expect((await engine.initialise(create, roomId, version)).ok).toBe(true);
  const send = async (sender: string, type: string, content: Content, opts: { stateKey?: string; ts?: number } = {}) => {
    const r = await engine.append({ sender, type, content: content as never, stateKey: opts.stateKey, originServerTs: opts.ts });
    if (!r.ok) throw new Error(`${type} refused: ${r.error}`);
    return r.event.event_id;
  };
  await send(ALICE, "m.room.member", { membership: "join" }, { stateKey: ALICE });
  await send(ALICE, "m.room.power_levels", { users: { [ALICE]: 100 } }, { stateKey: "" });
  await send(ALICE, "m.room.join_rules", { join_rule: "public" }, { stateKey: "" });
  const join = (user: string) => send(user, "m.room.member", { membership: "join" }, { stateKey: user });
  const leave = (user: string) => send(user, "m.room.member", { membership: "leave" }, { stateKey: user });
  await join(BOB);
  await join(CAROL);
  const reader = new RoomReader(store, version, () => clock);
  const relations = new RelationsReader(store, reader, version);
  const msg = (sender: string, body: string, rel?: Content, opts: { ts?: number; type?: string } = {}) =>
    send(sender, opts.type ?? "m.room.message", { msgtype: "m.text", body, ...(rel ? { "m.relates_to": rel } : {}) }, { ts: opts.ts });
  const edit = (sender: string, target: string, body: string, ts?: number, type?: string) =>
    send(sender, type ?? "m.room.message", { msgtype: "m.text", body: `* ${body}`, "m.new_content": { msgtype: "m.text", body }, "m.relates_to": { rel_type: "m.replace", event_id: target } }, { ts });
  const reply = (sender: string, root: string, body: string) => msg(sender, body, { rel_type: "m.thread", event_id: root });
  const redact = (sender: string, target: string) => send(sender, "m.room.redaction", { redacts: target });
  /** The event as `userId` is served it, with bundled aggregations. */
  const view = (eventId: string, userId = ALICE, ignoredUsers?: string[]): ClientEvent => reader.format(store.getEvent(eventId)!, { userId, ignoredUsers });
  const bundle = (eventId: string, userId = ALICE, ignoredUsers?: string[]) => view(eventId, userId, ignoredUsers).unsigned?.["m.relations"] as any;
  const page = (userId: string, parent: string, q: Partial<RelationsQuery> = {}) =>
    relations.relationsOf(userId, parent, { limit: 50, dir: "b", ...q });
  const ids = (r: { ok: boolean; value?: { chunk: ClientEvent[] } } | any): string[] => {
    if (!r.ok) throw new Error(`read refused: ${r.errcode}`);
    return r.value.chunk.map((e: ClientEvent) => e.event_id);
  };
  return { engine, store, sql, version, reader, relations, send, join, leave, msg, edit, reply, redact, view, bundle, page, ids, stream: (id: string) => store.getEvent(id)!.stream };
}

describe("bundled aggregations: m.replace", () => {
  it("bundles the most recent valid edit and leaves the original's content alone", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "original", undefined, { ts: 5_000 });
    const first = await room.edit(ALICE, root, "first", 10_000);
    const second = await room.edit(ALICE, root, "second", 20_000);
    // Invalid replacements, all newer than `second`: another sender, another type, no m.new_content, a state event.
    await room.edit(BOB, root, "bob's", 30_000);
    await room.edit(ALICE, root, "sticker", 31_000, "m.sticker");
    await room.send(ALICE, "m.room.message", { body: "* bare", "m.relates_to": { rel_type: "m.replace", event_id: root } }, { ts: 32_000 });
    await room.send(
      ALICE,
      "m.room.message",
      { body: "* state", "m.new_content": { body: "state" }, "m.relates_to": { rel_type: "m.replace", event_id: root } },
      { stateKey: "x", ts: 33_000 },
    );

    const served = room.view(root, BOB);
    expect(served.content.body).toBe("original");
    const replace = (served.unsigned!["m.relations"] as any)["m.replace"];
    expect(replace.event_id).toBe(second);
    expect(replace.sender).toBe(ALICE);
    expect(replace.content["m.new_content"]).toEqual({ msgtype: "m.text", body: "second" });
    expect(replace.origin_server_ts).toBe(20_000);

    // Redacting the latest edit falls back to the one before it.
    await room.redact(ALICE, second);
    expect(room.bundle(root)["m.replace"].event_id).toBe(first);
    await room.redact(ALICE, first);
    expect(room.bundle(root)?.["m.replace"]).toBeUndefined();
  });

  it("bundles only an edit the viewer may see", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "original");
    const seen = await room.edit(ALICE, root, "seen by carol");
    await room.leave(CAROL);
    const late = await room.edit(ALICE, root, "after carol left");
    expect(room.bundle(root, CAROL)["m.replace"].event_id).toBe(seen);
    expect(room.bundle(root, ALICE)["m.replace"].event_id).toBe(late);
  });

  it("breaks a timestamp tie by the larger event id", async () => {
    const room = await makeRoom();
    // Edits sharing a timestamp until the largest id is neither the first nor the last sent, so
    // neither insertion order nor its reverse can pass for the rule. When the first edit's id is
    // the largest, more edits can't change that: start over on a new original.
    let root = "";
    let edits: string[] = [];
    const largest = () => [...edits].sort().at(-1)!;
    for (let attempt = 0; edits.length < 3 || largest() === edits[0] || largest() === edits.at(-1); ) {
      if (edits.length === 0 || edits.length >= 8) {
        if (++attempt > 20) throw new Error("no suitable ordering");
        root = await room.msg(ALICE, `original ${attempt}`);
        edits = [];
      }
      edits.push(await room.edit(ALICE, root, `e${edits.length}`, 50_000));
    }
    expect(room.bundle(root)["m.replace"].event_id).toBe(largest());
  });

  it("bundles nothing for a redacted original, an edit of an edit, or a state event", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "original");
    const edit = await room.edit(ALICE, root, "edited");
    await room.edit(ALICE, edit, "edit of the edit");
    expect(room.bundle(edit)).toBeUndefined();

    const topic = await room.send(ALICE, "m.room.topic", { topic: "t" }, { stateKey: "" });
    await room.send(ALICE, "m.room.topic", { topic: "* t2", "m.new_content": { topic: "t2" }, "m.relates_to": { rel_type: "m.replace", event_id: topic } });
    expect(room.bundle(topic)).toBeUndefined();

    expect(room.bundle(root)["m.replace"].event_id).toBe(edit);
    await room.redact(ALICE, root);
    expect(room.bundle(root)).toBeUndefined();
  });
});

describe("bundled aggregations: m.thread and m.reference", () => {
  it("summarises a thread: latest event with its own edit, count, participation", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const r1 = await room.reply(BOB, root, "one");
    const r2 = await room.reply(BOB, root, "two");
    const r3 = await room.reply(BOB, root, "three");
    const r3edit = await room.edit(BOB, r3, "three, edited");

    const forBob = room.bundle(root, BOB)["m.thread"];
    expect(forBob.count).toBe(3);
    expect(forBob.current_user_participated).toBe(true);
    expect(forBob.latest_event.event_id).toBe(r3);
    expect(forBob.latest_event.content.body).toBe("three");
    expect(forBob.latest_event.unsigned["m.relations"]["m.replace"].event_id).toBe(r3edit);
    // The root's sender participated; a member who neither started nor replied did not.
    expect(room.bundle(root, ALICE)["m.thread"].current_user_participated).toBe(true);
    expect(room.bundle(root, CAROL)["m.thread"].current_user_participated).toBe(false);

    // A redacted reply leaves the thread: the count drops and the latest event moves back.
    await room.redact(BOB, r3);
    const after = room.bundle(root, CAROL)["m.thread"];
    expect(after.count).toBe(2);
    expect(after.latest_event.event_id).toBe(r2);
    await room.redact(BOB, r2);
    await room.redact(BOB, r1);
    expect(room.bundle(root, CAROL)).toBeUndefined();
  });

  it("leaves out replies from ignored users and replies the viewer may not see", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const fromBob = await room.reply(BOB, root, "bob");
    const fromCarol = await room.reply(CAROL, root, "carol");
    expect(room.bundle(root, ALICE, [CAROL])["m.thread"]).toMatchObject({ count: 1, latest_event: { event_id: fromBob } });

    // Carol leaves; what is said after that is hidden from her, in the bundle too.
    await room.leave(CAROL);
    const late = await room.reply(BOB, root, "after carol left");
    expect(room.bundle(root, CAROL)["m.thread"]).toMatchObject({ count: 2, latest_event: { event_id: fromCarol }, current_user_participated: true });
    expect(room.bundle(root, ALICE)["m.thread"]).toMatchObject({ count: 3, latest_event: { event_id: late } });
  });

  it("lists references, drops redacted ones, and never aggregates annotations", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const ref1 = await room.msg(BOB, "ref one", { rel_type: "m.reference", event_id: root });
    const ref2 = await room.msg(BOB, "ref two", { rel_type: "m.reference", event_id: root });
    const ref3 = await room.msg(BOB, "ref three", { rel_type: "m.reference", event_id: root });
    await room.send(BOB, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: root, key: "👍" } });
    await room.redact(BOB, ref2);
    expect(room.bundle(root)).toEqual({ "m.reference": { chunk: [{ event_id: ref1 }, { event_id: ref3 }] } });
    // Ignored senders and references the viewer may not see are left out.
    await room.leave(CAROL);
    const late = await room.msg(ALICE, "ref after carol left", { rel_type: "m.reference", event_id: root });
    expect(room.bundle(root, CAROL)["m.reference"].chunk).toEqual([{ event_id: ref1 }, { event_id: ref3 }]);
    expect(room.bundle(root, ALICE, [BOB])["m.reference"].chunk).toEqual([{ event_id: late }]);

    const reacted = await room.msg(ALICE, "only reactions");
    await room.send(BOB, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: reacted, key: "👍" } });
    expect(room.view(reacted).unsigned).not.toHaveProperty("m.relations");
  });

  it("stores a relation whose parent is unknown here, and aggregates it for nothing", async () => {
    const room = await makeRoom();
    const orphan = await room.reply(BOB, "$not-in-this-room", "orphan");
    const row = room.sql.all<{ parent_id: string }>("SELECT parent_id FROM relations WHERE event_id = ?", orphan)[0];
    expect(row?.parent_id).toBe("$not-in-this-room");
    expect(room.page(ALICE, "$not-in-this-room")).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(room.relations.threads(ALICE, { include: "all", limit: 10 })).toEqual({ ok: true, value: { chunk: [] } });
  });
});

describe("relations API", () => {
  it("filters by relation and event type, newest first or oldest first", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const t1 = await room.reply(BOB, root, "t1");
    const like = await room.send(BOB, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: root, key: "👍" } });
    const t2 = await room.reply(CAROL, root, "t2");
    const ref = await room.msg(BOB, "ref", { rel_type: "m.reference", event_id: root });
    await room.msg(BOB, "unrelated");

    expect(room.ids(room.page(BOB, root))).toEqual([ref, t2, like, t1]);
    expect(room.ids(room.page(BOB, root, { dir: "f" }))).toEqual([t1, like, t2, ref]);
    expect(room.ids(room.page(BOB, root, { relType: "m.thread" }))).toEqual([t2, t1]);
    expect(room.ids(room.page(BOB, root, { relType: "m.annotation", eventType: "m.reaction" }))).toEqual([like]);
    expect(room.ids(room.page(BOB, root, { relType: "m.thread", eventType: "m.reaction" }))).toEqual([]);
    // Children are served like any event: with their own bundles.
    const threaded = await room.msg(ALICE, "threaded");
    await room.reply(BOB, threaded, "x");
    const child = await room.msg(BOB, "points at a thread root", { rel_type: "m.reference", event_id: root });
    await room.reply(BOB, child, "nested reply");
    const served = (room.page(BOB, root, { limit: 1 }) as any).value.chunk[0] as ClientEvent;
    expect(served.event_id).toBe(child);
    expect((served.unsigned!["m.relations"] as any)["m.thread"].count).toBe(1);
  });

  it("paginates with next batches in both directions and honours `to`", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(await room.reply(BOB, root, `r${i}`));

    const p1 = room.page(BOB, root, { limit: 2 });
    expect(room.ids(p1)).toEqual([replies[4], replies[3]]);
    const next1 = (p1 as any).value.next as number;
    expect(next1).toBeDefined();
    const p2 = room.page(BOB, root, { limit: 2, from: next1 });
    expect(room.ids(p2)).toEqual([replies[2], replies[1]]);
    const p3 = room.page(BOB, root, { limit: 2, from: (p2 as any).value.next });
    expect(room.ids(p3)).toEqual([replies[0]]);
    expect((p3 as any).value.next).toBeUndefined();

    const f1 = room.page(BOB, root, { limit: 3, dir: "f" });
    expect(room.ids(f1)).toEqual(replies.slice(0, 3));
    const f2 = room.page(BOB, root, { limit: 3, dir: "f", from: (f1 as any).value.next });
    expect(room.ids(f2)).toEqual(replies.slice(3));
    expect((f2 as any).value.next).toBeUndefined();

    // `to` is the far end: backwards from the newest, stop before reaching replies[1].
    expect(room.ids(room.page(BOB, root, { to: room.stream(replies[1]!) }))).toEqual([replies[4], replies[3], replies[2]]);
    expect(room.ids(room.page(BOB, root, { dir: "f", to: room.stream(replies[1]!) }))).toEqual([replies[0], replies[1]]);
    // A page exactly as large as what's left has no next batch.
    expect((room.page(BOB, root, { limit: 5 }) as any).value.next).toBeUndefined();
  });

  it("recurses three levels when asked, through matching events only", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const ref = (parent: string, body: string) => room.msg(BOB, body, { rel_type: "m.reference", event_id: parent });
    const c1 = await ref(root, "c1");
    const c2 = await ref(c1, "c2");
    const c3 = await ref(c2, "c3");
    await ref(c3, "c4 (too deep)");
    const like = await room.send(BOB, "m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: root, key: "x" } });
    const underLike = await ref(like, "under an annotation");

    const direct = room.page(BOB, root);
    expect(room.ids(direct)).toEqual([like, c1]);
    expect((direct as any).value.recursionDepth).toBeUndefined();
    expect((room.page(BOB, root, { recurse: false }) as any).value.recursionDepth).toBe(1);

    const deep = room.page(BOB, root, { recurse: true });
    expect(room.ids(deep)).toEqual([underLike, like, c3, c2, c1]);
    expect((deep as any).value.recursionDepth).toBe(3);
    // The filter applies at every level: nothing is reached through the non-matching annotation.
    expect(room.ids(room.page(BOB, root, { recurse: true, relType: "m.reference" }))).toEqual([c3, c2, c1]);
  });

  it("leaves out redacted children and applies history visibility: 404 for a hidden parent, 403 outside the room", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const before = await room.reply(BOB, root, "before");
    const gone = await room.reply(BOB, root, "gone");
    await room.redact(BOB, gone);
    await room.leave(CAROL);
    const after = await room.reply(BOB, root, "after carol left");
    const laterRoot = await room.msg(ALICE, "later root");

    expect(room.ids(room.page(ALICE, root))).toEqual([after, before]);
    expect(room.ids(room.page(CAROL, root))).toEqual([before]);
    expect(room.page(CAROL, laterRoot)).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(room.page(ALICE, "$unknown")).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(room.page(EVE, root)).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
    expect(room.relations.threads(EVE, { include: "all", limit: 5 })).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
  });

  it("fills a page past children the viewer may not see", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const visible = await room.reply(BOB, root, "seen by carol");
    await room.leave(CAROL);
    for (let i = 0; i < 4; i++) await room.reply(BOB, root, `hidden ${i}`);
    const p = room.page(CAROL, root, { limit: 1 });
    expect(room.ids(p)).toEqual([visible]);
    expect((p as any).value.next).toBeUndefined();
  });
});

describe("thread list", () => {
  it("orders roots by their latest reply, filters by participation and paginates", async () => {
    const room = await makeRoom();
    const a = await room.msg(ALICE, "thread a");
    const b = await room.msg(CAROL, "thread b");
    const c = await room.msg(ALICE, "thread c");
    await room.msg(ALICE, "not a thread");
    await room.reply(ALICE, a, "a1");
    await room.reply(ALICE, b, "b1");
    const c1 = await room.reply(ALICE, c, "c1");
    const a2 = await room.reply(BOB, a, "a2");

    const all = room.relations.threads(CAROL, { include: "all", limit: 10 });
    expect(room.ids(all)).toEqual([a, c, b]);
    const first = (all as any).value.chunk[0] as ClientEvent;
    expect((first.unsigned!["m.relations"] as any)["m.thread"]).toMatchObject({ count: 2, latest_event: { event_id: a2 } });
    expect((all as any).value.next).toBeUndefined();

    expect(room.ids(room.relations.threads(BOB, { include: "participated", limit: 10 }))).toEqual([a]);
    // Carol participated in b by starting it.
    expect(room.ids(room.relations.threads(CAROL, { include: "participated", limit: 10 }))).toEqual([b]);

    const p1 = room.relations.threads(CAROL, { include: "all", limit: 2 });
    expect(room.ids(p1)).toEqual([a, c]);
    const p2 = room.relations.threads(CAROL, { include: "all", limit: 2, from: (p1 as any).value.next });
    expect(room.ids(p2)).toEqual([b]);
    expect((p2 as any).value.next).toBeUndefined();

    // Redacting c's only reply drops thread c; a reply to b moves it to the top.
    await room.redact(ALICE, c1);
    await room.reply(BOB, b, "b2");
    expect(room.ids(room.relations.threads(CAROL, { include: "all", limit: 10 }))).toEqual([b, a]);
  });

  it("lists only roots the viewer may see, and serves an ignored user's root redacted", async () => {
    const room = await makeRoom();
    const early = await room.msg(BOB, "early secret plan");
    await room.reply(ALICE, early, "reply");
    await room.leave(CAROL);
    const late = await room.msg(ALICE, "after carol left");
    await room.reply(ALICE, late, "reply");

    expect(room.ids(room.relations.threads(CAROL, { include: "all", limit: 10 }))).toEqual([early]);
    const forAlice = room.relations.threads(ALICE, { include: "all", limit: 10, ignoredUsers: [BOB] });
    expect(room.ids(forAlice)).toEqual([late, early]);
    const ignoredRoot = (forAlice as any).value.chunk[1] as ClientEvent;
    expect(ignoredRoot.content).toEqual({});
  });

  it("backfills the thread index for rooms that had threads before it existed", async () => {
    const room = await makeRoom();
    const root = await room.msg(ALICE, "root");
    const r1 = await room.reply(BOB, root, "one");
    const r2 = await room.reply(BOB, root, "two");
    await room.redact(BOB, r2);
    room.sql.run("DROP TABLE threads");
    room.sql.run("UPDATE _schema SET version = 1");
    migrate(room.sql);
    expect(room.sql.all("SELECT root_id, latest_stream FROM threads")).toEqual([{ root_id: root, latest_stream: room.stream(r1) }]);
  });
});
