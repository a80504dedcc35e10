import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import type { ClientEvent } from "../../matrix/client-event";
import { buildRuleset, type PushRuleset } from "../../matrix/push";
import { NOTIFICATIONS_KEEP } from "./notifications";
import { PushOutbox, PUSH_MAX_ATTEMPTS, PUSH_RETRY_INITIAL_MS } from "./notifications-outbox";
import { migrate } from "./schema";
import type { DeliveredReceipt } from "./stream-types";
import { SyncEngine } from "./sync-engine";
import { UserStore } from "./user-store";

const ME = "@me:a.test";
const BOB = "@bob:a.test";
const ROOM = "!room:a.test";

function setup(ruleset: PushRuleset = buildRuleset(ME, [], [])) {
  const sql = nodeSql();
  migrate(sql);
  const clock = { now: 1_000_000 };
  const e = new SyncEngine(new UserStore(sql), ME, () => clock.now);
  let stream = 0;
  const deliver = (events: ClientEvent[], joined = 3) =>
    e.deliver({ roomId: ROOM, summary: { joined, invited: 0, heroes: [] }, events: events.map((event) => ({ roomStream: ++stream, event })) }, { ruleset });
  return { sql, clock, e, deliver, streamNow: () => stream };
}

let n = 0;
function ev(sender: string, type: string, content: Record<string, unknown>, stateKey?: string): ClientEvent {
  n += 1;
  return { event_id: `$e${n}`, room_id: ROOM, sender, type, content: content as never, origin_server_ts: 1, ...(stateKey !== undefined ? { state_key: stateKey } : {}) };
}
const msg = (body: string, extra: Record<string, unknown> = {}, sender = BOB) => ev(sender, "m.room.message", { msgtype: "m.text", body, ...extra });
const inThread = (root: string, body: string) => msg(body, { "m.relates_to": { rel_type: "m.thread", event_id: root } });
const receipt = (eventId: string, stream: number, eventStream: number, threadId?: string, receiptType: DeliveredReceipt["receiptType"] = "m.read"): DeliveredReceipt => ({
  userId: ME,
  receiptType,
  eventId,
  eventStream,
  ts: 1,
  stream,
  ...(threadId ? { threadId } : {}),
});

function room(deliver: (events: ClientEvent[]) => unknown) {
  deliver([
    ev(BOB, "m.room.create", { room_version: "10", creator: BOB }, ""),
    ev(BOB, "m.room.member", { membership: "join" }, BOB),
    ev(ME, "m.room.member", { membership: "join", displayname: "Mimi" }, ME),
  ]);
}

describe("user object: notification counts", () => {
  it("the counts kept between syncs always equal a fresh count (new messages, threads, receipts, a rolled-back delivery)", () => {
    const { sql, e, deliver, streamNow } = setup();
    room(deliver);
    const fresh = (threaded: boolean) => new SyncEngine(new UserStore(sql), ME, () => 0).notifications.counts(ROOM, threaded);
    const same = () => {
      for (const threaded of [false, true]) expect(e.notifications.counts(ROOM, threaded)).toEqual(fresh(threaded));
    };
    same();
    const root = msg("root");
    deliver([root, msg("Mimi?")]);
    same();
    deliver([inThread(root.event_id, "in thread"), msg("more")]);
    same();
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r1", 1, streamNow() - 1, root.event_id)] });
    same();
    deliver([inThread(root.event_id, "after the thread receipt"), msg("after")]);
    same();
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r2", 2, streamNow() - 1)] });
    deliver([msg("last")]);
    same();
    // A receipt can arrive before the event it names (read on another device): that event is read.
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r3", 3, streamNow() + 1)] });
    same();
    deliver([msg("read before it arrived")]);
    same();
    // A delivery whose transaction fails after recording a notification leaves no trace in the counts.
    const before = e.notifications.counts(ROOM, false);
    const store = (e as unknown as { store: UserStore }).store;
    const upsert = store.upsertRoom.bind(store);
    store.upsertRoom = () => {
      throw new Error("disk full");
    };
    expect(() => deliver([msg("lost")])).toThrow("disk full");
    store.upsertRoom = upsert;
    expect(e.notifications.counts(ROOM, false)).toEqual(before);
    same();
  });

  it("counts others' messages, highlights mentions, and never the user's own events", () => {
    const { e, deliver } = setup();
    room(deliver);
    const notified = deliver([msg("hello"), msg("hey Mimi, look"), msg("mine", {}, ME)]);
    expect(notified.map((x) => x.outcome.highlight)).toEqual([false, true]);
    expect(e.notifications.counts(ROOM, false)).toEqual({ room: { notification_count: 2, highlight_count: 1 } });
  });

  it("the user's receipt resets counts up to and including the receipted event; private receipts count too", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    deliver([msg("one")]);
    const first = streamNow();
    deliver([msg("two"), msg("Mimi!")]);
    expect(e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$x", 1, first)] })).toBe(true);
    expect(e.notifications.counts(ROOM, false).room).toEqual({ notification_count: 2, highlight_count: 1 });
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$y", 2, streamNow(), undefined, "m.read.private")] });
    expect(e.notifications.counts(ROOM, false).room).toEqual({ notification_count: 0, highlight_count: 0 });
    // Someone else's receipt changes nothing.
    expect(e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [{ ...receipt("$z", 3, streamNow() + 5), userId: BOB }] })).toBe(false);
  });

  it("threaded counts: per thread when asked, main excludes threads; threaded receipts reset their thread only", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    const root = msg("root");
    deliver([root, inThread(root.event_id, "in thread 1"), inThread(root.event_id, "Mimi in thread")]);
    expect(e.notifications.counts(ROOM, false).room).toEqual({ notification_count: 3, highlight_count: 1 });
    expect(e.notifications.counts(ROOM, true)).toEqual({
      room: { notification_count: 1, highlight_count: 0 },
      threads: { [root.event_id]: { notification_count: 2, highlight_count: 1 } },
    });
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$t", 1, streamNow(), root.event_id)] });
    expect(e.notifications.counts(ROOM, true)).toEqual({ room: { notification_count: 1, highlight_count: 0 }, threads: {} });
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$m", 2, streamNow(), "main")] });
    expect(e.notifications.counts(ROOM, false).room.notification_count).toBe(0);
  });

  it("an unthreaded receipt covers every thread", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    const root = msg("root");
    deliver([root, inThread(root.event_id, "reply")]);
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$u", 1, streamNow())] });
    expect(e.notifications.counts(ROOM, true)).toEqual({ room: { notification_count: 0, highlight_count: 0 }, threads: {} });
  });

  it("a room rule without notify mutes the room", () => {
    const ruleset = buildRuleset(ME, [{ kind: "room", ruleId: ROOM, enabled: true, actions: [] }], []);
    const { e, deliver } = setup(ruleset);
    room(deliver);
    expect(deliver([msg("hello")])).toEqual([]);
    expect(e.notifications.counts(ROOM, false).room.notification_count).toBe(0);
  });

  it("sender_notification_permission: @room highlights only from a sender with the power", () => {
    const { e, deliver } = setup();
    room(deliver);
    deliver([ev(BOB, "m.room.power_levels", { users: { [BOB]: 100 }, notifications: { room: 50 } }, "")]);
    const [n1] = deliver([msg("@room hi")]);
    expect(n1?.outcome.highlight).toBe(true);
    deliver([ev(BOB, "m.room.power_levels", { users: { [BOB]: 10 }, notifications: { room: 50 } }, "")]);
    const [n2] = deliver([msg("@room again")]);
    expect(n2?.outcome.highlight).toBe(false);
    expect(e.notifications.counts(ROOM, false).room.highlight_count).toBe(1);
  });

  it("encrypted events: a one-to-one room's notify with a sound, a group's by .m.rule.encrypted", () => {
    const { deliver } = setup();
    room(deliver);
    const encrypted = () => ev(BOB, "m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "x", session_id: "s", sender_key: "k", device_id: "D" });
    const [inPair] = deliver([encrypted()], 2);
    expect(inPair?.outcome.ruleId).toBe(".m.rule.encrypted_room_one_to_one");
    expect(inPair?.outcome.sound).toBe("default");
    const [inGroup] = deliver([encrypted()], 3);
    expect(inGroup?.outcome.ruleId).toBe(".m.rule.encrypted");
    expect(inGroup?.outcome.sound).toBeUndefined();
  });

  it("a repeated delivery is not counted twice", () => {
    const { e, deliver } = setup();
    room(deliver);
    const m = msg("once");
    deliver([m]);
    e.deliver({ roomId: ROOM, summary: { joined: 3, invited: 0, heroes: [] }, events: [{ roomStream: 4, event: m }] }, { ruleset: buildRuleset(ME, [], []) });
    expect(e.notifications.counts(ROOM, false).room.notification_count).toBe(1);
  });

  it("the incremental sync after a receipt carries the room with its lowered counts", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    deliver([msg("a"), msg("b")]);
    const since = e.compute({ deviceId: "D" }).nextPos;
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r", 1, streamNow())] });
    const next = e.compute({ deviceId: "D", since });
    expect(next.join[ROOM]?.unread.room).toEqual({ notification_count: 0, highlight_count: 0 });
  });
});

describe("user object: notification list", () => {
  it("newest first, paged with a token, highlight-only, with the read flag", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    deliver([msg("1"), msg("Mimi 2")]);
    const readUpTo = streamNow();
    deliver([msg("3")]);
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r", 1, readUpTo)] });
    const page1 = e.notifications.list(undefined, 2, false);
    expect(page1.notifications.map((x) => [x.event.content.body, x.read])).toEqual([
      ["3", false],
      ["Mimi 2", true],
    ]);
    const page2 = e.notifications.list(page1.nextToken, 2, false);
    expect(page2.notifications.map((x) => x.event.content.body)).toEqual(["1"]);
    expect(page2.nextToken).toBeUndefined();
    expect(e.notifications.list(undefined, 10, true).notifications.map((x) => x.event.content.body)).toEqual(["Mimi 2"]);
  });

  it("read notifications past the retention are trimmed; unread ones are kept and counted", () => {
    const { e, deliver, streamNow } = setup();
    room(deliver);
    const before = NOTIFICATIONS_KEEP + 300;
    for (let i = 0; i < before; i++) deliver([msg(`m ${i}`)]);
    // Nothing read yet: nothing goes.
    expect(e.notifications.list(undefined, 5000, false).notifications.length).toBe(before);
    e.deliverEphemeral({ kind: "receipts", roomId: ROOM, receipts: [receipt("$r", 1, streamNow())] });
    for (let i = 0; i < 100; i++) deliver([msg(`late ${i}`)]);
    expect(e.notifications.counts(ROOM, false).room.notification_count).toBe(100);
    // Trimming runs every 50: at the last run (position 900) read ones up to 400 went.
    const all = e.notifications.list(undefined, 5000, false).notifications;
    expect(all.length).toBe(before + 100 - 400);
    expect(all.at(-1)?.event.content.body).toBe("m 400");
  });
});

describe("push outbox", () => {
  it("backs off exponentially and drops a notification after the last attempt", () => {
    const sql = nodeSql();
    migrate(sql);
    const clock = { now: 0 };
    const box = new PushOutbox(sql, ME, () => clock.now);
    box.enqueue([{ appId: "a", pushkey: "k", url: "https://gw/_matrix/push/v1/notify", body: "{}" }]);
    const delays: number[] = [];
    for (let i = 0; i < PUSH_MAX_ATTEMPTS; i++) {
      const [row] = box.due(10);
      expect(row).toBeDefined();
      const before = clock.now;
      const outcome = box.failed(row!);
      if (outcome === "dropped") break;
      clock.now = box.nextAt()!;
      delays.push(clock.now - before);
    }
    expect(delays.slice(0, 3)).toEqual([PUSH_RETRY_INITIAL_MS, PUSH_RETRY_INITIAL_MS * 2, PUSH_RETRY_INITIAL_MS * 4]);
    expect(delays.length).toBe(PUSH_MAX_ATTEMPTS - 1);
    expect(box.nextAt()).toBeUndefined();
  });

  it("a row waiting for its retry holds back its pusher's later rows, not other pushers'", () => {
    const sql = nodeSql();
    migrate(sql);
    const clock = { now: 0 };
    const box = new PushOutbox(sql, ME, () => clock.now);
    const item = (pushkey: string, body: string) => ({ appId: "a", pushkey, url: "https://gw/_matrix/push/v1/notify", body });
    box.enqueue([item("k1", "first"), item("k2", "other"), item("k1", "second")]);
    const [first] = box.due(10);
    box.failed(first!);
    expect(box.due(10).map((r) => r.body)).toEqual(["other"]);
    box.done(box.due(10)[0]!.id);
    // The alarm waits for the retry, though "second" was due long ago: it can't go before "first".
    expect(box.nextAt()).toBe(PUSH_RETRY_INITIAL_MS);
    clock.now = PUSH_RETRY_INITIAL_MS;
    expect(box.due(10).map((r) => r.body)).toEqual(["first", "second"]);
  });
});
