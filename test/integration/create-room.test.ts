/** POST /createRoom (spec: Client-Server § Creation), as a client sees the room it made. */
import { describe, expect, it } from "vitest";
import { call, createRoom, joinOk, registerUser, stateContent, stateEvent, type TestUser } from "./room-helpers";
import { testEnv } from "./helpers";

const create = (user: TestUser, body: unknown) => call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body });

describe("createRoom presets", () => {
  it("public_chat: public join rule, shared history, guests forbidden, creator at 100", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", room_version: "11" });
    expect(await stateContent(alice, roomId, "m.room.join_rules")).toEqual({ join_rule: "public" });
    expect(await stateContent(alice, roomId, "m.room.history_visibility")).toEqual({ history_visibility: "shared" });
    expect(await stateContent(alice, roomId, "m.room.guest_access")).toEqual({ guest_access: "forbidden" });
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    expect(pl.users).toEqual({ [alice.user_id]: 100 });
    expect(pl.users_default).toBe(0);
    expect(pl.events["m.room.tombstone"]).toBe(100);
    // Anyone may join a public room without an invite.
    const bob = await registerUser();
    expect(await joinOk(bob, roomId)).toBe(roomId);
  });

  it("private_chat: invite-only, shared history, guests may join", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { preset: "private_chat" });
    expect(await stateContent(alice, roomId, "m.room.join_rules")).toEqual({ join_rule: "invite" });
    expect(await stateContent(alice, roomId, "m.room.history_visibility")).toEqual({ history_visibility: "shared" });
    expect(await stateContent(alice, roomId, "m.room.guest_access")).toEqual({ guest_access: "can_join" });
    const bob = await registerUser();
    const refused = await call("POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe("M_FORBIDDEN");
  });

  it("visibility picks the preset when none is given", async () => {
    const alice = await registerUser();
    const publicRoom = await createRoom(alice, { visibility: "public" });
    expect(await stateContent(alice, publicRoom, "m.room.join_rules")).toEqual({ join_rule: "public" });
    expect(await stateContent(alice, publicRoom, "m.room.guest_access")).toEqual({ guest_access: "forbidden" });
    const privateRoom = await createRoom(alice, { visibility: "private" });
    expect(await stateContent(alice, privateRoom, "m.room.join_rules")).toEqual({ join_rule: "invite" });
    const defaultRoom = await createRoom(alice, {});
    expect(await stateContent(alice, defaultRoom, "m.room.join_rules")).toEqual({ join_rule: "invite" });
  });

  for (const version of ["10", "11"]) {
    it(`trusted_private_chat in v${version}: invitees get the creator's power level`, async () => {
      const alice = await registerUser();
      const bob = await registerUser();
      const roomId = await createRoom(alice, { preset: "trusted_private_chat", room_version: version, invite: [bob.user_id] });
      expect(await stateContent(alice, roomId, "m.room.join_rules")).toEqual({ join_rule: "invite" });
      const pl = await stateContent(alice, roomId, "m.room.power_levels");
      expect(pl.users).toEqual({ [alice.user_id]: 100, [bob.user_id]: 100 });
      const createContent = await stateContent(alice, roomId, "m.room.create");
      expect(createContent.additional_creators).toBeUndefined();
    });
  }

  it("trusted_private_chat in v12: invitees become additional creators, and nobody is listed in users", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "trusted_private_chat", room_version: "12", invite: [bob.user_id] });
    const createContent = await stateContent(alice, roomId, "m.room.create");
    expect(createContent.additional_creators).toEqual([bob.user_id]);
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    expect(pl.users).toEqual({});
    // As a creator Bob can change the power levels as soon as he joins.
    await joinOk(bob, roomId);
    const res = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.power_levels/`, {
      token: bob.access_token,
      body: { ...pl, state_default: 60 },
    });
    expect(res.status).toBe(200);
  });
});

describe("createRoom parameters", () => {
  it("sets the name, the topic and the room alias, which resolves to the room", async () => {
    const alice = await registerUser();
    const localpart = `room${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const alias = `#${localpart}:test.local`;
    const roomId = await createRoom(alice, { preset: "public_chat", name: "The Room", topic: "Things", room_alias_name: localpart });
    expect(await stateContent(alice, roomId, "m.room.name")).toEqual({ name: "The Room" });
    const topic = await stateContent(alice, roomId, "m.room.topic");
    expect(topic.topic).toBe("Things");
    expect(await stateContent(alice, roomId, "m.room.canonical_alias")).toEqual({ alias });
    const bob = await registerUser();
    expect(await joinOk(bob, alias)).toBe(roomId);

    const taken = await create(alice, { room_alias_name: localpart });
    expect(taken.status).toBe(400);
    expect(taken.body.errcode).toBe("M_ROOM_IN_USE");
  });

  it("refuses a room_alias_name that isn't a valid localpart", async () => {
    const alice = await registerUser();
    const res = await create(alice, { room_alias_name: "bad:alias" });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });

  it("invites with is_direct marks the invitee's member event", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const direct = await createRoom(alice, { invite: [bob.user_id], is_direct: true, preset: "trusted_private_chat" });
    expect(await stateContent(alice, direct, "m.room.member", bob.user_id)).toEqual({ membership: "invite", is_direct: true });
    const plain = await createRoom(alice, { invite: [carol.user_id] });
    expect(await stateContent(alice, plain, "m.room.member", carol.user_id)).toEqual({ membership: "invite" });
    // The invitee can accept.
    expect(await joinOk(bob, direct)).toBe(direct);
  });

  it("refuses invitees /invite would refuse, before making the room", async () => {
    const alice = await registerUser();
    const joinedBefore = (await call("GET", "/_matrix/client/v3/joined_rooms", { token: alice.access_token })).body.joined_rooms;
    const remote = await create(alice, { invite: ["@someone:elsewhere.example"] });
    expect(remote.status).toBe(403);
    expect(remote.body.errcode).toBe("M_FORBIDDEN");
    const unknown = await create(alice, { invite: [`@ghost${Date.now()}:test.local`] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    expect((await call("GET", "/_matrix/client/v3/joined_rooms", { token: alice.access_token })).body.joined_rooms).toEqual(joinedBefore);
  });

  it("initial_state overrides the preset, and name/topic override initial_state", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, {
      preset: "public_chat",
      name: "Winner",
      initial_state: [
        { type: "m.room.join_rules", content: { join_rule: "invite" } },
        { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "joined" } },
        { type: "m.room.name", content: { name: "Loser" } },
        { type: "org.example.custom", state_key: "k", content: { x: 1 } },
      ],
    });
    expect(await stateContent(alice, roomId, "m.room.join_rules")).toEqual({ join_rule: "invite" });
    expect(await stateContent(alice, roomId, "m.room.history_visibility")).toEqual({ history_visibility: "joined" });
    expect(await stateContent(alice, roomId, "m.room.guest_access")).toEqual({ guest_access: "forbidden" });
    expect(await stateContent(alice, roomId, "m.room.name")).toEqual({ name: "Winner" });
    expect(await stateContent(alice, roomId, "org.example.custom", "k")).toEqual({ x: 1 });
  });

  it("power_level_content_override is laid over the default power levels", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, {
      preset: "public_chat",
      power_level_content_override: { events_default: 20, users: { [alice.user_id]: 100, [bob.user_id]: 20 } },
    });
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    expect(pl.events_default).toBe(20);
    expect(pl.users).toEqual({ [alice.user_id]: 100, [bob.user_id]: 20 });
    expect(pl.state_default).toBe(50);
    // The override is enforced: a newcomer at 0 can't speak, Bob at 20 can.
    const carol = await registerUser();
    await joinOk(carol, roomId);
    await joinOk(bob, roomId);
    const silenced = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      token: carol.access_token,
      body: { msgtype: "m.text", body: "hi" },
    });
    expect(silenced.status).toBe(403);
    const spoke = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      token: bob.access_token,
      body: { msgtype: "m.text", body: "hi" },
    });
    expect(spoke.status).toBe(200);
  });

  it("power levels in initial_state replace the generated ones", async () => {
    const alice = await registerUser();
    const content = { users: { [alice.user_id]: 100 }, state_default: 40, events_default: 5, invite: 7 };
    const roomId = await createRoom(alice, {
      room_version: "11",
      initial_state: [{ type: "m.room.power_levels", state_key: "", content }],
      topic: "still sent",
    });
    expect(await stateContent(alice, roomId, "m.room.power_levels")).toEqual(content);
    expect((await stateContent(alice, roomId, "m.room.topic")).topic).toBe("still sent");
  });

  it("creation_content goes into the create event (a space)", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { creation_content: { type: "m.space", "m.federate": false } });
    const create = await stateEvent(alice, roomId, "m.room.create");
    expect(create.content.type).toBe("m.space");
    expect(create.content["m.federate"]).toBe(false);
    expect(create.sender).toBe(alice.user_id);
  });
});

describe("createRoom room versions", () => {
  it("creates v10 rooms with content.creator", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { room_version: "10" });
    expect(roomId).toMatch(/^![^:]+:test\.local$/);
    const create = await stateContent(alice, roomId, "m.room.create");
    expect(create).toMatchObject({ room_version: "10", creator: alice.user_id });
  });

  it("creates v11 rooms without content.creator", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { room_version: "11" });
    const create = await stateEvent(alice, roomId, "m.room.create");
    expect(create.content.room_version).toBe("11");
    expect(create.content.creator).toBeUndefined();
    expect(create.sender).toBe(alice.user_id);
  });

  it("creates v12 rooms whose id is the create event's hash, with the creator absent from users", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { room_version: "12", preset: "public_chat" });
    expect(roomId).toMatch(/^![A-Za-z0-9_-]{43}$/);
    const create = await stateEvent(alice, roomId, "m.room.create");
    expect(create.content.room_version).toBe("12");
    expect(`!${create.event_id.slice(1)}`).toBe(roomId);
    const pl = await stateContent(alice, roomId, "m.room.power_levels");
    expect(pl.users).toEqual({});
    // Spec (v1.16): in v12 the tombstone level must be above state_default; 150 keeps upgrades to creators.
    expect(pl.events["m.room.tombstone"]).toBe(150);
  });

  it("refuses versions it can't create", async () => {
    const alice = await registerUser();
    for (const room_version of ["9", "1", "13", "banana"]) {
      const res = await create(alice, { room_version });
      expect(res.status, room_version).toBe(400);
      expect(res.body.errcode).toBe("M_UNSUPPORTED_ROOM_VERSION");
    }
  });
});

describe("createRoom bad requests", () => {
  it("refuses malformed bodies with M_BAD_JSON", async () => {
    const alice = await registerUser();
    for (const body of [
      { preset: "secret_chat" },
      { visibility: "hidden" },
      { invite: "@bob:test.local" },
      { invite: ["not-a-user"] },
      { room_version: 11 },
      { name: 42 },
      { is_direct: "yes" },
      { creation_content: [] },
      { initial_state: [{ type: "m.room.name" }] },
      { power_level_content_override: "high" },
    ]) {
      const res = await create(alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errcode, JSON.stringify(body)).toBe("M_BAD_JSON");
    }
    const notObject = await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, rawBody: "[]", headers: { "content-type": "application/json" } });
    expect(notObject.status).toBe(400);
    expect(notObject.body.errcode).toBe("M_BAD_JSON");
    const notJson = await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, rawBody: "{", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errcode).toBe("M_NOT_JSON");
  });

  it("refuses content the room's auth rules would refuse, before storing anything", async () => {
    const alice = await registerUser();
    const before = (await call("GET", "/_matrix/client/v3/joined_rooms", { token: alice.access_token })).body.joined_rooms.length;
    for (const body of [
      { power_level_content_override: { ban: "fifty" }, room_version: "10" },
      { power_level_content_override: { users: { [alice.user_id]: 100 } }, room_version: "12" },
      { creation_content: { additional_creators: ["not-a-user"] }, room_version: "12" },
    ]) {
      const res = await create(alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errcode, JSON.stringify(body)).toBe("M_BAD_JSON");
    }
    const rows = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM rooms WHERE creator = ?").bind(alice.user_id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
    expect((await call("GET", "/_matrix/client/v3/joined_rooms", { token: alice.access_token })).body.joined_rooms.length).toBe(before);
  });

  it("needs an access token", async () => {
    const res = await call("POST", "/_matrix/client/v3/createRoom", { body: {} });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });
});
