/** Room aliases (spec: Client-Server § Room aliases): PUT/GET/DELETE /directory/room/{roomAlias}, GET /rooms/{roomId}/aliases. */
import { describe, expect, it } from "vitest";
import { call, registerUser, testEnv, uniqueName } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

const aliasPath = (alias: string) => `/_matrix/client/v3/directory/room/${encodeURIComponent(alias)}`;
const room = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

async function createRoom(user: User, body: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body });
  if (res.status !== 200) throw new Error(`createRoom: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: User, roomId: string): Promise<void> {
  const res = await call("POST", `${room(roomId)}/join`, { token: user.access_token, body: {} });
  if (res.status !== 200) throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
}

const newAlias = () => `#${uniqueName("alias")}:test.local`;

describe("room aliases", () => {
  it("creates an alias for a joined room, resolves it without auth and lists it for members", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const alias = newAlias();

    const put = await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: roomId } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});

    const get = await call("GET", aliasPath(alias));
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ room_id: roomId, servers: ["test.local"] });

    const list = await call("GET", `${room(roomId)}/aliases`, { token: alice.access_token });
    expect(list.status).toBe(200);
    expect(list.body.aliases).toEqual([alias]);

    // The alias works wherever an alias is accepted.
    const bob = await registerUser();
    await call("PUT", `${room(roomId)}/state/m.room.join_rules/`, { token: alice.access_token, body: { join_rule: "public" } });
    const joined = await call("POST", `/_matrix/client/v3/join/${encodeURIComponent(alias)}`, { token: bob.access_token, body: {} });
    expect(joined.status).toBe(200);
    expect(joined.body.room_id).toBe(roomId);
  });

  it("refuses an alias that exists with 409 M_UNKNOWN, even for another room", async () => {
    const alice = await registerUser();
    const first = await createRoom(alice);
    const second = await createRoom(alice);
    const alias = newAlias();
    expect((await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: first } })).status).toBe(200);
    for (const target of [first, second]) {
      const again = await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: target } });
      expect(again.status).toBe(409);
      expect(again.body.errcode).toBe("M_UNKNOWN");
    }
    expect((await call("GET", aliasPath(alias))).body.room_id).toBe(first);
  });

  it("refuses aliases of other servers and malformed aliases", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    for (const alias of [`#${uniqueName()}:elsewhere.example`, "#nocolon", "#:test.local", "#has space:test.local", `#${"x".repeat(260)}:test.local`]) {
      const res = await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: roomId } });
      expect(res.status, alias).toBe(400);
      expect(res.body.errcode, alias).toBe("M_INVALID_PARAM");
    }
    const bad = await call("GET", aliasPath("#nocolon"));
    expect(bad.status).toBe(400);
    expect(bad.body.errcode).toBe("M_INVALID_PARAM");
    const missingRoom = await call("PUT", aliasPath(newAlias()), { token: alice.access_token, body: {} });
    expect(missingRoom.status).toBe(400);
    expect(missingRoom.body.errcode).toBe("M_BAD_JSON");
  });

  it("requires the creator to be joined to an existing room", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice);
    const alias = newAlias();
    const stranger = await call("PUT", aliasPath(alias), { token: eve.access_token, body: { room_id: roomId } });
    expect(stranger.status).toBe(403);
    expect(stranger.body.errcode).toBe("M_FORBIDDEN");
    const unknown = await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: `!${uniqueName()}:test.local` } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    const unauthenticated = await call("PUT", aliasPath(alias), { body: { room_id: roomId } });
    expect(unauthenticated.status).toBe(401);
    // Nothing was created by the refused requests.
    expect((await call("GET", aliasPath(alias))).status).toBe(404);
  });

  it("answers 404 M_NOT_FOUND for unknown aliases, here and on other servers", async () => {
    for (const alias of [newAlias(), `#${uniqueName()}:elsewhere.example`]) {
      const res = await call("GET", aliasPath(alias));
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
    const alice = await registerUser();
    const del = await call("DELETE", aliasPath(newAlias()), { token: alice.access_token });
    expect(del.status).toBe(404);
    expect(del.body.errcode).toBe("M_NOT_FOUND");
  });

  it("lets the alias creator, a member with power, or a server admin delete an alias, and no one else", async () => {
    const alice = await registerUser(); // room creator, power 100
    const bob = await registerUser(); // ordinary member, power 0
    const eve = await registerUser(); // never in the room
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await join(bob, roomId);

    // Bob made this one: he may delete it although he has no power in the room.
    const bobs = newAlias();
    expect((await call("PUT", aliasPath(bobs), { token: bob.access_token, body: { room_id: roomId } })).status).toBe(200);
    // Alice's alias: Bob and Eve may not delete it.
    const alices = newAlias();
    expect((await call("PUT", aliasPath(alices), { token: alice.access_token, body: { room_id: roomId } })).status).toBe(200);
    for (const user of [bob, eve]) {
      const res = await call("DELETE", aliasPath(alices), { token: user.access_token });
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
    }
    expect((await call("GET", aliasPath(alices))).status).toBe(200);

    expect((await call("DELETE", aliasPath(bobs), { token: bob.access_token })).status).toBe(200);
    expect((await call("GET", aliasPath(bobs))).status).toBe(404);

    // Alice has the power to change the canonical alias: she may delete an alias Bob created.
    const another = newAlias();
    expect((await call("PUT", aliasPath(another), { token: bob.access_token, body: { room_id: roomId } })).status).toBe(200);
    expect((await call("DELETE", aliasPath(another), { token: alice.access_token })).status).toBe(200);
    expect((await call("GET", aliasPath(another))).status).toBe(404);

    // A server admin may delete any alias without being in the room.
    await testEnv.DB.prepare("UPDATE users SET is_admin = 1 WHERE user_id = ?").bind(eve.user_id).run();
    expect((await call("DELETE", aliasPath(alices), { token: eve.access_token })).status).toBe(200);
    expect((await call("GET", aliasPath(alices))).status).toBe(404);

    const list = await call("GET", `${room(roomId)}/aliases`, { token: alice.access_token });
    expect(list.body.aliases).toEqual([]);
  });

  it("removes a deleted alias from m.room.canonical_alias when the deleter has the power", async () => {
    const alice = await registerUser();
    const localpart = uniqueName("canon");
    const roomId = await createRoom(alice, { room_alias_name: localpart });
    const main = `#${localpart}:test.local`;
    const alt = newAlias();
    expect((await call("PUT", aliasPath(alt), { token: alice.access_token, body: { room_id: roomId } })).status).toBe(200);
    const set = await call("PUT", `${room(roomId)}/state/m.room.canonical_alias/`, { token: alice.access_token, body: { alias: main, alt_aliases: [alt] } });
    expect(set.status).toBe(200);

    expect((await call("DELETE", aliasPath(alt), { token: alice.access_token })).status).toBe(200);
    let state = await call("GET", `${room(roomId)}/state/m.room.canonical_alias/`, { token: alice.access_token });
    expect(state.body).toEqual({ alias: main, alt_aliases: [] });

    expect((await call("DELETE", aliasPath(main), { token: alice.access_token })).status).toBe(200);
    state = await call("GET", `${room(roomId)}/state/m.room.canonical_alias/`, { token: alice.access_token });
    expect(state.body).toEqual({ alt_aliases: [] });
    // The directory summary follows the room's state.
    const row = await testEnv.DB.prepare("SELECT canonical_alias FROM rooms WHERE room_id = ?").bind(roomId).first<{ canonical_alias: string | null }>();
    expect(row?.canonical_alias).toBeNull();
  });

  it("deletes the alias but leaves m.room.canonical_alias when the deleter lacks the power", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await join(bob, roomId);
    const bobs = newAlias();
    expect((await call("PUT", aliasPath(bobs), { token: bob.access_token, body: { room_id: roomId } })).status).toBe(200);
    expect((await call("PUT", `${room(roomId)}/state/m.room.canonical_alias/`, { token: alice.access_token, body: { alias: bobs } })).status).toBe(200);

    const del = await call("DELETE", aliasPath(bobs), { token: bob.access_token });
    expect(del.status).toBe(200);
    expect((await call("GET", aliasPath(bobs))).status).toBe(404);
    const state = await call("GET", `${room(roomId)}/state/m.room.canonical_alias/`, { token: alice.access_token });
    expect(state.body).toEqual({ alias: bobs });
  });

  it("lists local aliases only for members, or anyone when the room is world-readable", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice);
    const alias = newAlias();
    await call("PUT", aliasPath(alias), { token: alice.access_token, body: { room_id: roomId } });

    const refused = await call("GET", `${room(roomId)}/aliases`, { token: eve.access_token });
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe("M_FORBIDDEN");
    const unknown = await call("GET", `${room(`!${uniqueName()}:test.local`)}/aliases`, { token: eve.access_token });
    expect(unknown.status).toBe(403);

    await call("PUT", `${room(roomId)}/state/m.room.history_visibility/`, { token: alice.access_token, body: { history_visibility: "world_readable" } });
    const open = await call("GET", `${room(roomId)}/aliases`, { token: eve.access_token });
    expect(open.status).toBe(200);
    expect(open.body.aliases).toEqual([alias]);
  });

  it("stops listing aliases to a member who left a room that isn't world-readable", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await join(bob, roomId);
    expect((await call("GET", `${room(roomId)}/aliases`, { token: bob.access_token })).status).toBe(200);
    await call("POST", `${room(roomId)}/leave`, { token: bob.access_token, body: {} });
    expect((await call("GET", `${room(roomId)}/aliases`, { token: bob.access_token })).status).toBe(403);
  });
});
