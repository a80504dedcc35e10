/** Room membership (spec: Client-Server § Room membership): join, invite, leave, forget, kick, ban, knock, restricted joins. */
import { describe, expect, it } from "vitest";
import {
  call,
  createRoom,
  join,
  joinOk,
  membershipOf,
  registerUser,
  roomPath,
  send,
  sendOk,
  setPowerLevel,
  stateContent,
  targetAction,
  type TestUser,
} from "./room-helpers";

const leave = (user: TestUser, roomId: string) => call("POST", roomPath(roomId, "/leave"), { token: user.access_token, body: {} });
const forget = (user: TestUser, roomId: string) => call("POST", roomPath(roomId, "/forget"), { token: user.access_token, body: {} });
const knock = (user: TestUser, roomIdOrAlias: string, reason?: string) =>
  call("POST", `/_matrix/client/v3/knock/${encodeURIComponent(roomIdOrAlias)}`, { token: user.access_token, body: reason ? { reason } : {} });
const joinedRooms = async (user: TestUser) => (await call("GET", "/_matrix/client/v3/joined_rooms", { token: user.access_token })).body.joined_rooms as string[];

function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.errcode).toBe(errcode);
}

describe("joining", () => {
  it("joins by room id through both endpoints, and by alias", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const localpart = `join${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const roomId = await createRoom(alice, { preset: "public_chat", room_alias_name: localpart });

    const byRoomsPath = await call("POST", roomPath(roomId, "/join"), { token: bob.access_token, body: {} });
    expect(byRoomsPath.status).toBe(200);
    expect(byRoomsPath.body).toEqual({ room_id: roomId });
    expect(await joinOk(carol, `#${localpart}:test.local`)).toBe(roomId);

    const members = await call("GET", roomPath(roomId, "/joined_members"), { token: alice.access_token });
    expect(Object.keys(members.body.joined).sort()).toEqual([alice.user_id, bob.user_id, carol.user_id].sort());
    expect(await joinedRooms(carol)).toContain(roomId);
  });

  it("puts the joiner's profile and reason in the member event", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await call("PUT", `/_matrix/client/v3/profile/${encodeURIComponent(bob.user_id)}/displayname`, { token: bob.access_token, body: { displayname: "Bobby" } });
    const roomId = await createRoom(alice, { preset: "public_chat" });
    const res = await call("POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: { reason: "hello" } });
    expect(res.status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.member", bob.user_id)).toEqual({ membership: "join", displayname: "Bobby", reason: "hello" });
  });

  it("refuses unknown aliases and rooms", async () => {
    const bob = await registerUser();
    expectError(await join(bob, `#nope${Date.now()}:test.local`), 404, "M_NOT_FOUND");
    expectError(await join(bob, "!doesnotexist:test.local"), 404, "M_NOT_FOUND");
    expectError(await join(bob, "not-a-room"), 400, "M_INVALID_PARAM");
  });
});

describe("invites", () => {
  it("lets an invited user join an invite-only room", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "private_chat" });
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");
    const invited = await targetAction(alice, roomId, "invite", bob.user_id, "come in");
    expect(invited.status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.member", bob.user_id)).toEqual({ membership: "invite", reason: "come in" });
    expect(await joinOk(bob, roomId)).toBe(roomId);
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("join");
    // Inviting someone already joined is refused.
    expectError(await targetAction(alice, roomId, "invite", bob.user_id), 403, "M_FORBIDDEN");
  });

  it("refuses users on other servers, unknown local users and bad ids", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {});
    expectError(await targetAction(alice, roomId, "invite", "@someone:elsewhere.example"), 403, "M_FORBIDDEN");
    expectError(await targetAction(alice, roomId, "invite", `@ghost${Date.now()}:test.local`), 404, "M_NOT_FOUND");
    expectError(await targetAction(alice, roomId, "invite", "ghost"), 400, "M_INVALID_PARAM");
    const missing = await call("POST", roomPath(roomId, "/invite"), { token: alice.access_token, body: {} });
    expectError(missing, 400, "M_BAD_JSON");
  });

  it("refuses invites from non-members and from members below the invite level", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    expectError(await targetAction(bob, roomId, "invite", carol.user_id), 403, "M_FORBIDDEN");
    await joinOk(bob, roomId);
    // public_chat: inviting needs 50.
    expectError(await targetAction(bob, roomId, "invite", carol.user_id), 403, "M_FORBIDDEN");
    expect(await membershipOf(alice, roomId, carol.user_id)).toBeUndefined();
  });

  it("lets an invitee reject by leaving", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { invite: [bob.user_id] });
    expect((await leave(bob, roomId)).status).toBe(200);
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("leave");
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");
  });
});

describe("leaving and forgetting", () => {
  it("a user who left can no longer send, and may forget the room only after leaving", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);

    const early = await forget(bob, roomId);
    expectError(early, 400, "M_UNKNOWN");

    expect((await leave(bob, roomId)).status).toBe(200);
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("leave");
    expect(await joinedRooms(bob)).not.toContain(roomId);
    expectError(await send(bob, roomId, { msgtype: "m.text", body: "still here?" }), 403, "M_FORBIDDEN");
    // Leaving twice is refused by the authorization rules.
    expectError(await leave(bob, roomId), 403, "M_FORBIDDEN");

    expect((await forget(bob, roomId)).status).toBe(200);
    // Rejoining after forgetting works like any join.
    expect(await joinOk(bob, roomId)).toBe(roomId);
    expect(await joinedRooms(bob)).toContain(roomId);
  });

  it("refuses to forget a room the user was never in", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, {});
    expectError(await forget(bob, roomId), 404, "M_NOT_FOUND");
  });
});

describe("kicks", () => {
  it("a moderator kicks a member, who may come back to a public room", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    expect((await targetAction(alice, roomId, "kick", bob.user_id, "spam")).status).toBe(200);
    const member = await stateContent(alice, roomId, "m.room.member", bob.user_id);
    expect(member).toEqual({ membership: "leave", reason: "spam" });
    expect(await joinOk(bob, roomId)).toBe(roomId);
  });

  it("refuses kicks by users without power, of equal power, and of non-members", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const dave = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    // Carol at 0 can't kick Bob.
    expectError(await targetAction(carol, roomId, "kick", bob.user_id), 403, "M_FORBIDDEN");
    // Bob and Carol both moderators: neither can kick the other, nor the admin.
    await setPowerLevel(alice, roomId, bob.user_id, 50);
    await setPowerLevel(alice, roomId, carol.user_id, 50);
    expectError(await targetAction(bob, roomId, "kick", carol.user_id), 403, "M_FORBIDDEN");
    expectError(await targetAction(bob, roomId, "kick", alice.user_id), 403, "M_FORBIDDEN");
    expect(await membershipOf(alice, roomId, carol.user_id)).toBe("join");
    // Dave was never here.
    expectError(await targetAction(alice, roomId, "kick", dave.user_id), 403, "M_FORBIDDEN");
  });
});

describe("bans", () => {
  it("a banned user can't rejoin until unbanned", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    expect((await targetAction(alice, roomId, "ban", bob.user_id, "rude")).status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.member", bob.user_id)).toEqual({ membership: "ban", reason: "rude" });
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");
    expectError(await send(bob, roomId, { msgtype: "m.text", body: "let me in" }), 403, "M_FORBIDDEN");
    // A banned user can't be invited either.
    expectError(await targetAction(alice, roomId, "invite", bob.user_id), 403, "M_FORBIDDEN");

    expect((await targetAction(alice, roomId, "unban", bob.user_id)).status).toBe(200);
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("leave");
    expect(await joinOk(bob, roomId)).toBe(roomId);
  });

  it("bans users who never joined, and refuses bans without power", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    expect((await targetAction(alice, roomId, "ban", carol.user_id)).status).toBe(200);
    expectError(await join(carol, roomId), 403, "M_FORBIDDEN");
    await joinOk(bob, roomId);
    expectError(await targetAction(bob, roomId, "ban", alice.user_id), 403, "M_FORBIDDEN");
    expectError(await targetAction(bob, roomId, "unban", carol.user_id), 403, "M_FORBIDDEN");
    expect(await membershipOf(alice, roomId, carol.user_id)).toBe("ban");
  });

  it("refuses to unban someone who isn't banned", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    expectError(await targetAction(alice, roomId, "unban", bob.user_id), 403, "M_FORBIDDEN");
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("join");
  });
});

describe("knocking", () => {
  it("a user knocks on a knock room (v7+), is let in by invite, then joins", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { room_version: "11", initial_state: [{ type: "m.room.join_rules", content: { join_rule: "knock" } }] });
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");
    const res = await knock(bob, roomId, "let me in");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ room_id: roomId });
    expect(await stateContent(alice, roomId, "m.room.member", bob.user_id)).toMatchObject({ membership: "knock", reason: "let me in" });
    // A knock is not an invite.
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");

    expect((await targetAction(alice, roomId, "invite", bob.user_id)).status).toBe(200);
    expect(await joinOk(bob, roomId)).toBe(roomId);
    // Once joined, knocking is refused.
    expectError(await knock(bob, roomId), 403, "M_FORBIDDEN");
  });

  it("a knock can be withdrawn by leaving, or rejected by a kick", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { room_version: "10", initial_state: [{ type: "m.room.join_rules", content: { join_rule: "knock" } }] });
    expect((await knock(bob, roomId)).status).toBe(200);
    expect((await leave(bob, roomId)).status).toBe(200);
    expect(await membershipOf(alice, roomId, bob.user_id)).toBe("leave");
    expect((await knock(carol, roomId)).status).toBe(200);
    expect((await targetAction(alice, roomId, "kick", carol.user_id)).status).toBe(200);
    expect(await membershipOf(alice, roomId, carol.user_id)).toBe("leave");
  });

  it("refuses knocks on public and invite-only rooms", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const publicRoom = await createRoom(alice, { preset: "public_chat", room_version: "11" });
    expectError(await knock(bob, publicRoom), 403, "M_FORBIDDEN");
    const privateRoom = await createRoom(alice, { preset: "private_chat", room_version: "11" });
    expectError(await knock(bob, privateRoom), 403, "M_FORBIDDEN");
    expect(await membershipOf(alice, privateRoom, bob.user_id)).toBeUndefined();
  });

  it("knocks by alias", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const localpart = `knock${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const roomId = await createRoom(alice, {
      room_alias_name: localpart,
      initial_state: [{ type: "m.room.join_rules", content: { join_rule: "knock" } }],
    });
    const res = await knock(bob, `#${localpart}:test.local`);
    expect(res.status).toBe(200);
    expect(res.body.room_id).toBe(roomId);
  });
});

describe("restricted joins (v8+)", () => {
  async function restrictedRoom(owner: TestUser, version: string, joinRule = "restricted") {
    const space = await createRoom(owner, { preset: "public_chat", creation_content: { type: "m.space" } });
    const roomId = await createRoom(owner, {
      room_version: version,
      initial_state: [{ type: "m.room.join_rules", content: { join_rule: joinRule, allow: [{ type: "m.room_membership", room_id: space }] } }],
    });
    return { space, roomId };
  }

  for (const version of ["10", "11", "12"]) {
    it(`a member of an allowed room can join, others can't (v${version})`, async () => {
      const alice = await registerUser();
      const bob = await registerUser();
      const carol = await registerUser();
      const { space, roomId } = await restrictedRoom(alice, version);
      await joinOk(bob, space);

      expect(await joinOk(bob, roomId)).toBe(roomId);
      const member = await stateContent(alice, roomId, "m.room.member", bob.user_id);
      expect(member.membership).toBe("join");
      // A local member with the power to invite vouched for the join.
      expect(member.join_authorised_via_users_server).toBe(alice.user_id);

      expectError(await join(carol, roomId), 403, "M_FORBIDDEN");
      expect(await membershipOf(alice, roomId, carol.user_id)).toBeUndefined();
    });
  }

  it("knock_restricted (v10+) allows both a restricted join and a knock", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const { space, roomId } = await restrictedRoom(alice, "11", "knock_restricted");
    await joinOk(bob, space);
    expect(await joinOk(bob, roomId)).toBe(roomId);
    expectError(await join(carol, roomId), 403, "M_FORBIDDEN");
    expect((await knock(carol, roomId)).status).toBe(200);
    expect(await membershipOf(alice, roomId, carol.user_id)).toBe("knock");
  });

  it("a user who left the allowed room can no longer join", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { space, roomId } = await restrictedRoom(alice, "11");
    await joinOk(bob, space);
    expect((await leave(bob, space)).status).toBe(200);
    expectError(await join(bob, roomId), 403, "M_FORBIDDEN");
  });

  it("messages flow once joined through a restricted join", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { space, roomId } = await restrictedRoom(alice, "10");
    await joinOk(bob, space);
    await joinOk(bob, roomId);
    expect(await sendOk(bob, roomId, "hi from restricted")).toMatch(/^\$/);
  });
});
