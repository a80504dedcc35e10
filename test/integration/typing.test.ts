/**
 * Typing notifications (spec: Client-Server § Typing notifications): PUT
 * /rooms/{roomId}/typing/{userId}, and the m.typing ephemeral event /sync shows joined members.
 */
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SyncSession, typingIn } from "./ephemeral-helpers";
import { call, registerUser, testEnv } from "./helpers";
import { createRoom, joinOk, roomPath, type TestUser } from "./room-helpers";

function setTyping(user: TestUser, roomId: string, body: unknown, target = user.user_id, prefix = "v3") {
  return call("PUT", roomPath(roomId, `/typing/${encodeURIComponent(target)}`).replace("/v3/", `/${prefix}/`), { token: user.access_token, body });
}

async function typingOk(user: TestUser, roomId: string, body: unknown) {
  const res = await setTyping(user, roomId, body);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({});
}

/** Alice's public room with Bob in it, and Carol, who is not; each with a sync session started. */
async function setup() {
  const alice = await registerUser();
  const bob = await registerUser();
  const carol = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat" });
  await joinOk(bob, roomId);
  // Carol has a room of her own, so her syncs have somewhere for a leak to show.
  await createRoom(carol);
  const sessions = {
    alice: await new SyncSession(alice.access_token).start(roomId),
    bob: await new SyncSession(bob.access_token).start(roomId),
    carol: await new SyncSession(carol.access_token).start(),
  };
  return { alice, bob, carol, roomId, sessions };
}

describe("typing", () => {
  it("reaches every joined member, the typer included, and no one else", async () => {
    const { alice, roomId, sessions } = await setup();
    await typingOk(alice, roomId, { typing: true, timeout: 30000 });
    const bobSaw = await sessions.bob.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
    expect(typingIn(bobSaw, roomId)).toEqual([alice.user_id]);
    await sessions.alice.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
    await sessions.carol.next(1000);
    expect(JSON.stringify(sessions.carol.seen)).not.toContain(roomId);
    expect(JSON.stringify(sessions.carol.seen)).not.toContain("m.typing");
  });

  it("typing: false stops it, and members are told the set is empty", async () => {
    const { alice, bob, roomId, sessions } = await setup();
    await typingOk(alice, roomId, { typing: true, timeout: 30000 });
    await typingOk(bob, roomId, { typing: true, timeout: 30000 });
    await sessions.bob.until((b) => typingIn(b, roomId)?.length === 2);
    await typingOk(alice, roomId, { typing: false });
    await sessions.bob.until((b) => JSON.stringify(typingIn(b, roomId)) === JSON.stringify([bob.user_id]));
    await typingOk(bob, roomId, { typing: false });
    await sessions.bob.until((b) => typingIn(b, roomId)?.length === 0);
  });

  it("expires after its timeout without a stop", async () => {
    const { alice, roomId, sessions } = await setup();
    const started = Date.now();
    await typingOk(alice, roomId, { typing: true, timeout: 1000 });
    await sessions.bob.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
    await sessions.bob.until((b) => typingIn(b, roomId)?.length === 0, 10000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  }, 20000);

  it("a room object that lost its memory still tells members, at its alarm, that typing is over", async () => {
    const { alice, roomId, sessions } = await setup();
    await typingOk(alice, roomId, { typing: true, timeout: 60000 });
    await sessions.bob.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
    const room = testEnv.ROOMS.getByName(roomId);
    await evictDurableObject(room);
    expect(await runDurableObjectAlarm(room)).toBe(true);
    await sessions.bob.until((b) => typingIn(b, roomId)?.length === 0);
  });

  it("a member who leaves stops typing", async () => {
    const { bob, roomId, sessions } = await setup();
    await typingOk(bob, roomId, { typing: true, timeout: 60000 });
    await sessions.alice.until((b) => typingIn(b, roomId)?.includes(bob.user_id) === true);
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    await sessions.alice.until((b) => typingIn(b, roomId)?.length === 0);
  });

  it("wakes a waiting long-poll", async () => {
    const { alice, roomId, sessions } = await setup();
    const started = Date.now();
    // Long-polls of 10 s: answered within 5 s only if typing woke one (earlier news may answer the first).
    const poll = (async () => {
      for (;;) {
        const body = await sessions.bob.next(10000);
        if (typingIn(body, roomId)) return body;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await typingOk(alice, roomId, { typing: true, timeout: 30000 });
    expect(typingIn(await poll, roomId)).toEqual([alice.user_id]);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30000);

  it("an initial sync shows who is typing now; once nobody is, it shows no m.typing", async () => {
    const { alice, bob, roomId, sessions } = await setup();
    await typingOk(alice, roomId, { typing: true, timeout: 30000 });
    await sessions.bob.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
    const fresh = new SyncSession(bob.access_token);
    const initial = await fresh.next();
    expect(typingIn(initial, roomId)).toEqual([alice.user_id]);
    await typingOk(alice, roomId, { typing: false });
    await sessions.bob.until((b) => typingIn(b, roomId)?.length === 0);
    expect(typingIn(await new SyncSession(bob.access_token).next(), roomId)).toBeUndefined();
  });

  it("accepts the r0 path and a missing timeout (30 s by default)", async () => {
    const { alice, roomId, sessions } = await setup();
    expect((await setTyping(alice, roomId, { typing: true }, alice.user_id, "r0")).status).toBe(200);
    await sessions.bob.until((b) => typingIn(b, roomId)?.includes(alice.user_id) === true);
  });
});

describe("typing refusals", () => {
  it("403 M_FORBIDDEN for another user's typing state", async () => {
    const { alice, bob, roomId } = await setup();
    const res = await setTyping(alice, roomId, { typing: true, timeout: 1000 }, bob.user_id);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });

  it("403 M_FORBIDDEN for a user who is not joined (never, invited, left) or a room that doesn't exist", async () => {
    const { alice, carol, roomId } = await setup();
    const invited = await registerUser();
    expect((await call("POST", roomPath(roomId, "/invite"), { token: alice.access_token, body: { user_id: invited.user_id } })).status).toBe(200);
    const leaver = await registerUser();
    await joinOk(leaver, roomId);
    expect((await call("POST", roomPath(roomId, "/leave"), { token: leaver.access_token, body: {} })).status).toBe(200);
    for (const user of [carol, invited, leaver]) {
      const res = await setTyping(user, roomId, { typing: true, timeout: 1000 });
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
    }
    const nowhere = await setTyping(alice, "!nowhere:test.local", { typing: true });
    expect(nowhere.status).toBe(403);
  });

  it("400 for a bad body or room id; 401 without a token", async () => {
    const { alice, roomId } = await setup();
    for (const body of [{}, { typing: "yes" }, { typing: true, timeout: -5 }, { typing: true, timeout: "soon" }]) {
      const res = await setTyping(alice, roomId, body);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    const badRoom = await call("PUT", `/_matrix/client/v3/rooms/not-a-room/typing/${encodeURIComponent(alice.user_id)}`, { token: alice.access_token, body: { typing: true } });
    expect(badRoom.status).toBe(400);
    expect(badRoom.body.errcode).toBe("M_INVALID_PARAM");
    const anon = await call("PUT", roomPath(roomId, `/typing/${encodeURIComponent(alice.user_id)}`), { body: { typing: true } });
    expect(anon.status).toBe(401);
  });
});
