/**
 * Sending events and room state (spec: Client-Server § PUT /rooms/{roomId}/send, § Transaction identifiers,
 * § GET/PUT /rooms/{roomId}/state/…, § m.room.canonical_alias, § m.room.power_levels).
 */
import { describe, expect, it } from "vitest";
import { loginOk } from "./helpers";
import { call, createRoom, getEvent, getState, joinOk, putState, registerUser, roomPath, send, setPowerLevel, stateContent, stateEvent, targetAction, type TestUser } from "./room-helpers";

function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.errcode).toBe(errcode);
}

describe("reading and writing state", () => {
  it("puts and gets state with the empty state key, with or without the trailing slash", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    const withSlash = await call("PUT", roomPath(roomId, "/state/m.room.topic/"), { token: alice.access_token, body: { topic: "one" } });
    expect(withSlash.status).toBe(200);
    expect(withSlash.body.event_id).toMatch(/^\$/);
    expect((await call("GET", roomPath(roomId, "/state/m.room.topic"), { token: alice.access_token })).body).toEqual({ topic: "one" });

    const withoutSlash = await call("PUT", roomPath(roomId, "/state/m.room.topic"), { token: alice.access_token, body: { topic: "two" } });
    expect(withoutSlash.status).toBe(200);
    expect((await call("GET", roomPath(roomId, "/state/m.room.topic/"), { token: alice.access_token })).body).toEqual({ topic: "two" });

    // format=event returns the whole event, with the previous content.
    const event = await stateEvent(alice, roomId, "m.room.topic");
    expect(event).toMatchObject({ event_id: withoutSlash.body.event_id, type: "m.room.topic", state_key: "", sender: alice.user_id, room_id: roomId });
    expect(event.content).toEqual({ topic: "two" });
    expect(event.unsigned.prev_content).toEqual({ topic: "one" });
  });

  it("keeps state keys apart, including ones with slashes", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    expect((await putState(alice, roomId, "org.example.thing", { n: 1 }, "a")).status).toBe(200);
    expect((await putState(alice, roomId, "org.example.thing", { n: 2 }, "b/c")).status).toBe(200);
    expect(await stateContent(alice, roomId, "org.example.thing", "a")).toEqual({ n: 1 });
    expect(await stateContent(alice, roomId, "org.example.thing", "b/c")).toEqual({ n: 2 });
    expectError(await getState(alice, roomId, "org.example.thing"), 404, "M_NOT_FOUND");
    expectError(await getState(alice, roomId, "org.example.thing", "zzz"), 404, "M_NOT_FOUND");

    const all = await call("GET", roomPath(roomId, "/state"), { token: alice.access_token });
    expect(all.status).toBe(200);
    const keys = (all.body as any[]).map((e) => `${e.type}|${e.state_key}`);
    expect(keys).toEqual(expect.arrayContaining(["m.room.create|", "m.room.power_levels|", `m.room.member|${alice.user_id}`, "org.example.thing|a", "org.example.thing|b/c"]));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("makes a new event for every PUT, even with the same content", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    const a = await putState(alice, roomId, "m.room.name", { name: "x" });
    const b = await putState(alice, roomId, "m.room.name", { name: "x" });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.event_id).not.toBe(b.body.event_id);
  });

  it("refuses state keys starting with @ that aren't the sender's", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, {});
    expectError(await putState(alice, roomId, "org.example.profile", { x: 1 }, bob.user_id), 403, "M_FORBIDDEN");
    expect((await putState(alice, roomId, "org.example.profile", { x: 1 }, alice.user_id)).status).toBe(200);
  });

  it("refuses non-object bodies and oversized types", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    const array = await call("PUT", roomPath(roomId, "/state/m.room.topic/"), { token: alice.access_token, rawBody: "[1]", headers: { "content-type": "application/json" } });
    expectError(array, 400, "M_BAD_JSON");
    const longType = "x".repeat(256);
    expectError(await putState(alice, roomId, longType, {}), 400, "M_INVALID_PARAM");
    expectError(await putState(alice, roomId, "org.example", {}, "k".repeat(256)), 400, "M_INVALID_PARAM");
  });

  it("hides state from non-members and from users who never joined", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice, { name: "hidden" });
    expectError(await getState(eve, roomId, "m.room.name"), 403, "M_FORBIDDEN");
    expectError(await putState(eve, roomId, "m.room.name", { name: "mine" }), 403, "M_FORBIDDEN");
    expectError(await getState(eve, "!nowhere:test.local", "m.room.name"), 403, "M_FORBIDDEN");
  });

  it("shows a user who left the state as it was when they left", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", name: "before" });
    await joinOk(bob, roomId);
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    expect((await putState(alice, roomId, "m.room.name", { name: "after" })).status).toBe(200);
    expect(await stateContent(bob, roomId, "m.room.name")).toEqual({ name: "before" });
    expect(await stateContent(alice, roomId, "m.room.name")).toEqual({ name: "after" });
  });
});

describe("m.room.canonical_alias", () => {
  const alias = () => `#ca${Date.now()}${Math.floor(Math.random() * 1e6)}:test.local`;

  it("accepts aliases that point to the room", async () => {
    const alice = await registerUser();
    const localpart = `ca${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const roomId = await createRoom(alice, { room_alias_name: localpart });
    const mine = `#${localpart}:test.local`;
    const res = await putState(alice, roomId, "m.room.canonical_alias", { alias: mine, alt_aliases: [mine] });
    expect(res.status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.canonical_alias")).toEqual({ alias: mine, alt_aliases: [mine] });
    // Clearing it is always allowed.
    expect((await putState(alice, roomId, "m.room.canonical_alias", {})).status).toBe(200);
  });

  it("refuses aliases that don't exist or point elsewhere with M_BAD_ALIAS", async () => {
    const alice = await registerUser();
    const localpart = `other${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    await createRoom(alice, { room_alias_name: localpart });
    const roomId = await createRoom(alice, {});
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alias: alias() }), 400, "M_BAD_ALIAS");
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alias: `#${localpart}:test.local` }), 400, "M_BAD_ALIAS");
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alt_aliases: [alias()] }), 400, "M_BAD_ALIAS");
    expectError(await getState(alice, roomId, "m.room.canonical_alias"), 404, "M_NOT_FOUND");
  });

  it("refuses malformed aliases with M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alias: "not-an-alias" }), 400, "M_INVALID_PARAM");
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alt_aliases: "#a:test.local" }), 400, "M_INVALID_PARAM");
    expectError(await putState(alice, roomId, "m.room.canonical_alias", { alt_aliases: [42] }), 400, "M_INVALID_PARAM");
  });
});

describe("power levels gate state changes", () => {
  async function roomWithMember(): Promise<{ alice: TestUser; bob: TestUser; carol: TestUser; roomId: string }> {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", room_version: "11" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    return { alice, bob, carol, roomId };
  }

  it("a member below state_default can't set the topic; at 50 they can", async () => {
    const { alice, bob, roomId } = await roomWithMember();
    expectError(await putState(bob, roomId, "m.room.topic", { topic: "mine" }), 403, "M_FORBIDDEN");
    // Messages need only events_default (0).
    expect((await send(bob, roomId, { msgtype: "m.text", body: "hi" })).status).toBe(200);
    await setPowerLevel(alice, roomId, bob.user_id, 50);
    expect((await putState(bob, roomId, "m.room.topic", { topic: "mine" })).status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.topic")).toEqual({ topic: "mine" });
  });

  it("per-type levels apply: a moderator can't change history visibility (100)", async () => {
    const { alice, bob, roomId } = await roomWithMember();
    await setPowerLevel(alice, roomId, bob.user_id, 50);
    expectError(await putState(bob, roomId, "m.room.history_visibility", { history_visibility: "joined" }), 403, "M_FORBIDDEN");
    expect((await putState(bob, roomId, "m.room.name", { name: "ok" })).status).toBe(200);
  });

  it("a moderator can't promote above their own level, nor demote an equal", async () => {
    const { alice, bob, carol, roomId } = await roomWithMember();
    await setPowerLevel(alice, roomId, bob.user_id, 50);
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    // Bob can't edit power levels at all while m.room.power_levels needs 100…
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...pl, users: { ...pl.users, [carol.user_id]: 25 } }), 403, "M_FORBIDDEN");
    // …so lower that requirement to 50 and try again.
    const relaxed = { ...pl, events: { ...pl.events, "m.room.power_levels": 50 } };
    expect((await putState(alice, roomId, "m.room.power_levels", relaxed)).status).toBe(200);
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...relaxed, users: { ...relaxed.users, [carol.user_id]: 100 } }), 403, "M_FORBIDDEN");
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...relaxed, users: { ...relaxed.users, [bob.user_id]: 75 } }), 403, "M_FORBIDDEN");
    expect((await putState(bob, roomId, "m.room.power_levels", { ...relaxed, users: { ...relaxed.users, [carol.user_id]: 50 } })).status).toBe(200);
    // Now Carol equals Bob: he can neither demote nor kick her, and can't touch the admin.
    const now = await stateContent(alice, roomId, "m.room.power_levels");
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...now, users: { ...now.users, [carol.user_id]: 0 } }), 403, "M_FORBIDDEN");
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...now, users: { ...now.users, [alice.user_id]: 0 } }), 403, "M_FORBIDDEN");
    expectError(await targetAction(bob, roomId, "kick", carol.user_id), 403, "M_FORBIDDEN");
    // Bob may lower himself.
    expect((await putState(bob, roomId, "m.room.power_levels", { ...now, users: { ...now.users, [bob.user_id]: 10 } })).status).toBe(200);
    expect((await stateContent(alice, roomId, "m.room.power_levels")).users[bob.user_id]).toBe(10);
  });

  it("refuses power levels the room version can't read", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { room_version: "10" });
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    // v10+: integers only.
    expectError(await putState(alice, roomId, "m.room.power_levels", { ...pl, ban: "50" }), 403, "M_FORBIDDEN");
    expectError(await putState(alice, roomId, "m.room.power_levels", { ...pl, users: { ...pl.users, "not a user": 5 } }), 403, "M_FORBIDDEN");
  });

  it("in v12 a creator's power can't be lowered, and admins at 100 can't tombstone", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { room_version: "12", preset: "public_chat" });
    await joinOk(bob, roomId);
    await setPowerLevel(alice, roomId, bob.user_id, 100);
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    // Creators may not be listed in users.
    expectError(await putState(bob, roomId, "m.room.power_levels", { ...pl, users: { ...pl.users, [alice.user_id]: 0 } }), 403, "M_FORBIDDEN");
    expectError(await targetAction(bob, roomId, "kick", alice.user_id), 403, "M_FORBIDDEN");
    expectError(await putState(bob, roomId, "m.room.tombstone", { body: "bye", replacement_room: "!x:test.local" }), 403, "M_FORBIDDEN");
    // The creator can demote Bob, whatever his level.
    expect((await putState(alice, roomId, "m.room.power_levels", { ...pl, users: {} })).status).toBe(200);
  });
});

describe("sending events", () => {
  it("deduplicates a transaction id per device, and only per device", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const first = await send(alice, roomId, { msgtype: "m.text", body: "once" }, "m.room.message", "txn1");
    expect(first.status).toBe(200);
    // A retry from the same device returns the same event, even with another body.
    const retry = await send(alice, roomId, { msgtype: "m.text", body: "twice?" }, "m.room.message", "txn1");
    expect(retry.status).toBe(200);
    expect(retry.body.event_id).toBe(first.body.event_id);
    expect((await getEvent(alice, roomId, first.body.event_id)).body.content.body).toBe("once");

    // Another device of the same user, or another user, starts afresh.
    const session = await loginOk(alice.username);
    const otherDevice = await send({ ...alice, ...session }, roomId, { msgtype: "m.text", body: "other device" }, "m.room.message", "txn1");
    expect(otherDevice.status).toBe(200);
    expect(otherDevice.body.event_id).not.toBe(first.body.event_id);
    const otherUser = await send(bob, roomId, { msgtype: "m.text", body: "bob" }, "m.room.message", "txn1");
    expect(otherUser.body.event_id).not.toBe(first.body.event_id);
    expect(otherUser.body.event_id).not.toBe(otherDevice.body.event_id);

    // The sending device sees its transaction id; nobody else does.
    expect((await getEvent(alice, roomId, first.body.event_id)).body.unsigned.transaction_id).toBe("txn1");
    expect((await getEvent({ ...alice, ...session }, roomId, first.body.event_id)).body.unsigned.transaction_id).toBeUndefined();
    expect((await getEvent(bob, roomId, first.body.event_id)).body.unsigned.transaction_id).toBeUndefined();
  });

  it("refuses non-members, unknown rooms and bad content", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice, {});
    expectError(await send(eve, roomId, { body: "x" }), 403, "M_FORBIDDEN");
    expectError(await send(alice, "!nowhere:test.local", { body: "x" }), 404, "M_NOT_FOUND");
    // Floats aren't canonical JSON.
    expectError(await send(alice, roomId, { body: "x", n: 1.5 }), 400, "M_BAD_JSON");
    expectError(await send(alice, roomId, { body: "x".repeat(70000) }), 413, "M_TOO_LARGE");
  });
});
