/** GET/PUT /presence/{userId}/status and /sync's presence section (spec: Client-Server § Presence). */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";
import { createRoom, joinOk, roomPath, type TestUser } from "./room-helpers";

const enc = encodeURIComponent;
const presencePath = (userId: string) => `/_matrix/client/v3/presence/${enc(userId)}/status`;

function putPresence(user: TestUser, body: unknown, target = user.user_id) {
  return call("PUT", presencePath(target), { token: user.access_token, body });
}

async function putPresenceOk(user: TestUser, presence: string, statusMsg?: string) {
  const res = await putPresence(user, { presence, ...(statusMsg !== undefined ? { status_msg: statusMsg } : {}) });
  if (res.status !== 200) throw new Error(`PUT presence: ${res.status} ${JSON.stringify(res.body)}`);
}

function getPresence(viewer: TestUser, target: string) {
  return call("GET", presencePath(target), { token: viewer.access_token });
}

async function sync(user: TestUser, query = "") {
  const res = await call("GET", `/_matrix/client/v3/sync${query}`, { token: user.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const presenceOf = (body: any, userId: string) => (body.presence?.events ?? []).filter((e: any) => e.sender === userId);

/** Syncs (without marking the syncing user online) until `pred` holds: fan-out is asynchronous. */
async function syncUntil(user: TestUser, since: string | undefined, pred: (body: any) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  let body: any;
  let next = since;
  do {
    body = await sync(user, `?set_presence=offline&timeout=500${next ? `&since=${next}` : ""}`);
    if (pred(body)) return body;
    next = body.next_batch;
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

/** Alice and Bob share a room; Carol shares none with them. */
async function trio() {
  const alice = await registerUser();
  const bob = await registerUser();
  const carol = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat" });
  await joinOk(bob, roomId);
  await createRoom(carol, {});
  return { alice, bob, carol, roomId };
}

describe("presence", () => {
  it("PUT sets your own presence and status; GET computes last_active_ago and currently_active", async () => {
    const alice = await registerUser();
    expect((await getPresence(alice, alice.user_id)).body).toEqual({ presence: "offline" });
    await putPresenceOk(alice, "online", "writing tests");
    const res = await getPresence(alice, alice.user_id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ presence: "online", status_msg: "writing tests", currently_active: true });
    expect(res.body.last_active_ago).toBeGreaterThanOrEqual(0);
    expect(res.body.last_active_ago).toBeLessThan(10_000);

    // Without status_msg the message is cleared.
    await putPresenceOk(alice, "unavailable");
    const after = (await getPresence(alice, alice.user_id)).body;
    expect(after.presence).toBe("unavailable");
    expect(after.status_msg).toBeUndefined();
    expect(after.currently_active).toBeUndefined();
  });

  it("refuses setting someone else's presence and malformed bodies", async () => {
    const { alice, bob } = await trio();
    const other = await putPresence(alice, { presence: "online" }, bob.user_id);
    expect(other.status).toBe(403);
    expect(other.body.errcode).toBe("M_FORBIDDEN");
    expect((await getPresence(bob, bob.user_id)).body).toEqual({ presence: "offline" });

    for (const body of [{}, { presence: "busy" }, { presence: "online", status_msg: 5 }]) {
      const res = await putPresence(alice, body);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
  });

  it("GET of another user needs a shared room: 403 before joining and after leaving", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await putPresenceOk(alice, "online", "hello");
    const roomId = await createRoom(alice, { preset: "public_chat" });

    const before = await getPresence(bob, alice.user_id);
    expect(before.status).toBe(403);
    expect(before.body.errcode).toBe("M_FORBIDDEN");

    await joinOk(bob, roomId);
    const shared = await getPresence(bob, alice.user_id);
    expect(shared.status).toBe(200);
    expect(shared.body).toMatchObject({ presence: "online", status_msg: "hello" });

    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    expect((await getPresence(bob, alice.user_id)).status).toBe(403);

    expect((await getPresence(bob, "not-a-user-id")).status).toBe(400);
    expect((await getPresence(bob, "@someone:elsewhere.example")).status).toBe(403);
    expect((await call("GET", presencePath(alice.user_id))).status).toBe(401);
  });

  it("sync's set_presence: absent marks online, unavailable marks idle, offline changes nothing", async () => {
    const alice = await registerUser();
    await putPresenceOk(alice, "unavailable", "away");
    await sync(alice, "?set_presence=offline");
    expect((await getPresence(alice, alice.user_id)).body).toMatchObject({ presence: "unavailable", status_msg: "away" });
    await sync(alice);
    expect((await getPresence(alice, alice.user_id)).body).toMatchObject({ presence: "online", status_msg: "away", currently_active: true });
    await sync(alice, "?set_presence=unavailable");
    expect((await getPresence(alice, alice.user_id)).body).toMatchObject({ presence: "unavailable" });
  });

  it("a change reaches the syncs of users sharing a room, and never those of users who share none", async () => {
    const { alice, bob, carol } = await trio();
    const bobStart = await sync(bob, "?set_presence=offline");
    const carolStart = await sync(carol, "?set_presence=offline");

    await putPresenceOk(alice, "online", "in the lobby");
    const bobGot = await syncUntil(bob, bobStart.next_batch, (b) => presenceOf(b, alice.user_id).length > 0);
    const event = presenceOf(bobGot, alice.user_id)[0];
    expect(event.type).toBe("m.presence");
    expect(event.content).toMatchObject({ presence: "online", status_msg: "in the lobby", currently_active: true });
    expect(typeof event.content.last_active_ago).toBe("number");
    // Alice sees her own presence too.
    await syncUntil(alice, undefined, (b) => presenceOf(b, alice.user_id).some((e: any) => e.content.status_msg === "in the lobby"));

    // Carol's object was never told, and a fresh initial sync of hers shows nothing of Alice.
    const carolLater = await sync(carol, `?set_presence=offline&timeout=300&since=${carolStart.next_batch}`);
    expect(presenceOf(carolLater, alice.user_id)).toEqual([]);
    expect(presenceOf(await sync(carol, "?set_presence=offline"), alice.user_id)).toEqual([]);
  });

  it("a syncing user's presence goes online for their room's members", async () => {
    const { alice, bob } = await trio();
    const bobStart = await sync(bob, "?set_presence=offline");
    await sync(alice);
    await syncUntil(bob, bobStart.next_batch, (b) => presenceOf(b, alice.user_id).some((e: any) => e.content.presence === "online"));
  });

  it("after the last shared room is left, the old presence is no longer shown, even in an initial sync", async () => {
    const { alice, bob, roomId } = await trio();
    await putPresenceOk(alice, "online", "before");
    await syncUntil(bob, undefined, (b) => presenceOf(b, alice.user_id).some((e: any) => e.content.status_msg === "before"));

    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    expect(presenceOf(await sync(bob, "?set_presence=offline"), alice.user_id)).toEqual([]);
    const bobAfter = await sync(bob, "?set_presence=offline");
    await putPresenceOk(alice, "unavailable", "after");
    const later = await sync(bob, `?set_presence=offline&timeout=500&since=${bobAfter.next_batch}`);
    expect(presenceOf(later, alice.user_id)).toEqual([]);
  });
});
