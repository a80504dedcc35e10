/**
 * Every field of a /sync filter (spec: Client-Server § Filtering, GET /sync `filter`), applied to
 * the section it names, as an inline filter and as an uploaded filter id.
 */
import { describe, expect, it } from "vitest";
import { call, registerUser, testEnv } from "./helpers";
import { createRoom, enc, joinOk, roomPath, send, sendOk, type TestUser } from "./room-helpers";

async function syncWith(user: TestUser, filter: unknown, since?: string, timeout = 0): Promise<any> {
  const f = typeof filter === "string" ? filter : JSON.stringify(filter);
  const res = await call("GET", `/_matrix/client/v3/sync?filter=${enc(f)}&timeout=${timeout}${since ? `&since=${since}` : ""}`, { token: user.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Syncs with `filter` until `pred` holds: delivery to the user's stream is asynchronous. */
async function syncUntil(user: TestUser, filter: unknown, pred: (body: any) => boolean, since?: string): Promise<any> {
  const deadline = Date.now() + 8000;
  let body: any;
  let next = since;
  do {
    body = await syncWith(user, filter, next, next ? 500 : 0);
    if (pred(body)) return body;
    if (next) next = body.next_batch;
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

const bodies = (room: any) => room.timeline.events.filter((e: any) => e.type === "m.room.message").map((e: any) => e.content.body);
const types = (events: any[]) => events.map((e: any) => e.type);

/** Alice and Bob in a room with messages from both, an image with a url and a custom event. */
async function busyRoom() {
  const alice = await registerUser();
  const bob = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat", name: "Busy" });
  await joinOk(bob, roomId);
  await sendOk(alice, roomId, "from alice");
  await sendOk(bob, roomId, "from bob");
  await send(alice, roomId, { msgtype: "m.image", body: "picture", url: "mxc://test.local/abc" });
  await send(bob, roomId, { note: "custom" }, "org.example.note");
  await sendOk(alice, roomId, "last");
  // Wait until Alice's stream has everything.
  await syncUntil(alice, {}, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("last"));
  return { alice, bob, roomId };
}

describe("/sync filters", () => {
  it("room.rooms and room.not_rooms choose the rooms", async () => {
    const alice = await registerUser();
    const a = await createRoom(alice, { name: "A" });
    const b = await createRoom(alice, { name: "B" });
    await syncUntil(alice, {}, (body) => Boolean(body.rooms.join[a] && body.rooms.join[b]));
    expect(Object.keys((await syncWith(alice, { room: { rooms: [a] } })).rooms.join)).toEqual([a]);
    const notA = Object.keys((await syncWith(alice, { room: { not_rooms: [a] } })).rooms.join);
    expect(notA).toContain(b);
    expect(notA).not.toContain(a);
    // not_rooms wins over rooms.
    expect((await syncWith(alice, { room: { rooms: [a, b], not_rooms: [b] } })).rooms.join[b]).toBeUndefined();
  });

  it("the timeline filter applies types, not_types, senders, not_senders, limit and contains_url", async () => {
    const { alice, bob, roomId } = await busyRoom();
    const timeline = async (f: unknown) => (await syncWith(alice, { room: { timeline: f } })).rooms.join[roomId].timeline;

    expect(types((await timeline({ types: ["org.example.*"] })).events)).toEqual(["org.example.note"]);
    expect(types((await timeline({ not_types: ["m.room.*"], limit: 50 })).events)).toEqual(["org.example.note"]);
    const fromBob = (await timeline({ senders: [bob.user_id], limit: 50 })).events;
    expect(fromBob.length).toBeGreaterThan(0);
    expect(fromBob.every((e: any) => e.sender === bob.user_id)).toBe(true);
    const notBob = (await timeline({ not_senders: [bob.user_id], limit: 50 })).events;
    expect(notBob.some((e: any) => e.sender === bob.user_id)).toBe(false);
    expect(notBob.some((e: any) => e.sender === alice.user_id)).toBe(true);

    const two = await timeline({ types: ["m.room.message"], limit: 2 });
    expect(bodies({ timeline: two })).toEqual(["picture", "last"]);
    expect(two.limited).toBe(true);
    expect(two.prev_batch).toEqual(expect.any(String));

    expect(bodies({ timeline: await timeline({ types: ["m.room.message"], contains_url: true }) })).toEqual(["picture"]);
    expect(bodies({ timeline: await timeline({ types: ["m.room.message"], contains_url: false, limit: 50 }) })).toEqual(["from alice", "from bob", "last"]);
  });

  it("the state filter limits the state section", async () => {
    const { alice, roomId } = await busyRoom();
    const room = (await syncWith(alice, { room: { timeline: { limit: 1 }, state: { types: ["m.room.name", "m.room.create"] } } })).rooms.join[roomId];
    expect(types(room.state.events).sort()).toEqual(["m.room.create", "m.room.name"]);
    const noMembers = (await syncWith(alice, { room: { timeline: { limit: 1 }, state: { not_types: ["m.room.member"] } } })).rooms.join[roomId];
    expect(types(noMembers.state.events)).toContain("m.room.power_levels");
    expect(types(noMembers.state.events)).not.toContain("m.room.member");
  });

  it("a stored filter id works like the same filter inline", async () => {
    const { alice, roomId } = await busyRoom();
    const up = await call("POST", `/_matrix/client/v3/user/${enc(alice.user_id)}/filter`, { token: alice.access_token, body: { room: { timeline: { types: ["org.example.note"] } } } });
    expect(up.status).toBe(200);
    const room = (await syncWith(alice, up.body.filter_id)).rooms.join[roomId];
    expect(types(room.timeline.events)).toEqual(["org.example.note"]);
  });

  it("the ephemeral filter keeps or drops typing and receipts", async () => {
    const { alice, bob, roomId } = await busyRoom();
    const last = await sendOk(bob, roomId, "read me");
    await call("PUT", roomPath(roomId, `/typing/${enc(bob.user_id)}`), { token: bob.access_token, body: { typing: true, timeout: 30000 } });
    await call("POST", roomPath(roomId, `/receipt/m.read/${enc(last)}`), { token: bob.access_token, body: {} });
    const both = await syncUntil(alice, {}, (b) => {
      const eph = types(b.rooms?.join?.[roomId]?.ephemeral?.events ?? []);
      return eph.includes("m.typing") && eph.includes("m.receipt");
    });
    expect(types(both.rooms.join[roomId].ephemeral.events).sort()).toEqual(["m.receipt", "m.typing"]);
    const noTyping = await syncWith(alice, { room: { ephemeral: { not_types: ["m.typing"] } } });
    expect(types(noTyping.rooms.join[roomId].ephemeral.events)).toEqual(["m.receipt"]);
    const typingOnly = await syncWith(alice, { room: { ephemeral: { types: ["m.typing"] } } });
    expect(types(typingOnly.rooms.join[roomId].ephemeral.events)).toEqual(["m.typing"]);
    const notInRoom = await syncWith(alice, { room: { ephemeral: { not_rooms: [roomId] } } });
    expect(notInRoom.rooms.join[roomId].ephemeral.events).toEqual([]);
  });

  it("the account_data filters apply to global and to room account data", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const put = (path: string, content: unknown) => call("PUT", path, { token: alice.access_token, body: content });
    const user = enc(alice.user_id);
    expect((await put(`/_matrix/client/v3/user/${user}/account_data/org.example.a`, { a: 1 })).status).toBe(200);
    expect((await put(`/_matrix/client/v3/user/${user}/account_data/org.example.b`, { b: 1 })).status).toBe(200);
    expect((await put(`/_matrix/client/v3/user/${user}/rooms/${enc(roomId)}/account_data/org.example.r`, { r: 1 })).status).toBe(200);
    expect((await put(`/_matrix/client/v3/user/${user}/rooms/${enc(roomId)}/account_data/org.example.s`, { s: 1 })).status).toBe(200);
    const all = await syncUntil(alice, {}, (b) => Boolean(b.rooms?.join?.[roomId]));
    expect(types(all.account_data.events)).toEqual(expect.arrayContaining(["org.example.a", "org.example.b", "m.push_rules"]));
    expect(types(all.rooms.join[roomId].account_data.events).sort()).toEqual(["org.example.r", "org.example.s"]);

    const some = await syncWith(alice, { account_data: { types: ["org.example.a"] }, room: { account_data: { not_types: ["org.example.s"] } } });
    expect(types(some.account_data.events)).toEqual(["org.example.a"]);
    expect(types(some.rooms.join[roomId].account_data.events)).toEqual(["org.example.r"]);
    const none = await syncWith(alice, { account_data: { not_types: ["*"] }, room: { account_data: { types: [] } } });
    expect(none.account_data.events).toEqual([]);
    expect(none.rooms.join[roomId].account_data.events).toEqual([]);
  });

  it("the presence filter keeps or drops presence", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await call("PUT", `/_matrix/client/v3/presence/${enc(bob.user_id)}/status`, { token: bob.access_token, body: { presence: "online", status_msg: "here" } });
    const seen = await syncUntil(alice, {}, (b) => (b.presence?.events ?? []).some((e: any) => e.sender === bob.user_id));
    expect(seen.presence.events.find((e: any) => e.sender === bob.user_id).content.presence).toBe("online");
    expect((await syncWith(alice, { presence: { types: [] } })).presence.events).toEqual([]);
    expect((await syncWith(alice, { presence: { not_senders: [bob.user_id] } })).presence.events.some((e: any) => e.sender === bob.user_id)).toBe(false);
    expect((await syncWith(alice, { presence: { senders: [bob.user_id] } })).presence.events.map((e: any) => e.sender)).toEqual([bob.user_id]);
  });

  it("lazy_load_members sends the senders' members once per device, and every time with include_redundant_members", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    await sendOk(carol, roomId, "carol speaks");
    await sendOk(bob, roomId, "bob speaks");
    const lazy = { room: { timeline: { limit: 1 }, state: { lazy_load_members: true } } };
    const members = (room: any) => room.state.events.filter((e: any) => e.type === "m.room.member").map((e: any) => e.state_key).sort();

    const first = await syncUntil(alice, lazy, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("bob speaks"));
    // Only the timeline's sender and the syncing user, not Carol, whose message is outside the window.
    expect(members(first.rooms.join[roomId])).toEqual([alice.user_id, bob.user_id].sort());

    await sendOk(bob, roomId, "bob again");
    const again = await syncUntil(alice, lazy, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("bob again"), first.next_batch);
    expect(members(again.rooms.join[roomId])).toEqual([]);

    await sendOk(carol, roomId, "carol again");
    const carolBack = await syncUntil(alice, lazy, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("carol again"), again.next_batch);
    // Carol's member event was never sent to this device, so it comes now.
    expect(members(carolBack.rooms.join[roomId])).toEqual([carol.user_id]);

    await sendOk(bob, roomId, "bob thrice");
    const redundant = { room: { timeline: { limit: 1 }, state: { lazy_load_members: true, include_redundant_members: true } } };
    const withRedundant = await syncUntil(alice, redundant, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("bob thrice"), carolBack.next_batch);
    expect(members(withRedundant.rooms.join[roomId])).toEqual([bob.user_id]);

    // Without lazy loading, the initial sync carries every member.
    const full = await syncWith(alice, { room: { timeline: { limit: 1 } } });
    expect(members(full.rooms.join[roomId])).toEqual([alice.user_id, bob.user_id, carol.user_id].sort());
  });

  it("without lazy loading, an initial sync's member lists are current: renames, leaves and redacted member events", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    const rename = await call("PUT", roomPath(roomId, `/state/m.room.member/${enc(bob.user_id)}`), {
      token: bob.access_token,
      body: { membership: "join", displayname: "Bobby" },
    });
    expect(rename.status).toBe(200);
    const carolRename = await call("PUT", roomPath(roomId, `/state/m.room.member/${enc(carol.user_id)}`), {
      token: carol.access_token,
      body: { membership: "join", displayname: "rude name" },
    });
    expect(carolRename.status).toBe(200);
    const redact = await call("PUT", roomPath(roomId, `/redact/${enc(carolRename.body.event_id)}/r1`), { token: alice.access_token, body: {} });
    expect(redact.status).toBe(200);
    await sendOk(alice, roomId, "after the redaction");

    const full = await syncUntil(alice, { room: { timeline: { limit: 1 } } }, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("after the redaction"));
    const member = (userId: string) => full.rooms.join[roomId].state.events.find((e: any) => e.type === "m.room.member" && e.state_key === userId);
    expect(member(bob.user_id).content).toMatchObject({ membership: "join", displayname: "Bobby" });
    expect(member(carol.user_id).event_id).toBe(carolRename.body.event_id);
    expect(member(carol.user_id).content).toEqual({ membership: "join" });
    expect(member(carol.user_id).unsigned.redacted_because.event_id).toBe(redact.body.event_id);
    expect(member(carol.user_id).unsigned.age).toEqual(expect.any(Number));

    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    const later = await syncWith(alice, { room: { timeline: { limit: 1 } } });
    const bobNow = later.rooms.join[roomId].state.events.find((e: any) => e.type === "m.room.member" && e.state_key === bob.user_id);
    expect(bobNow?.content.membership ?? later.rooms.join[roomId].timeline.events.find((e: any) => e.state_key === bob.user_id)?.content.membership).toBe("leave");
  });

  it("a room whose membership rows predate stored member events still gets its full member list", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    // As a deployment upgraded from before migration 0012 has them.
    await testEnv.DB.prepare("UPDATE room_memberships SET event = NULL WHERE room_id = ? AND user_id = ?").bind(roomId, bob.user_id).run();
    await sendOk(alice, roomId, "the timeline's one event");
    const full = await syncUntil(alice, { room: { timeline: { limit: 1 } } }, (b) => bodies(b.rooms?.join?.[roomId] ?? { timeline: { events: [] } }).includes("the timeline's one event"));
    const members = full.rooms.join[roomId].state.events.filter((e: any) => e.type === "m.room.member").map((e: any) => e.state_key).sort();
    expect(members).toEqual([alice.user_id, bob.user_id].sort());
  });

  it("event_fields keeps only the named fields of room events", async () => {
    const { alice, roomId } = await busyRoom();
    const body = await syncWith(alice, { event_fields: ["type", "content.body"], room: { timeline: { types: ["m.room.message"], limit: 1 } } });
    expect(body.rooms.join[roomId].timeline.events).toEqual([{ type: "m.room.message", content: { body: "last" } }]);
  });

  it("room.include_leave brings rooms the user left", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await sendOk(bob, roomId, "before leaving");
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    const withLeave = await syncUntil(bob, { room: { include_leave: true } }, (b) => Boolean(b.rooms?.leave?.[roomId]));
    expect(withLeave.rooms.join[roomId]).toBeUndefined();
    expect((await syncWith(bob, {})).rooms.leave[roomId]).toBeUndefined();
  });
});
