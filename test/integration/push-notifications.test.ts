/**
 * Notification counts and the notification list (spec: Client-Server § Push Notifications,
 * GET /sync `unread_notifications` / `unread_thread_notifications`, § Receipts: Threaded read
 * receipts, GET /notifications): each event is evaluated for each member with their push rules in
 * their own object, and their read receipts reset the counts.
 */
import { describe, expect, it } from "vitest";
import { SyncSession } from "./ephemeral-helpers";
import { call, registerUser } from "./helpers";
import { createRoom, joinOk, roomPath, send, sendOk, type TestUser } from "./room-helpers";

const enc = encodeURIComponent;
const THREADED = `&filter=${enc(JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } }))}`;

async function sendBody(user: TestUser, roomId: string, content: Record<string, unknown>): Promise<string> {
  const res = await send(user, roomId, { msgtype: "m.text", ...content });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.event_id;
}

const mention = (user: TestUser, body: string) => ({ body, "m.mentions": { user_ids: [user.user_id] } });
const inThread = (root: string, body: string) => ({ body, "m.relates_to": { rel_type: "m.thread", event_id: root } });

async function receipt(user: TestUser, roomId: string, eventId: string, type = "m.read", body: unknown = {}) {
  const res = await call("POST", roomPath(roomId, `/receipt/${type}/${enc(eventId)}`), { token: user.access_token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** A group room (three members) made by Alice, with Bob and Carol joined, and Alice's sync session started in it. */
async function groupRoom() {
  const [alice, bob, carol] = [await registerUser(), await registerUser(), await registerUser()];
  const roomId = await createRoom(alice, { preset: "public_chat" });
  await joinOk(bob, roomId);
  await joinOk(carol, roomId);
  const session = await new SyncSession(alice.access_token).start(roomId);
  return { alice, bob, carol, roomId, session };
}

const timelineHas = (body: any, roomId: string, eventId: string) => (body.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e: any) => e.event_id === eventId);
const unread = (body: any, roomId: string) => body.rooms?.join?.[roomId]?.unread_notifications;

/** Syncs with per-thread counts until `pred` holds; the response and its next_batch. */
async function threadedSync(user: TestUser, since: string | undefined, pred: (body: any) => boolean): Promise<{ body: any; since: string }> {
  for (let i = 0; i < 20; i++) {
    const res = await call("GET", `/_matrix/client/v3/sync?timeout=${since ? 500 : 0}${since ? `&since=${since}` : ""}${THREADED}`, { token: user.access_token });
    expect(res.status).toBe(200);
    since = res.body.next_batch as string;
    if (pred(res.body)) return { body: res.body, since };
  }
  throw new Error("threaded sync: condition not met");
}

/** Syncs (incrementally) until `eventId` arrives, returning that response. */
function untilEvent(session: SyncSession, roomId: string, eventId: string) {
  return session.until((b) => timelineHas(b, roomId, eventId));
}

describe("notification counts in /sync", () => {
  it("counts others' messages, highlights mentions, and not the user's own messages", async () => {
    const { alice, bob, roomId, session } = await groupRoom();
    await sendOk(bob, roomId, "plain");
    await sendOk(alice, roomId, "my own");
    const last = await sendBody(bob, roomId, mention(alice, "look at this"));
    const body = await untilEvent(session, roomId, last);
    expect(unread(body, roomId)).toEqual({ notification_count: 2, highlight_count: 1 });
    // An initial sync carries them too.
    const initial = await new SyncSession(alice.access_token).next();
    expect(unread(initial, roomId)).toEqual({ notification_count: 2, highlight_count: 1 });
    // Bob's counts don't include his own messages: Alice's one message.
    const bobs = await new SyncSession(bob.access_token).next();
    expect(unread(bobs, roomId)).toEqual({ notification_count: 1, highlight_count: 0 });
  });

  it("the user's read receipt resets counts up to the receipted event, and the room comes back with no new events", async () => {
    const { alice, bob, roomId, session } = await groupRoom();
    const first = await sendOk(bob, roomId, "one");
    await sendOk(bob, roomId, "two");
    const third = await sendBody(bob, roomId, mention(alice, "three"));
    await untilEvent(session, roomId, third);
    await receipt(alice, roomId, first);
    let body = await session.until((b) => unread(b, roomId)?.notification_count === 2);
    expect(unread(body, roomId)).toEqual({ notification_count: 2, highlight_count: 1 });
    expect(body.rooms.join[roomId].timeline.events).toEqual([]);
    // A private receipt resets them too.
    await receipt(alice, roomId, third, "m.read.private");
    body = await session.until((b) => unread(b, roomId)?.notification_count === 0);
    expect(unread(body, roomId)).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it("someone else's receipt leaves the user's counts alone", async () => {
    const { alice, bob, carol, roomId, session } = await groupRoom();
    const m = await sendOk(bob, roomId, "hello");
    await untilEvent(session, roomId, m);
    await receipt(carol, roomId, m);
    const body = await session.until((b) => (b.rooms?.join?.[roomId]?.ephemeral?.events ?? []).some((e: any) => e.type === "m.receipt"));
    expect(unread(body, roomId)).toEqual({ notification_count: 1, highlight_count: 0 });
  });

  it("threads: per-thread counts when the filter asks, the main timeline's without them, and threaded receipts", async () => {
    const { alice, bob, roomId, session } = await groupRoom();
    const root = await sendOk(bob, roomId, "root");
    await sendBody(bob, roomId, inThread(root, "reply 1"));
    const reply2 = await sendBody(bob, roomId, { ...inThread(root, "reply 2"), "m.mentions": { user_ids: [alice.user_id] } });
    const unthreaded = await untilEvent(session, roomId, reply2);
    // Without the filter flag: everything in one count, no per-thread section.
    expect(unread(unthreaded, roomId)).toEqual({ notification_count: 3, highlight_count: 1 });
    expect(unthreaded.rooms.join[roomId].unread_thread_notifications).toBeUndefined();

    let threaded = await threadedSync(alice, undefined, () => true);
    expect(threaded.body.rooms.join[roomId].unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(threaded.body.rooms.join[roomId].unread_thread_notifications).toEqual({ [root]: { notification_count: 2, highlight_count: 1 } });

    // A receipt in the thread clears the thread (it is left out), not the main timeline.
    await receipt(alice, roomId, reply2, "m.read", { thread_id: root });
    threaded = await threadedSync(alice, threaded.since, (b) => b.rooms?.join?.[roomId]?.unread_thread_notifications?.[root] === undefined && b.rooms?.join?.[roomId] !== undefined);
    expect(threaded.body.rooms.join[roomId].unread_thread_notifications).toEqual({});
    expect(threaded.body.rooms.join[roomId].unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    // A `main` receipt on the root clears the main timeline.
    await receipt(alice, roomId, root, "m.read", { thread_id: "main" });
    const body = await session.until((b) => unread(b, roomId)?.notification_count === 0);
    expect(unread(body, roomId)).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it("a room rule with no actions silences all but mentions; an override dont_notify rule (Element's mute) silences everything", async () => {
    const { alice, bob, roomId, session } = await groupRoom();
    const rule = await call("PUT", `/_matrix/client/v3/pushrules/global/room/${enc(roomId)}`, { token: alice.access_token, body: { actions: [] } });
    expect(rule.status).toBe(200);
    await sendBody(bob, roomId, mention(alice, "mentions are override rules, checked before room rules"));
    const plain = await sendOk(bob, roomId, "plain");
    const body = await untilEvent(session, roomId, plain);
    // The mention is an override rule (before room rules), so it still highlights; the plain message does not count.
    expect(unread(body, roomId)).toEqual({ notification_count: 1, highlight_count: 1 });

    // Element's "mute": an override rule matching the room with dont_notify.
    const mute = await call("PUT", `/_matrix/client/v3/pushrules/global/override/${enc(roomId)}`, {
      token: alice.access_token,
      body: { actions: ["dont_notify"], conditions: [{ kind: "event_match", key: "room_id", pattern: roomId }] },
    });
    expect(mute.status).toBe(200);
    await sendBody(bob, roomId, mention(alice, "muted mention"));
    const last = await sendOk(bob, roomId, "muted plain");
    const after = await untilEvent(session, roomId, last);
    expect(unread(after, roomId)).toEqual({ notification_count: 1, highlight_count: 1 });
  });

  it("in a one-to-one room every message notifies", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "trusted_private_chat", invite: [bob.user_id], is_direct: true });
    await joinOk(bob, roomId);
    const session = await new SyncSession(alice.access_token).start(roomId);
    const m = await sendOk(bob, roomId, "hi");
    const body = await untilEvent(session, roomId, m);
    expect(unread(body, roomId)).toEqual({ notification_count: 1, highlight_count: 0 });
  });
});

describe("GET /notifications", () => {
  const list = (user: TestUser, query = "") => call("GET", `/_matrix/client/v3/notifications${query}`, { token: user.access_token });

  it("lists notifications newest first with actions, ts and the read flag; pages with from/limit; only=highlight", async () => {
    const { alice, bob, roomId, session } = await groupRoom();
    const before = Date.now();
    const first = await sendOk(bob, roomId, "first");
    const second = await sendBody(bob, roomId, mention(alice, "second"));
    await sendOk(alice, roomId, "own: not listed");
    const third = await sendOk(bob, roomId, "third");
    await untilEvent(session, roomId, third);

    const all = await list(alice);
    expect(all.status).toBe(200);
    expect(all.body.notifications.map((n: any) => n.event.event_id)).toEqual([third, second, first]);
    const n0 = all.body.notifications[0];
    expect(n0.room_id).toBe(roomId);
    expect(n0.read).toBe(false);
    expect(n0.actions).toContain("notify");
    expect(n0.ts).toBeGreaterThanOrEqual(before - 1000);
    expect(n0.event.content.body).toBe("third");
    expect(all.body.notifications[1].actions).toContainEqual({ set_tweak: "highlight" });
    expect(all.body.next_token).toBeUndefined();

    const page1 = await list(alice, "?limit=2");
    expect(page1.body.notifications.map((n: any) => n.event.event_id)).toEqual([third, second]);
    expect(typeof page1.body.next_token).toBe("string");
    const page2 = await list(alice, `?limit=2&from=${page1.body.next_token}`);
    expect(page2.body.notifications.map((n: any) => n.event.event_id)).toEqual([first]);
    expect(page2.body.next_token).toBeUndefined();

    const highlights = await list(alice, "?only=highlight");
    expect(highlights.body.notifications.map((n: any) => n.event.event_id)).toEqual([second]);

    // Reading up to the mention marks it and older ones read.
    await receipt(alice, roomId, second);
    await session.until((b) => unread(b, roomId)?.notification_count === 1);
    const after = await list(alice);
    expect(after.body.notifications.map((n: any) => n.read)).toEqual([false, true, true]);
  });

  it("refuses a bad from or limit, and anonymous requests", async () => {
    const alice = await registerUser();
    for (const q of ["?from=abc", "?limit=-1", "?limit=ten"]) {
      const res = await list(alice, q);
      expect(res.status, q).toBe(400);
      expect(res.body.errcode).toBe("M_INVALID_PARAM");
    }
    const anon = await call("GET", "/_matrix/client/v3/notifications");
    expect(anon.status).toBe(401);
    expect((await list(alice)).body).toEqual({ notifications: [] });
  });
});
