/**
 * Receipts (spec: Client-Server § Receipts): POST /rooms/{roomId}/receipt/{receiptType}/{eventId},
 * and the m.receipt ephemeral event /sync shows: m.read to joined members, m.read.private to its
 * owner only, threaded receipts with their thread_id.
 */
import { describe, expect, it } from "vitest";
import { roomDataPath } from "./account-data-helpers";
import { receiptsIn, SyncSession } from "./ephemeral-helpers";
import { call, registerUser } from "./helpers";
import { createRoom, joinOk, roomPath, send, sendOk, type TestUser } from "./room-helpers";

const enc = encodeURIComponent;

function postReceipt(user: TestUser, roomId: string, type: string, eventId: string, body: unknown = {}, prefix = "v3") {
  return call("POST", roomPath(roomId, `/receipt/${enc(type)}/${enc(eventId)}`).replace("/v3/", `/${prefix}/`), { token: user.access_token, body });
}

async function receiptOk(user: TestUser, roomId: string, type: string, eventId: string, body: unknown = {}) {
  const res = await postReceipt(user, roomId, type, eventId, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({});
}

async function sendInThread(user: TestUser, roomId: string, rootId: string, body: string): Promise<string> {
  const res = await send(user, roomId, { msgtype: "m.text", body, "m.relates_to": { rel_type: "m.thread", event_id: rootId } });
  if (res.status !== 200) throw new Error(`thread reply: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.event_id;
}

/** Alice's public room with Bob in it and a message from Alice; Carol is not in it. */
async function setup() {
  const alice = await registerUser();
  const bob = await registerUser();
  const carol = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat" });
  await joinOk(bob, roomId);
  await createRoom(carol);
  const message = await sendOk(alice, roomId, "read me");
  const sessions = {
    alice: await new SyncSession(alice.access_token).start(roomId),
    bob: await new SyncSession(bob.access_token).start(roomId),
    carol: await new SyncSession(carol.access_token).start(),
  };
  return { alice, bob, carol, roomId, message, sessions };
}

const has = (body: any, roomId: string, want: { eventId: string; type: string; userId: string; threadId?: string }) =>
  receiptsIn(body, roomId).some((r) => r.eventId === want.eventId && r.type === want.type && r.userId === want.userId && r.threadId === want.threadId);

describe("receipts", () => {
  it("m.read reaches every joined member with a server timestamp, and no one else", async () => {
    const { bob, roomId, message, sessions } = await setup();
    const before = Date.now();
    await receiptOk(bob, roomId, "m.read", message);
    const aliceSaw = await sessions.alice.until((b) => has(b, roomId, { eventId: message, type: "m.read", userId: bob.user_id }));
    const r = receiptsIn(aliceSaw, roomId).find((x) => x.userId === bob.user_id)!;
    expect(r.ts).toBeGreaterThanOrEqual(before - 1000);
    expect(r.threadId).toBeUndefined();
    await sessions.bob.until((b) => has(b, roomId, { eventId: message, type: "m.read", userId: bob.user_id }));
    await sessions.carol.next(1000);
    expect(JSON.stringify(sessions.carol.seen)).not.toContain(roomId);
    expect(JSON.stringify(sessions.carol.seen)).not.toContain("m.receipt");
  });

  it("m.read.private reaches its owner only", async () => {
    const { alice, bob, roomId, message, sessions } = await setup();
    await receiptOk(bob, roomId, "m.read.private", message);
    await sessions.bob.until((b) => has(b, roomId, { eventId: message, type: "m.read.private", userId: bob.user_id }));
    // A public receipt posted after it is delivered after it: once Alice has that, she would have had the private one.
    const later = await sendOk(alice, roomId, "later");
    await receiptOk(bob, roomId, "m.read", later);
    await sessions.alice.until((b) => has(b, roomId, { eventId: later, type: "m.read", userId: bob.user_id }));
    expect(JSON.stringify(sessions.alice.seen)).not.toContain("m.read.private");
    const initial = await new SyncSession(alice.access_token).next();
    expect(JSON.stringify(initial)).not.toContain("m.read.private");
  });

  it("an incremental sync carries only receipts that changed; an initial sync the current ones", async () => {
    const { alice, bob, roomId, message, sessions } = await setup();
    await receiptOk(bob, roomId, "m.read", message);
    await sessions.alice.until((b) => has(b, roomId, { eventId: message, type: "m.read", userId: bob.user_id }));
    const second = await sendOk(alice, roomId, "second");
    await receiptOk(bob, roomId, "m.read", second);
    const next = await sessions.alice.until((b) => has(b, roomId, { eventId: second, type: "m.read", userId: bob.user_id }));
    expect(receiptsIn(next, roomId).filter((r) => r.userId === bob.user_id).map((r) => r.eventId)).toEqual([second]);
    // An older receipt than the one held doesn't move the marker back.
    await receiptOk(bob, roomId, "m.read", message);
    const initial = await new SyncSession(alice.access_token).next();
    expect(receiptsIn(initial, roomId).filter((r) => r.userId === bob.user_id && r.type === "m.read").map((r) => r.eventId)).toEqual([second]);
  });

  it("wakes a waiting long-poll", async () => {
    const { bob, roomId, message, sessions } = await setup();
    const started = Date.now();
    // Long-polls of 10 s: answered within 5 s only if the receipt woke one (earlier news may answer the first).
    const poll = (async () => {
      for (;;) {
        const body = await sessions.alice.next(10000);
        if (has(body, roomId, { eventId: message, type: "m.read", userId: bob.user_id })) return body;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await receiptOk(bob, roomId, "m.read", message);
    await poll;
    expect(Date.now() - started).toBeLessThan(5000);
  }, 30000);

  it("a user who joins later gets the room's current receipts with it", async () => {
    const { bob, roomId, message } = await setup();
    await receiptOk(bob, roomId, "m.read", message);
    const dave = await registerUser();
    await joinOk(dave, roomId);
    await new SyncSession(dave.access_token).until((b) => has(b, roomId, { eventId: message, type: "m.read", userId: bob.user_id }), 8000, true);
  });

  it("threaded receipts carry their thread_id, separately from unthreaded ones", async () => {
    const { alice, bob, roomId, message: root, sessions } = await setup();
    const reply = await sendInThread(alice, roomId, root, "in the thread");
    await receiptOk(bob, roomId, "m.read", reply, { thread_id: root });
    await receiptOk(bob, roomId, "m.read", root, { thread_id: "main" });
    await receiptOk(bob, roomId, "m.read", reply);
    const body = await sessions.alice.until((b) => has(b, roomId, { eventId: reply, type: "m.read", userId: bob.user_id }) && receiptsIn(b, roomId).length >= 3);
    const bobs = receiptsIn(body, roomId)
      .filter((r) => r.userId === bob.user_id)
      .map((r) => `${r.eventId} in ${r.threadId ?? "(unthreaded)"}`);
    expect(bobs.sort()).toEqual([`${reply} in ${root}`, `${root} in main`, `${reply} in (unthreaded)`].sort());
  });

  it("m.fully_read moves the read marker (room account data), not a receipt", async () => {
    const { alice, roomId, message } = await setup();
    await receiptOk(alice, roomId, "m.fully_read", message);
    const marker = await call("GET", roomDataPath(alice.user_id, roomId, "m.fully_read"), { token: alice.access_token });
    expect(marker.status).toBe(200);
    expect(marker.body).toEqual({ event_id: message });
  });

  it("accepts the r0 path and a body without thread_id", async () => {
    const { bob, roomId, message, sessions } = await setup();
    expect((await postReceipt(bob, roomId, "m.read", message, {}, "r0")).status).toBe(200);
    await sessions.alice.until((b) => has(b, roomId, { eventId: message, type: "m.read", userId: bob.user_id }));
  });
});

describe("receipt refusals", () => {
  it("400 M_INVALID_PARAM when the thread_id doesn't fit the event, is empty or not a string, or comes with m.fully_read", async () => {
    const { alice, bob, roomId, message: root } = await setup();
    const reply = await sendInThread(alice, roomId, root, "in the thread");
    const plain = await sendOk(alice, roomId, "main timeline");
    const cases: [string, string, unknown][] = [
      ["m.read", reply, { thread_id: "main" }],
      ["m.read", plain, { thread_id: root }],
      ["m.read.private", reply, { thread_id: plain }],
      ["m.read", plain, { thread_id: "" }],
      ["m.read", plain, { thread_id: 5 }],
      ["m.fully_read", plain, { thread_id: "main" }],
    ];
    for (const [type, eventId, body] of cases) {
      const res = await postReceipt(bob, roomId, type, eventId, body);
      expect(res.status, JSON.stringify([type, body])).toBe(400);
      expect(res.body.errcode).toBe("M_INVALID_PARAM");
    }
  });

  it("400 M_INVALID_PARAM for an unknown receipt type", async () => {
    const { bob, roomId, message } = await setup();
    const res = await postReceipt(bob, roomId, "m.unread", message);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });

  it("403 M_FORBIDDEN for a user who is not joined, or a room that doesn't exist", async () => {
    const { carol, bob, roomId, message } = await setup();
    for (const type of ["m.read", "m.read.private", "m.fully_read"]) {
      const res = await postReceipt(carol, roomId, type, message);
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
    }
    expect((await postReceipt(bob, "!nowhere:test.local", "m.read", message)).status).toBe(403);
  });

  it("404 M_NOT_FOUND for an event that is unknown, in another room, or hidden from the user", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "joined" } }] });
    const hidden = await sendOk(alice, roomId, "before bob");
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const elsewhere = await sendOk(alice, await createRoom(alice), "elsewhere");
    for (const eventId of ["$doesnotexist", elsewhere, hidden]) {
      const res = await postReceipt(bob, roomId, "m.read", eventId);
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
  });

  it("401 without a token", async () => {
    const { roomId, message } = await setup();
    const res = await call("POST", roomPath(roomId, `/receipt/m.read/${enc(message)}`), { body: {} });
    expect(res.status).toBe(401);
  });
});
