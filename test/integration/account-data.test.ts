/**
 * Client config (spec: Client-Server § Client Config): GET/PUT /user/{userId}/account_data/{type}
 * and /user/{userId}/rooms/{roomId}/account_data/{type}, the sync stream notifications, and the
 * values /sync reads through accountDataForSync.
 */
import { describe, expect, it } from "vitest";
import { defaultRules } from "../../src/matrix/push";
import { accountDataForSync } from "../../src/services/account-data";
import { accountDataChangesSince, globalDataPath, roomDataPath, streamPosition, testDeps, unknownRoomId } from "./account-data-helpers";
import { call, registerUser } from "./helpers";
import { createRoom } from "./room-helpers";

const CONTENT = { theme: "dark", sizes: [1, 2.5, -3], nested: { "ünïcødé": "🐇", empty: {}, none: null, yes: true } };

describe("global account data", () => {
  it("round-trips any JSON object and a second PUT replaces the first", async () => {
    const alice = await registerUser();
    const put = await call("PUT", globalDataPath(alice.user_id, "org.example.config"), { token: alice.access_token, body: CONTENT });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});
    const got = await call("GET", globalDataPath(alice.user_id, "org.example.config"), { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(CONTENT);

    await call("PUT", globalDataPath(alice.user_id, "org.example.config"), { token: alice.access_token, body: { theme: "light" } });
    expect((await call("GET", globalDataPath(alice.user_id, "org.example.config"), { token: alice.access_token })).body).toEqual({ theme: "light" });
  });

  it("keeps types apart, and answers on the r0 paths too", async () => {
    const alice = await registerUser();
    await call("PUT", globalDataPath(alice.user_id, "org.example.a"), { token: alice.access_token, body: { a: 1 } });
    await call("PUT", globalDataPath(alice.user_id, "org.example.b", "r0"), { token: alice.access_token, body: { b: 2 } });
    expect((await call("GET", globalDataPath(alice.user_id, "org.example.a", "r0"), { token: alice.access_token })).body).toEqual({ a: 1 });
    expect((await call("GET", globalDataPath(alice.user_id, "org.example.b"), { token: alice.access_token })).body).toEqual({ b: 2 });
  });

  it("answers 404 M_NOT_FOUND for a type never set", async () => {
    const alice = await registerUser();
    const res = await call("GET", globalDataPath(alice.user_id, "org.example.unset"), { token: alice.access_token });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });

  it("is per user: another user's data of the same type is not theirs", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await call("PUT", globalDataPath(alice.user_id, "org.example.mine"), { token: alice.access_token, body: { owner: "alice" } });
    expect((await call("GET", globalDataPath(bob.user_id, "org.example.mine"), { token: bob.access_token })).status).toBe(404);
  });

  it("refuses another user's account data with 403 M_FORBIDDEN, for reading and writing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await call("PUT", globalDataPath(alice.user_id, "org.example.secret"), { token: alice.access_token, body: { secret: 1 } });

    const read = await call("GET", globalDataPath(alice.user_id, "org.example.secret"), { token: bob.access_token });
    expect(read.status).toBe(403);
    expect(read.body.errcode).toBe("M_FORBIDDEN");
    expect(read.body.secret).toBeUndefined();

    const write = await call("PUT", globalDataPath(alice.user_id, "org.example.secret"), { token: bob.access_token, body: { secret: 2 } });
    expect(write.status).toBe(403);
    expect(write.body.errcode).toBe("M_FORBIDDEN");
    expect((await call("GET", globalDataPath(alice.user_id, "org.example.secret"), { token: alice.access_token })).body).toEqual({ secret: 1 });
    // Nor did bob's attempt land in his own account.
    expect((await call("GET", globalDataPath(bob.user_id, "org.example.secret"), { token: bob.access_token })).status).toBe(404);
  });

  it("needs an access token", async () => {
    const alice = await registerUser();
    const get = await call("GET", globalDataPath(alice.user_id, "org.example.x"));
    expect(get.status).toBe(401);
    expect(get.body.errcode).toBe("M_MISSING_TOKEN");
    const put = await call("PUT", globalDataPath(alice.user_id, "org.example.x"), { body: {} });
    expect(put.status).toBe(401);
  });

  it("refuses a body that is not a JSON object with 400, storing nothing", async () => {
    const alice = await registerUser();
    const path = globalDataPath(alice.user_id, "org.example.bad");
    for (const body of [[1, 2], "a string", 42, null, true]) {
      const res = await call("PUT", path, { token: alice.access_token, body });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    const notJson = await call("PUT", path, { token: alice.access_token, rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errcode).toBe("M_NOT_JSON");
    expect((await call("GET", path, { token: alice.access_token })).status).toBe(404);
  });

  it("refuses the server-managed types m.fully_read and m.push_rules with 405 M_BAD_JSON", async () => {
    const alice = await registerUser();
    for (const type of ["m.fully_read", "m.push_rules"]) {
      const res = await call("PUT", globalDataPath(alice.user_id, type), { token: alice.access_token, body: { event_id: "$x" } });
      expect(res.status).toBe(405);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await call("GET", globalDataPath(alice.user_id, "m.fully_read"), { token: alice.access_token })).status).toBe(404);
    // m.push_rules reads the push rules (test/integration/push-rules.test.ts): still the defaults.
    const rules = await call("GET", globalDataPath(alice.user_id, "m.push_rules"), { token: alice.access_token });
    expect(rules.status).toBe(200);
    expect(rules.body).toEqual({ global: defaultRules(alice.user_id) });
  });
});

describe("room account data", () => {
  it("round-trips per room, apart from global data and from other rooms", async () => {
    const alice = await registerUser();
    const roomA = await createRoom(alice);
    const roomB = await createRoom(alice);
    const put = await call("PUT", roomDataPath(alice.user_id, roomA, "org.example.room"), { token: alice.access_token, body: CONTENT });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});
    const got = await call("GET", roomDataPath(alice.user_id, roomA, "org.example.room"), { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(CONTENT);

    // No inheritance either way (spec: "a given type of data missing from a room's account data
    // does not fall back to the global account data with the same type").
    expect((await call("GET", roomDataPath(alice.user_id, roomB, "org.example.room"), { token: alice.access_token })).status).toBe(404);
    expect((await call("GET", globalDataPath(alice.user_id, "org.example.room"), { token: alice.access_token })).status).toBe(404);
    await call("PUT", globalDataPath(alice.user_id, "org.example.global"), { token: alice.access_token, body: { g: 1 } });
    const fallback = await call("GET", roomDataPath(alice.user_id, roomA, "org.example.global"), { token: alice.access_token });
    expect(fallback.status).toBe(404);
    expect(fallback.body.errcode).toBe("M_NOT_FOUND");

    await call("PUT", roomDataPath(alice.user_id, roomA, "org.example.room", "r0"), { token: alice.access_token, body: { replaced: true } });
    expect((await call("GET", roomDataPath(alice.user_id, roomA, "org.example.room", "r0"), { token: alice.access_token })).body).toEqual({ replaced: true });
  });

  it("may be kept for a room the user has never been in, as the spec sets no condition", async () => {
    const alice = await registerUser();
    const roomId = unknownRoomId();
    expect((await call("PUT", roomDataPath(alice.user_id, roomId, "org.example.note"), { token: alice.access_token, body: { n: 1 } })).status).toBe(200);
    expect((await call("GET", roomDataPath(alice.user_id, roomId, "org.example.note"), { token: alice.access_token })).body).toEqual({ n: 1 });
  });

  it("refuses another user with 403 M_FORBIDDEN, for reading and writing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice);
    await call("PUT", roomDataPath(alice.user_id, roomId, "org.example.secret"), { token: alice.access_token, body: { secret: 1 } });
    const read = await call("GET", roomDataPath(alice.user_id, roomId, "org.example.secret"), { token: bob.access_token });
    expect(read.status).toBe(403);
    expect(read.body.errcode).toBe("M_FORBIDDEN");
    const write = await call("PUT", roomDataPath(alice.user_id, roomId, "org.example.secret"), { token: bob.access_token, body: { secret: 2 } });
    expect(write.status).toBe(403);
    expect(write.body.errcode).toBe("M_FORBIDDEN");
    expect((await call("GET", roomDataPath(alice.user_id, roomId, "org.example.secret"), { token: alice.access_token })).body).toEqual({ secret: 1 });
  });

  it("answers 404 M_NOT_FOUND for a type never set in the room", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const res = await call("GET", roomDataPath(alice.user_id, roomId, "org.example.unset"), { token: alice.access_token });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });

  it("refuses an invalid room id with 400 M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    for (const method of ["GET", "PUT"]) {
      const res = await call(method, roomDataPath(alice.user_id, "@notaroomid:test.local", "org.example.x"), { token: alice.access_token, body: method === "PUT" ? { a: 1 } : undefined });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_INVALID_PARAM");
    }
  });

  it("refuses a body that is not a JSON object with 400 M_BAD_JSON", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const path = roomDataPath(alice.user_id, roomId, "org.example.bad");
    for (const body of [["x"], "x", 1]) {
      const res = await call("PUT", path, { token: alice.access_token, body });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await call("GET", path, { token: alice.access_token })).status).toBe(404);
  });

  it("refuses m.fully_read and m.push_rules with 405 M_BAD_JSON: the read marker moves only through /read_markers", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    for (const type of ["m.fully_read", "m.push_rules"]) {
      const res = await call("PUT", roomDataPath(alice.user_id, roomId, type), { token: alice.access_token, body: { event_id: "$forged" } });
      expect(res.status).toBe(405);
      expect(res.body.errcode).toBe("M_BAD_JSON");
      expect((await call("GET", roomDataPath(alice.user_id, roomId, type), { token: alice.access_token })).status).toBe(404);
    }
  });
});

describe("sync", () => {
  it("each write is recorded in the user's sync stream with its type (and room)", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const since = await streamPosition(alice.user_id, alice.device_id);
    await call("PUT", globalDataPath(alice.user_id, "org.example.g"), { token: alice.access_token, body: { v: 1 } });
    await call("PUT", roomDataPath(alice.user_id, roomId, "org.example.r"), { token: alice.access_token, body: { v: 2 } });
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: ["org.example.g"], rooms: { [roomId]: ["org.example.r"] } });
  });

  it("a refused write records nothing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const since = await streamPosition(alice.user_id, alice.device_id);
    await call("PUT", globalDataPath(alice.user_id, "m.push_rules"), { token: alice.access_token, body: {} });
    await call("PUT", globalDataPath(alice.user_id, "org.example.g"), { token: bob.access_token, body: {} });
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: [], rooms: {} });
  });

  it("accountDataForSync returns everything on an initial sync, and the current value of each changed type otherwise", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomA = await createRoom(alice);
    const roomB = unknownRoomId();
    const put = (path: string, body: unknown) => call("PUT", path, { token: alice.access_token, body });
    await put(globalDataPath(alice.user_id, "org.example.one"), { n: 1 });
    await put(globalDataPath(alice.user_id, "org.example.two"), { n: 2 });
    await put(roomDataPath(alice.user_id, roomA, "org.example.r"), { r: "a" });
    await put(roomDataPath(alice.user_id, roomB, "org.example.r"), { r: "b" });
    await put(roomDataPath(alice.user_id, roomB, "org.example.s"), { s: "b" });
    await call("PUT", globalDataPath(bob.user_id, "org.example.one"), { token: bob.access_token, body: { bob: true } });
    await put(globalDataPath(alice.user_id, "org.example.two"), { n: 22 });

    const deps = testDeps();
    const all = await accountDataForSync(deps, alice.user_id);
    expect(all.global).toEqual([
      { type: "org.example.one", content: { n: 1 } },
      { type: "org.example.two", content: { n: 22 } },
      // From the push rule tables, on every initial sync (test/integration/push-rules.test.ts).
      { type: "m.push_rules", content: { global: defaultRules(alice.user_id) } },
    ]);
    expect(all.rooms).toEqual({
      [roomA]: [{ type: "org.example.r", content: { r: "a" } }],
      [roomB]: [
        { type: "org.example.r", content: { r: "b" } },
        { type: "org.example.s", content: { s: "b" } },
      ],
    });

    const some = await accountDataForSync(deps, alice.user_id, {
      global: ["org.example.two", "org.example.two", "org.example.never"],
      rooms: { [roomB]: ["org.example.s"], [roomA]: [] },
    });
    expect(some).toEqual({ global: [{ type: "org.example.two", content: { n: 22 } }], rooms: { [roomB]: [{ type: "org.example.s", content: { s: "b" } }] } });
    expect(await accountDataForSync(deps, alice.user_id, { global: [], rooms: {} })).toEqual({ global: [], rooms: {} });
  });

  it("accountDataForSync answers hundreds of changed types in one go", async () => {
    const alice = await registerUser();
    await call("PUT", globalDataPath(alice.user_id, "org.example.kept"), { token: alice.access_token, body: { k: 1 } });
    const types = Array.from({ length: 300 }, (_, i) => `org.example.t${i}`);
    const rooms = Object.fromEntries(Array.from({ length: 100 }, () => [unknownRoomId(), ["org.example.x"]]));
    const some = await accountDataForSync(testDeps(), alice.user_id, { global: [...types, "org.example.kept"], rooms });
    expect(some).toEqual({ global: [{ type: "org.example.kept", content: { k: 1 } }], rooms: {} });
  });
});
