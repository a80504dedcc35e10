/**
 * Simplified sliding sync (MSC4186): lists, ranges and recency, timelines, required_state and the
 * room fields a room list shows.
 */
import { describe, expect, it } from "vitest";
import { call, loginOk, registerUser } from "./helpers";
import { createRoom, joinOk, putState, roomPath, send, sendOk, targetAction } from "./room-helpers";
import { ELEMENT_X_REQUIRED_STATE, listBody, SlidingConnection, texts } from "./sliding-sync-helpers";

const stateOf = (room: any, type: string, stateKey = "") => (room?.required_state ?? []).find((e: any) => e.type === type && e.state_key === stateKey);

describe("sliding sync: lists and ranges", () => {
  it("orders rooms by recency and answers the requested range with the list's count", async () => {
    const alice = await registerUser();
    const a = await createRoom(alice, { name: "A" });
    const b = await createRoom(alice, { name: "B" });
    const c = await createRoom(alice, { name: "C" });
    await sendOk(alice, a, "newest in a");
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 1]]));
    const body = await conn.until((r) => r.lists?.all_rooms?.count === 3 && texts(r.rooms?.[a]).length === 1);
    // a was bumped last, then c (created after b); b is outside the range.
    expect(Object.keys(body.rooms).sort()).toEqual([a, c].sort());
    expect(body.rooms[a].bump_stamp).toBeGreaterThan(body.rooms[c].bump_stamp);
    expect(body.rooms[a].initial).toBe(true);
    expect(body.rooms[a].name).toBe("A");
    expect(texts(body.rooms[a])).toEqual(["newest in a"]);
    expect(body.rooms[b]).toBeUndefined();
  });

  it("a growing range sends only the rooms new to the connection; a new message sends its room again with just the news", async () => {
    const alice = await registerUser();
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) rooms.push(await createRoom(alice, { name: `R${i}` }));
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]]));
    const first = await conn.until((r) => r.lists?.all_rooms?.count === 3);
    expect(Object.keys(first.rooms)).toEqual([rooms[2]]);

    conn.body = listBody([[0, 2]]);
    const grown = await conn.next();
    expect(Object.keys(grown.rooms).sort()).toEqual([rooms[0], rooms[1]].sort());
    expect(grown.rooms[rooms[0]!].initial).toBe(true);

    // Nothing new: a long-poll ends empty at its timeout.
    const quiet = await conn.next(200);
    expect(quiet.rooms ?? {}).toEqual({});
    expect(quiet.lists.all_rooms.count).toBe(3);

    await sendOk(alice, rooms[0]!, "hello again");
    const news = await conn.until((r) => r.rooms?.[rooms[0]!] !== undefined);
    const room = news.rooms[rooms[0]!];
    expect(room.initial).toBeUndefined();
    expect(texts(room)).toEqual(["hello again"]);
    expect(room.timeline).toHaveLength(1);
    expect(room.num_live).toBe(1);
    expect(room.limited).toBe(false);
    expect(room.bump_stamp).toBeGreaterThan(grown.rooms[rooms[1]!].bump_stamp);
    expect(Object.keys(news.rooms)).toEqual([rooms[0]]);
    // The sending device sees its transaction id (to match its local echo); another device doesn't.
    expect(room.timeline[0].unsigned.transaction_id).toEqual(expect.any(String));
    const phone = await loginOk(alice.username);
    const elsewhere = await new SlidingConnection(phone.access_token, listBody([[0, 0]])).next();
    expect(elsewhere.rooms[rooms[0]!].timeline[0].unsigned.transaction_id).toBeUndefined();
  });

  it("a long-poll answers as soon as a message arrives", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Waiting" });
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 9]]));
    await conn.until((r) => r.rooms?.[roomId] !== undefined);
    const started = Date.now();
    const pending = conn.next(20_000);
    await new Promise((r) => setTimeout(r, 300));
    await sendOk(alice, roomId, "wake up");
    const body = await pending;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(texts(body.rooms[roomId])).toEqual(["wake up"]);
  });

  it("a room that changed while out of range comes back with what the client missed, not as initial", async () => {
    const alice = await registerUser();
    const a = await createRoom(alice, { name: "A" });
    const b = await createRoom(alice, { name: "B" });
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 1]]));
    await conn.until((r) => r.lists?.all_rooms?.count === 2 && r.rooms?.[a] && r.rooms?.[b]);
    // Only the top room is watched now; `a` gets a message (and rises), then `b` gets one.
    conn.body = listBody([[0, 0]]);
    await conn.next();
    await sendOk(alice, a, "a1");
    await conn.until((r) => texts(r.rooms?.[a]).includes("a1"));
    await sendOk(alice, b, "b1");
    // b is now on top and comes back; a, watched no more, is not sent.
    const back = await conn.until((r) => r.rooms?.[b] !== undefined);
    expect(back.rooms[b].initial).toBeUndefined();
    expect(texts(back.rooms[b])).toEqual(["b1"]);
    await sendOk(alice, a, "a2");
    const after = await conn.until((r) => r.rooms?.[a] !== undefined);
    expect(texts(after.rooms[a])).toEqual(["a2"]);
  });

  it("limits the timeline to timeline_limit with a prev_batch that /messages continues from", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Chatty" });
    for (const t of ["one", "two", "three", "four"]) await sendOk(alice, roomId, t);
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]], {}, 2));
    const body = await conn.until((r) => texts(r.rooms?.[roomId]).includes("four"));
    const room = body.rooms[roomId];
    expect(texts(room)).toEqual(["three", "four"]);
    expect(room.limited).toBe(true);
    expect(room.num_live).toBe(0);
    const older = await call("GET", roomPath(roomId, `/messages?dir=b&limit=2&from=${room.prev_batch}`), { token: alice.access_token });
    expect(older.status).toBe(200);
    expect(older.body.chunk.map((e: any) => e.content.body)).toEqual(["two", "one"]);

    // Three more than the limit while the client waited: the newest two, limited.
    for (const t of ["five", "six", "seven"]) await sendOk(alice, roomId, t);
    const next = await conn.until((r) => texts(r.rooms?.[roomId]).includes("seven"));
    expect(texts(next.rooms[roomId])).toEqual(["six", "seven"]);
    expect(next.rooms[roomId].limited).toBe(true);
  });

  it("a larger timeline_limit for a room already sent resends its timeline, marked expanded", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Expand" });
    for (const t of ["one", "two", "three"]) await sendOk(alice, roomId, t);
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]], {}, 1));
    await conn.until((r) => texts(r.rooms?.[roomId]).includes("three"));
    const expanded = await conn.next(0, { ...listBody([[0, 0]], {}, 1), room_subscriptions: { [roomId]: { required_state: [], timeline_limit: 3 } } });
    expect(texts(expanded.rooms[roomId])).toEqual(["one", "two", "three"]);
    expect(expanded.rooms[roomId].unstable_expanded_timeline).toBe(true);
  });
});

describe("sliding sync: required_state and room fields", () => {
  it("sends the state asked for: $ME, $LAZY senders, wildcards; not the rest", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { name: "State", topic: "the topic", preset: "public_chat" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    await putState(alice, roomId, "m.space.parent", { via: ["example.org"] }, "!space:example.org");
    await sendOk(bob, roomId, "bob speaks");

    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]], {}, 1));
    const body = await conn.until((r) => texts(r.rooms?.[roomId]).includes("bob speaks"));
    const room = body.rooms[roomId];
    expect(stateOf(room, "m.room.member", alice.user_id)?.content.membership).toBe("join");
    expect(stateOf(room, "m.room.member", bob.user_id)?.content.membership).toBe("join");
    // Carol sent nothing in the timeline: not lazy-loaded.
    expect(stateOf(room, "m.room.member", carol.user_id)).toBeUndefined();
    expect(stateOf(room, "m.room.topic")?.content.topic).toBe("the topic");
    expect(stateOf(room, "m.room.create")).toBeDefined();
    expect(stateOf(room, "m.space.parent", "!space:example.org")?.content.via).toEqual(["example.org"]);

    // Only what is asked: every member (from the room), and the name; no topic.
    const other = new SlidingConnection(alice.access_token, {
      conn_id: "members",
      lists: { l: { ranges: [[0, 0]], required_state: [["m.room.member", "*"], ["m.room.name", ""]], timeline_limit: 0 } },
    });
    const all = await other.next();
    const r2 = all.rooms[roomId];
    expect(r2.required_state.filter((e: any) => e.type === "m.room.member").map((e: any) => e.state_key).sort()).toEqual([alice.user_id, bob.user_id, carol.user_id].sort());
    expect(stateOf(r2, "m.room.topic")).toBeUndefined();
    expect(r2.timeline).toBeUndefined();

    // An incremental response carries state that changed, not all of it again.
    await putState(alice, roomId, "m.room.topic", { topic: "new topic" });
    const changed = await conn.until((r) => stateOf(r.rooms?.[roomId], "m.room.topic") !== undefined);
    expect(stateOf(changed.rooms[roomId], "m.room.topic").content.topic).toBe("new topic");
    expect(stateOf(changed.rooms[roomId], "m.room.create")).toBeUndefined();
  }, 20_000);

  it("gives an unnamed room heroes with their names, member counts and is_dm from m.direct", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    await call("PUT", `/_matrix/client/v3/profile/${encodeURIComponent(bob.user_id)}/displayname`, { token: bob.access_token, body: { displayname: "Bob B" } });
    const roomId = await createRoom(alice, { preset: "private_chat", invite: [bob.user_id, carol.user_id], is_direct: true });
    await joinOk(bob, roomId);
    const direct = await call("PUT", `/_matrix/client/v3/user/${encodeURIComponent(alice.user_id)}/account_data/m.direct`, { token: alice.access_token, body: { [bob.user_id]: [roomId] } });
    expect(direct.status).toBe(200);
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]]));
    const body = await conn.until((r) => r.rooms?.[roomId]?.joined_count === 2);
    const room = body.rooms[roomId];
    expect(room.name).toBeUndefined();
    expect(room.invited_count).toBe(1);
    expect(room.is_dm).toBe(true);
    const bobHero = room.heroes.find((h: any) => h.user_id === bob.user_id);
    expect(bobHero?.displayname).toBe("Bob B");
    expect(room.heroes.map((h: any) => h.user_id)).toContain(carol.user_id);
    expect(room.heroes.map((h: any) => h.user_id)).not.toContain(alice.user_id);

    // m.direct changes: the next request sees it.
    await call("PUT", `/_matrix/client/v3/user/${encodeURIComponent(alice.user_id)}/account_data/m.direct`, { token: alice.access_token, body: {} });
    const after = await new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "after" }).next();
    expect(after.rooms[roomId].is_dm).toBe(false);
  });

  it("sends the avatar, and the invite with its stripped state; no timeline for an invite", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { name: "Invite me", initial_state: [{ type: "m.room.avatar", state_key: "", content: { url: "mxc://example.org/abc" } }] });
    expect((await targetAction(alice, roomId, "invite", bob.user_id)).status).toBe(200);
    const conn = new SlidingConnection(bob.access_token, listBody([[0, 9]]));
    const body = await conn.until((r) => r.rooms?.[roomId] !== undefined);
    const room = body.rooms[roomId];
    expect(room.invite_state.find((e: any) => e.type === "m.room.name")?.content.name).toBe("Invite me");
    expect(room.name).toBe("Invite me");
    expect(room.avatar).toBe("mxc://example.org/abc");
    expect(room.timeline).toBeUndefined();
    expect(room.initial).toBe(true);

    // Joining sends the room again, now whole.
    await joinOk(bob, roomId);
    const joined = await conn.until((r) => r.rooms?.[roomId]?.timeline !== undefined);
    expect(joined.rooms[roomId].initial).toBe(true);
    expect(joined.rooms[roomId].invite_state).toBeUndefined();
    expect(joined.rooms[roomId].avatar).toBe("mxc://example.org/abc");
  });

  it("counts notifications and highlights from the user's push rules", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { name: "Counts", preset: "public_chat" });
    await joinOk(bob, roomId);
    await sendOk(bob, roomId, "plain");
    const mention = await send(bob, roomId, { msgtype: "m.text", body: `hey ${alice.user_id}`, "m.mentions": { user_ids: [alice.user_id] } });
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]]));
    const body = await conn.until((r) => r.rooms?.[roomId]?.notification_count === 2);
    expect(body.rooms[roomId].highlight_count).toBe(1);
    // Reading the room sends it again with the counts cleared, though nothing new was said.
    const read = await call("POST", roomPath(roomId, `/receipt/m.read/${encodeURIComponent(mention.body.event_id)}`), { token: alice.access_token, body: {} });
    expect(read.status).toBe(200);
    const cleared = await conn.until((r) => r.rooms?.[roomId] !== undefined);
    expect(cleared.rooms[roomId].notification_count).toBe(0);
    expect(cleared.rooms[roomId].highlight_count).toBe(0);
  });

  it("shows a room the user just left, with the leave, and not on a new connection", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { name: "Leaving", preset: "public_chat" });
    await joinOk(bob, roomId);
    const conn = new SlidingConnection(bob.access_token, listBody([[0, 9]]));
    await conn.until((r) => r.rooms?.[roomId] !== undefined);
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    const left = await conn.until((r) => r.rooms?.[roomId]?.timeline?.some((e: any) => e.type === "m.room.member" && e.state_key === bob.user_id && e.content.membership === "leave"));
    expect(left.lists.all_rooms.count).toBe(1);
    const fresh = await new SlidingConnection(bob.access_token, { ...listBody([[0, 9]]), conn_id: "fresh" }).next();
    expect(fresh.lists.all_rooms.count).toBe(0);
    expect(fresh.rooms?.[roomId]).toBeUndefined();
  });

  it("asks for Element X's required_state without error on a room with all of it", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Full", topic: "t", room_alias_name: `full${Date.now()}` });
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]]));
    const body = await conn.until((r) => r.rooms?.[roomId] !== undefined);
    const types = new Set(body.rooms[roomId].required_state.map((e: any) => e.type));
    for (const t of ["m.room.name", "m.room.topic", "m.room.canonical_alias", "m.room.power_levels", "m.room.join_rules", "m.room.create", "m.room.history_visibility", "m.room.member"]) {
      expect(types).toContain(t);
    }
    expect(ELEMENT_X_REQUIRED_STATE.length).toBe(15);
  });
});
