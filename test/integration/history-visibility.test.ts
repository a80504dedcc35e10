/**
 * History visibility (spec: Client-Server § History visibility) on every read path that returns
 * room events: /messages, /context, /event and /members.
 */
import { describe, expect, it } from "vitest";
import { call, createRoom, enc, joinOk, registerUser, roomPath, sendOk, targetAction, type TestUser } from "./room-helpers";

/** Every event id the user can page through, oldest first (fails on a refusal). */
async function visibleIds(user: TestUser, roomId: string): Promise<string[]> {
  const res = await call("GET", roomPath(roomId, "/messages?dir=f&limit=1000"), { token: user.access_token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.chunk.map((e: any) => e.event_id);
}

const messagesStatus = async (user: TestUser, roomId: string) =>
  (await call("GET", roomPath(roomId, "/messages?dir=b"), { token: user.access_token })).status;
const eventStatus = async (user: TestUser, roomId: string, eventId: string) =>
  (await call("GET", roomPath(roomId, `/event/${enc(eventId)}`), { token: user.access_token })).status;
const contextOf = (user: TestUser, roomId: string, eventId: string) =>
  call("GET", roomPath(roomId, `/context/${enc(eventId)}?limit=20`), { token: user.access_token });
const memberIds = async (user: TestUser, roomId: string) => {
  const res = await call("GET", roomPath(roomId, "/members"), { token: user.access_token });
  return res.status === 200 ? (res.body.chunk.map((e: any) => `${e.state_key}=${e.content.membership}`).sort() as string[]) : res.status;
};

/** A public room whose history_visibility is `visibility`, created by a fresh user. */
async function room(visibility: string) {
  const alice = await registerUser();
  const roomId = await createRoom(alice, {
    preset: "public_chat",
    initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: visibility } }],
  });
  return { alice, roomId };
}

describe("history visibility", () => {
  it("world_readable: a user who never joined reads /messages, /context, /event and /members", async () => {
    const { alice, roomId } = await room("world_readable");
    const msg = await sendOk(alice, roomId, "for everyone");
    const eve = await registerUser();
    expect(await visibleIds(eve, roomId)).toContain(msg);
    expect(await eventStatus(eve, roomId, msg)).toBe(200);
    const ctx = await contextOf(eve, roomId, msg);
    expect(ctx.status).toBe(200);
    expect(ctx.body.event.event_id).toBe(msg);
    expect(await memberIds(eve, roomId)).toEqual([`${alice.user_id}=join`]);
  });

  it("shared: a later joiner sees history from before their join", async () => {
    const { alice, roomId } = await room("shared");
    const early = await sendOk(alice, roomId, "before bob");
    const bob = await registerUser();
    await joinOk(bob, roomId);
    expect(await visibleIds(bob, roomId)).toContain(early);
    expect(await eventStatus(bob, roomId, early)).toBe(200);
    expect((await contextOf(bob, roomId, early)).status).toBe(200);
    expect(await memberIds(bob, roomId)).toEqual([`${alice.user_id}=join`, `${bob.user_id}=join`].sort());
  });

  it("invited: sees from the invite on, not before it", async () => {
    const { alice, roomId } = await room("invited");
    const bob = await registerUser();
    const beforeInvite = await sendOk(alice, roomId, "before invite");
    expect((await targetAction(alice, roomId, "invite", bob.user_id)).status).toBe(200);
    const afterInvite = await sendOk(alice, roomId, "after invite");
    await joinOk(bob, roomId);
    const after = await sendOk(alice, roomId, "after join");

    const ids = await visibleIds(bob, roomId);
    expect(ids).not.toContain(beforeInvite);
    expect(ids).toContain(afterInvite);
    expect(ids).toContain(after);
    expect(await eventStatus(bob, roomId, beforeInvite)).toBe(404);
    expect(await eventStatus(bob, roomId, afterInvite)).toBe(200);
    expect((await contextOf(bob, roomId, beforeInvite)).status).toBe(404);
    const ctx = await contextOf(bob, roomId, afterInvite);
    expect(ctx.status).toBe(200);
    expect(ctx.body.events_before.map((e: any) => e.event_id)).not.toContain(beforeInvite);
  });

  it("joined: sees only from their join", async () => {
    const { alice, roomId } = await room("joined");
    const bob = await registerUser();
    const beforeInvite = await sendOk(alice, roomId, "before invite");
    await targetAction(alice, roomId, "invite", bob.user_id);
    const whileInvited = await sendOk(alice, roomId, "while invited");
    await joinOk(bob, roomId);
    const after = await sendOk(alice, roomId, "after join");

    const ids = await visibleIds(bob, roomId);
    expect(ids).not.toContain(beforeInvite);
    expect(ids).not.toContain(whileInvited);
    expect(ids).toContain(after);
    expect(await eventStatus(bob, roomId, whileInvited)).toBe(404);
    expect(await eventStatus(bob, roomId, after)).toBe(200);
    expect((await contextOf(bob, roomId, whileInvited)).status).toBe(404);
    const ctx = await contextOf(bob, roomId, after);
    expect(ctx.body.events_before.map((e: any) => e.event_id)).not.toContain(whileInvited);
    // Alice, joined throughout, sees everything.
    expect(await visibleIds(alice, roomId)).toEqual(expect.arrayContaining([beforeInvite, whileInvited, after]));
  });

  it("a user who left sees up to their leave and nothing after, on every path", async () => {
    const { alice, roomId } = await room("joined");
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const during = await sendOk(alice, roomId, "while bob is here");
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    const afterLeave = await sendOk(alice, roomId, "after bob left");
    const carol = await registerUser();
    await joinOk(carol, roomId);

    const ids = await visibleIds(bob, roomId);
    expect(ids).toContain(during);
    expect(ids).not.toContain(afterLeave);
    // Backwards from the newest, the first thing Bob sees is his own leave.
    const back = await call("GET", roomPath(roomId, "/messages?dir=b&limit=1"), { token: bob.access_token });
    expect(back.body.chunk[0].type).toBe("m.room.member");
    expect(back.body.chunk[0].state_key).toBe(bob.user_id);
    expect(back.body.chunk[0].content.membership).toBe("leave");

    expect(await eventStatus(bob, roomId, during)).toBe(200);
    expect(await eventStatus(bob, roomId, afterLeave)).toBe(404);
    expect((await contextOf(bob, roomId, afterLeave)).status).toBe(404);
    const ctx = await contextOf(bob, roomId, during);
    expect(ctx.status).toBe(200);
    expect(ctx.body.events_after.map((e: any) => e.event_id)).not.toContain(afterLeave);
    expect(ctx.body.events_after.map((e: any) => e.content.membership)).toEqual(["leave"]);
    // The member list as it was when he left: Carol, who joined later, is not in it.
    expect(await memberIds(bob, roomId)).toEqual([`${alice.user_id}=join`, `${bob.user_id}=leave`].sort());
  });

  it("a user who was never a member gets 403 everywhere", async () => {
    const { alice, roomId } = await room("shared");
    const msg = await sendOk(alice, roomId, "members only");
    const eve = await registerUser();
    expect(await messagesStatus(eve, roomId)).toBe(403);
    expect(await eventStatus(eve, roomId, msg)).toBe(403);
    const ctx = await contextOf(eve, roomId, msg);
    expect(ctx.status).toBe(403);
    expect(ctx.body.errcode).toBe("M_FORBIDDEN");
    expect(await memberIds(eve, roomId)).toBe(403);
    const ts = await call("GET", `/_matrix/client/v1/rooms/${enc(roomId)}/timestamp_to_event?ts=0&dir=f`, { token: eve.access_token });
    expect(ts.status).toBe(403);
  });
});
