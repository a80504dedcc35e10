/** POST /rooms/{roomId}/upgrade (spec: Client-Server § Room upgrades). */
import { describe, expect, it } from "vitest";
import { getRoomSummary } from "../../src/storage/d1/rooms";
import { testEnv } from "./helpers";
import {
  call,
  createRoom,
  getState,
  join,
  joinOk,
  putState,
  registerUser,
  roomPath,
  send,
  sendOk,
  setPowerLevel,
  stateContent,
  stateEvent,
  targetAction,
  type TestUser,
} from "./room-helpers";

const upgrade = (user: TestUser, roomId: string, body: Record<string, unknown>) =>
  call("POST", roomPath(roomId, "/upgrade"), { token: user.access_token, body });

async function upgradeOk(user: TestUser, roomId: string, body: Record<string, unknown>): Promise<string> {
  const res = await upgrade(user, roomId, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(Object.keys(res.body)).toEqual(["replacement_room"]);
  return res.body.replacement_room as string;
}

function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.errcode).toBe(errcode);
}

const uniqueLocalpart = (prefix: string) => `${prefix}${Date.now()}${Math.floor(Math.random() * 1e6)}`;

describe("upgrading a room", () => {
  it("replaces a v10 room with a v11 room that carries its state, bans and aliases", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const mallory = await registerUser();
    const localpart = uniqueLocalpart("up");
    const alias = `#${localpart}:test.local`;
    const oldRoom = await createRoom(alice, {
      room_version: "10",
      preset: "public_chat",
      visibility: "public",
      name: "Old name",
      topic: "Old topic",
      room_alias_name: localpart,
      initial_state: [
        { type: "m.room.encryption", content: { algorithm: "m.megolm.v1.aes-sha2" } },
        { type: "m.room.avatar", content: { url: "mxc://test.local/avatar" } },
        { type: "m.room.server_acl", content: { allow: ["*"], deny: ["evil.example"], allow_ip_literals: false } },
        { type: "m.room.history_visibility", content: { history_visibility: "joined" } },
        { type: "org.example.private", content: { secret: true } },
      ],
    });
    await joinOk(bob, oldRoom);
    await setPowerLevel(alice, oldRoom, bob.user_id, 50);
    await joinOk(mallory, oldRoom);
    expect((await targetAction(alice, oldRoom, "ban", mallory.user_id, "spam")).status).toBe(200);
    const oldLevels = await stateContent(alice, oldRoom, "m.room.power_levels");
    const lastBefore = await sendOk(alice, oldRoom, "last words");

    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "11" });
    expect(newRoom).not.toBe(oldRoom);
    expect(newRoom).toMatch(/^![^:]+:test\.local$/);

    // The new room: version 11, pointing back at the old room and its last event.
    const create = await stateEvent(alice, newRoom, "m.room.create");
    expect(create.sender).toBe(alice.user_id);
    expect(create.content.room_version).toBe("11");
    expect(create.content.predecessor).toEqual({ room_id: oldRoom, event_id: lastBefore });
    expect(create.content.type).toBeUndefined();

    // The transferable state came along; other state didn't.
    expect(await stateContent(alice, newRoom, "m.room.name")).toEqual({ name: "Old name" });
    expect((await stateContent(alice, newRoom, "m.room.topic")).topic).toBe("Old topic");
    expect(await stateContent(alice, newRoom, "m.room.join_rules")).toEqual({ join_rule: "public" });
    expect(await stateContent(alice, newRoom, "m.room.history_visibility")).toEqual({ history_visibility: "joined" });
    expect(await stateContent(alice, newRoom, "m.room.guest_access")).toEqual({ guest_access: "forbidden" });
    expect(await stateContent(alice, newRoom, "m.room.encryption")).toEqual({ algorithm: "m.megolm.v1.aes-sha2" });
    expect(await stateContent(alice, newRoom, "m.room.avatar")).toEqual({ url: "mxc://test.local/avatar" });
    expect(await stateContent(alice, newRoom, "m.room.server_acl")).toEqual({ allow: ["*"], deny: ["evil.example"], allow_ip_literals: false });
    expect((await getState(alice, newRoom, "org.example.private")).status).toBe(404);
    expect(await stateContent(alice, newRoom, "m.room.power_levels")).toEqual(oldLevels);
    expect(await stateContent(alice, newRoom, "m.room.canonical_alias")).toEqual({ alias });

    // Members are not moved; bans are.
    const members = await call("GET", roomPath(newRoom, "/joined_members"), { token: alice.access_token });
    expect(Object.keys(members.body.joined)).toEqual([alice.user_id]);
    expect(await stateContent(alice, newRoom, "m.room.member", mallory.user_id)).toEqual({ membership: "ban", reason: "spam" });
    expectError(await join(mallory, newRoom), 403, "M_FORBIDDEN");

    // The old room is tombstoned, and regular members can no longer speak or invite there.
    expect(await stateContent(bob, oldRoom, "m.room.tombstone")).toEqual({ body: expect.any(String), replacement_room: newRoom });
    const restricted = await stateContent(alice, oldRoom, "m.room.power_levels");
    expect(restricted.events_default).toBe(50);
    expect(restricted.invite).toBe(50);
    expect(restricted.users).toEqual(oldLevels.users);
    const carol = await registerUser();
    await joinOk(carol, oldRoom);
    expectError(await send(carol, oldRoom, { msgtype: "m.text", body: "hello?" }), 403, "M_FORBIDDEN");
    expect((await send(bob, oldRoom, { msgtype: "m.text", body: "moderators still can" })).status).toBe(200);

    // The alias moved: joining by it lands in the new room, and the old room no longer claims it.
    expect(await joinOk(carol, alias)).toBe(newRoom);
    expect(await stateContent(alice, oldRoom, "m.room.canonical_alias")).toEqual({});

    // The directory lists the new room instead of the old one.
    expect((await getRoomSummary(testEnv.DB, newRoom))?.is_public).toBe(1);
    expect((await getRoomSummary(testEnv.DB, oldRoom))?.is_public).toBe(0);
  });

  it("refuses a second upgrade while one is under way, and allows it once that ends", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { room_version: "10" });
    // Hold the room's upgrade claim as a concurrent request would.
    const room = testEnv.ROOMS.getByName(roomId) as unknown as { beginUpgrade(t: string, ms: number): Promise<boolean>; endUpgrade(t: string): Promise<void> };
    expect(await room.beginUpgrade("other-request", 60_000)).toBe(true);
    const busy = await upgrade(alice, roomId, { new_version: "11" });
    expectError(busy, 400, "M_UNKNOWN");
    expect(busy.body.error).toContain("in progress");
    // Nothing happened to the room.
    expect((await getState(alice, roomId, "m.room.tombstone")).status).toBe(404);
    await room.endUpgrade("other-request");
    await upgradeOk(alice, roomId, { new_version: "11" });
    // A finished upgrade released its claim: the room can be upgraded again.
    expect(await room.beginUpgrade("later", 1)).toBe(true);
  });

  it("keeps a private room out of the directory and keeps remote aliases in the old room", async () => {
    const alice = await registerUser();
    const localpart = uniqueLocalpart("alt");
    const oldRoom = await createRoom(alice, { room_version: "11", room_alias_name: localpart });
    const mine = `#${localpart}:test.local`;
    expect((await putState(alice, oldRoom, "m.room.canonical_alias", { alias: mine, alt_aliases: [mine, "#far:elsewhere.example"] })).status).toBe(200);
    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "11" });
    expect(await stateContent(alice, newRoom, "m.room.canonical_alias")).toEqual({ alias: mine, alt_aliases: [mine] });
    expect(await stateContent(alice, oldRoom, "m.room.canonical_alias")).toEqual({ alt_aliases: ["#far:elsewhere.example"] });
    expect(await stateContent(alice, newRoom, "m.room.join_rules")).toEqual({ join_rule: "invite" });
    expect((await getRoomSummary(testEnv.DB, newRoom))?.is_public).toBe(0);
  });

  it("skips a ban the upgrader couldn't make in the new room rather than failing", async () => {
    const alice = await registerUser();
    const mallory = await registerUser();
    const trudy = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "11", preset: "public_chat" });
    expect((await targetAction(alice, oldRoom, "ban", mallory.user_id)).status).toBe(200);
    expect((await targetAction(alice, oldRoom, "ban", trudy.user_id)).status).toBe(200);
    // Mallory's entry is raised to Alice's level after the ban.
    await setPowerLevel(alice, oldRoom, mallory.user_id, 100);
    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "11" });
    expect((await getState(alice, newRoom, "m.room.member", mallory.user_id)).status).toBe(404);
    expect(await stateContent(alice, newRoom, "m.room.member", trudy.user_id)).toEqual({ membership: "ban" });
    expect(await stateContent(alice, oldRoom, "m.room.tombstone")).toMatchObject({ replacement_room: newRoom });
  });

  it("copies the room type, so a space stays a space, with its children", async () => {
    const alice = await registerUser();
    const child = await createRoom(alice, {});
    const oldSpace = await createRoom(alice, { creation_content: { type: "m.space" }, room_version: "11" });
    expect((await putState(alice, oldSpace, "m.space.child", { via: ["test.local"] }, child)).status).toBe(200);
    const newSpace = await upgradeOk(alice, oldSpace, { new_version: "11" });
    const create = await stateContent(alice, newSpace, "m.room.create");
    expect(create.type).toBe("m.space");
    expect(await stateContent(alice, newSpace, "m.space.child", child)).toEqual({ via: ["test.local"] });
  });

  it("raises the upgrader while copying, then restores their level", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const oldRoom = await createRoom(alice, {
      room_version: "10",
      preset: "public_chat",
      power_level_content_override: { events: { "m.room.tombstone": 50, "m.room.history_visibility": 100, "m.room.power_levels": 100 } },
    });
    await joinOk(bob, oldRoom);
    await setPowerLevel(alice, oldRoom, bob.user_id, 50);
    expect((await putState(alice, oldRoom, "m.room.history_visibility", { history_visibility: "invited" })).status).toBe(200);
    const levels = await stateContent(alice, oldRoom, "m.room.power_levels");

    // Bob (50) may send the tombstone, though copying history visibility needs 100.
    const newRoom = await upgradeOk(bob, oldRoom, { new_version: "10" });
    expect(await stateContent(bob, newRoom, "m.room.history_visibility")).toEqual({ history_visibility: "invited" });
    const newLevels = await stateContent(bob, newRoom, "m.room.power_levels");
    expect(newLevels).toEqual(levels);
    expect(newLevels.users[bob.user_id]).toBe(50);
    // Bob is back at 50 for real: he can't change history visibility now.
    expectError(await putState(bob, newRoom, "m.room.history_visibility", { history_visibility: "joined" }), 403, "M_FORBIDDEN");
    // The new room's creator field names the upgrader (v10).
    expect((await stateContent(bob, newRoom, "m.room.create")).creator).toBe(bob.user_id);
  });

  it("upgrades to v12: no predecessor event id, creators out of users, additional creators as asked", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "11", preset: "public_chat" });
    await joinOk(bob, oldRoom);
    await joinOk(carol, oldRoom);
    await setPowerLevel(alice, oldRoom, bob.user_id, 100);
    await setPowerLevel(alice, oldRoom, carol.user_id, 50);

    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "12", additional_creators: [bob.user_id] });
    expect(newRoom).toMatch(/^![A-Za-z0-9_-]{43}$/);
    const create = await stateEvent(alice, newRoom, "m.room.create");
    expect(create.content.room_version).toBe("12");
    expect(create.content.predecessor).toEqual({ room_id: oldRoom });
    expect(create.content.additional_creators).toEqual([bob.user_id]);
    const levels = await stateContent(alice, newRoom, "m.room.power_levels");
    expect(levels.users).toEqual({ [carol.user_id]: 50 });
    expect(await stateContent(alice, oldRoom, "m.room.tombstone")).toMatchObject({ replacement_room: newRoom });

    // Bob is a creator of the new room: he can do what only creators can.
    await joinOk(bob, newRoom);
    expect((await putState(bob, newRoom, "m.room.power_levels", { ...levels, users: {} })).status).toBe(200);
  });

  it("doesn't carry v12 additional creators over unless asked again", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "12", preset: "trusted_private_chat", invite: [bob.user_id] });
    await joinOk(bob, oldRoom);
    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "12" });
    const create = await stateContent(alice, newRoom, "m.room.create");
    expect(create.additional_creators).toBeUndefined();
    expect(create.predecessor).toEqual({ room_id: oldRoom });
  });

  it("ignores additional_creators for versions without them", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "11" });
    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "11", additional_creators: [bob.user_id] });
    expect((await stateContent(alice, newRoom, "m.room.create")).additional_creators).toBeUndefined();
  });

  it("gives infinitely powerful v12 creators 100 in an older version", async () => {
    const alice = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "12", preset: "public_chat" });
    const newRoom = await upgradeOk(alice, oldRoom, { new_version: "11" });
    expect((await stateContent(alice, newRoom, "m.room.power_levels")).users).toEqual({ [alice.user_id]: 100 });
    expect((await putState(alice, newRoom, "m.room.name", { name: "still in charge" })).status).toBe(200);
  });
});

describe("upgrade refusals", () => {
  it("needs the power to send m.room.tombstone, and leaves the room alone otherwise", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "11", preset: "public_chat" });
    await joinOk(bob, oldRoom);
    await setPowerLevel(alice, oldRoom, bob.user_id, 99);
    expectError(await upgrade(bob, oldRoom, { new_version: "11" }), 403, "M_FORBIDDEN");
    expectError(await getState(alice, oldRoom, "m.room.tombstone"), 404, "M_NOT_FOUND");
    expect((await stateContent(alice, oldRoom, "m.room.power_levels")).events_default).toBe(0);
  });

  it("in v12 even an admin at 100 can't upgrade; only a creator can", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const oldRoom = await createRoom(alice, { room_version: "12", preset: "public_chat" });
    await joinOk(bob, oldRoom);
    await setPowerLevel(alice, oldRoom, bob.user_id, 100);
    expectError(await upgrade(bob, oldRoom, { new_version: "12" }), 403, "M_FORBIDDEN");
    expect((await upgrade(alice, oldRoom, { new_version: "12" })).status).toBe(200);
  });

  it("refuses non-members and former members", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const eve = await registerUser();
    const oldRoom = await createRoom(alice, { preset: "public_chat", power_level_content_override: { events: { "m.room.tombstone": 0 } } });
    expectError(await upgrade(eve, oldRoom, { new_version: "11" }), 403, "M_FORBIDDEN");
    await joinOk(bob, oldRoom);
    expect((await call("POST", roomPath(oldRoom, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    expectError(await upgrade(bob, oldRoom, { new_version: "11" }), 403, "M_FORBIDDEN");
    expectError(await getState(alice, oldRoom, "m.room.tombstone"), 404, "M_NOT_FOUND");
  });

  it("refuses versions this server can't create", async () => {
    const alice = await registerUser();
    const oldRoom = await createRoom(alice, {});
    for (const new_version of ["9", "1", "13", "nope"]) {
      expectError(await upgrade(alice, oldRoom, { new_version }), 400, "M_UNSUPPORTED_ROOM_VERSION");
    }
    expectError(await getState(alice, oldRoom, "m.room.tombstone"), 404, "M_NOT_FOUND");
  });

  it("refuses malformed bodies and unknown rooms", async () => {
    const alice = await registerUser();
    const oldRoom = await createRoom(alice, {});
    expectError(await upgrade(alice, oldRoom, {}), 400, "M_BAD_JSON");
    expectError(await upgrade(alice, oldRoom, { new_version: 11 }), 400, "M_BAD_JSON");
    expectError(await upgrade(alice, oldRoom, { new_version: "12", additional_creators: ["bob"] }), 400, "M_BAD_JSON");
    expectError(await upgrade(alice, "!unknown:test.local", { new_version: "11" }), 404, "M_NOT_FOUND");
    expectError(await upgrade(alice, "not-a-room", { new_version: "11" }), 400, "M_INVALID_PARAM");
  });
});
