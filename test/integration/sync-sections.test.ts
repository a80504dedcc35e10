/**
 * The sections of a /sync response a client builds its room list from (spec: GET /sync): the
 * summary, knocks, kicks and bans, `full_state`, and a limited incremental timeline.
 */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";
import { createRoom, joinOk, putState, roomPath, sendOk, targetAction, type TestUser } from "./room-helpers";

async function sync(user: TestUser, query = ""): Promise<any> {
  const res = await call("GET", `/_matrix/client/v3/sync${query}`, { token: user.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function syncUntil(user: TestUser, since: string | undefined, pred: (body: any) => boolean, extra = ""): Promise<any> {
  const deadline = Date.now() + 8000;
  let body: any;
  let next = since;
  do {
    body = await sync(user, `?timeout=${next ? 500 : 0}${next ? `&since=${next}` : ""}${extra}`);
    if (pred(body)) return body;
    if (next) next = body.next_batch;
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

const membershipIn = (events: any[], userId: string) => events.find((e: any) => e.type === "m.room.member" && e.state_key === userId)?.content.membership;

describe("/sync sections", () => {
  it("summary gives heroes and the joined and invited counts of an unnamed room", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "private_chat", invite: [bob.user_id, carol.user_id] });
    await joinOk(bob, roomId);
    const body = await syncUntil(alice, undefined, (b) => b.rooms?.join?.[roomId]?.summary?.["m.joined_member_count"] === 2);
    const summary = body.rooms.join[roomId].summary;
    expect(summary["m.invited_member_count"]).toBe(1);
    expect(summary["m.heroes"]).toEqual(expect.arrayContaining([bob.user_id, carol.user_id]));
    expect(summary["m.heroes"]).not.toContain(alice.user_id);
  });

  it("a knock shows in rooms.knock with knock_state, then in join once accepted", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { name: "Knock here", room_version: "11", initial_state: [{ type: "m.room.join_rules", state_key: "", content: { join_rule: "knock" } }] });
    const knock = await call("POST", `/_matrix/client/v3/knock/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: { reason: "let me in" } });
    expect(knock.status).toBe(200);
    const knocked = await syncUntil(bob, undefined, (b) => Boolean(b.rooms?.knock?.[roomId]));
    const state = knocked.rooms.knock[roomId].knock_state.events;
    expect(state.find((e: any) => e.type === "m.room.name")?.content.name).toBe("Knock here");
    expect(membershipIn(state, bob.user_id)).toBe("knock");
    expect(knocked.rooms.join[roomId]).toBeUndefined();

    expect((await targetAction(alice, roomId, "invite", bob.user_id)).status).toBe(200);
    const invited = await syncUntil(bob, knocked.next_batch, (b) => Boolean(b.rooms?.invite?.[roomId]));
    expect(invited.rooms.knock?.[roomId]).toBeUndefined();
    await joinOk(bob, roomId);
    await syncUntil(bob, invited.next_batch, (b) => Boolean(b.rooms?.join?.[roomId]));
  });

  it("a kicked user gets the kick in rooms.leave and nothing after it; a banned one too", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    const bobStart = await syncUntil(bob, undefined, (b) => Boolean(b.rooms?.join?.[roomId]));
    const carolStart = await syncUntil(carol, undefined, (b) => Boolean(b.rooms?.join?.[roomId]));

    expect((await targetAction(alice, roomId, "kick", bob.user_id, "be nice")).status).toBe(200);
    const kicked = await syncUntil(bob, bobStart.next_batch, (b) => Boolean(b.rooms?.leave?.[roomId]));
    const kick = kicked.rooms.leave[roomId].timeline.events.find((e: any) => e.type === "m.room.member" && e.state_key === bob.user_id);
    expect(kick.content).toMatchObject({ membership: "leave", reason: "be nice" });
    expect(kick.sender).toBe(alice.user_id);
    expect(kicked.rooms.join[roomId]).toBeUndefined();

    expect((await targetAction(alice, roomId, "ban", carol.user_id)).status).toBe(200);
    const banned = await syncUntil(carol, carolStart.next_batch, (b) => Boolean(b.rooms?.leave?.[roomId]));
    expect(membershipIn(banned.rooms.leave[roomId].timeline.events, carol.user_id)).toBe("ban");

    await sendOk(alice, roomId, "after they went");
    for (const [user, since] of [[bob, kicked.next_batch], [carol, banned.next_batch]] as const) {
      const later = await sync(user, `?since=${since}&timeout=500`);
      expect(JSON.stringify(later)).not.toContain("after they went");
    }
  });

  it("full_state=true sends the room's whole state on an incremental sync", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Stateful", topic: "things" });
    const first = await syncUntil(alice, undefined, (b) => Boolean(b.rooms?.join?.[roomId]));
    await sendOk(alice, roomId, "one more");
    const plain = await syncUntil(alice, first.next_batch, (b) => Boolean(b.rooms?.join?.[roomId]));
    expect(plain.rooms.join[roomId].state.events).toEqual([]);
    const full = await sync(alice, `?since=${first.next_batch}&full_state=true`);
    const room = full.rooms.join[roomId];
    const types = room.state.events.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(["m.room.create", "m.room.power_levels", "m.room.name", "m.room.topic"]));
    // The timeline still starts at `since`: only the new message, nothing the client already has.
    expect(room.timeline.events.map((e: any) => e.content.body)).toEqual(["one more"]);
    // A room with no news at all appears too.
    const quiet = await sync(alice, `?since=${full.next_batch}&full_state=true`);
    expect(quiet.rooms.join[roomId].timeline.events).toEqual([]);
    expect(quiet.rooms.join[roomId].state.events.map((e: any) => e.type)).toEqual(expect.arrayContaining(["m.room.create", "m.room.name", "m.room.topic"]));
  });

  it("a gap larger than the timeline limit is limited, with the skipped state changes and a usable prev_batch", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Before" });
    const first = await syncUntil(alice, undefined, (b) => Boolean(b.rooms?.join?.[roomId]));
    await putState(alice, roomId, "m.room.name", { name: "After" });
    for (let i = 0; i < 6; i++) await sendOk(alice, roomId, `m${i}`);
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 3 } } }));
    const gap = await syncUntil(alice, first.next_batch, (b) => (b.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e: any) => e.content?.body === "m5"), `&filter=${filter}`);
    const room = gap.rooms.join[roomId];
    expect(room.timeline.limited).toBe(true);
    expect(room.timeline.events.map((e: any) => e.content.body)).toEqual(["m3", "m4", "m5"]);
    expect(room.state.events.find((e: any) => e.type === "m.room.name")?.content.name).toBe("After");
    const back = await call("GET", roomPath(roomId, `/messages?dir=b&limit=3&from=${room.timeline.prev_batch}`), { token: alice.access_token });
    expect(back.status).toBe(200);
    expect(back.body.chunk.map((e: any) => e.content.body)).toEqual(["m2", "m1", "m0"]);
  });
});
