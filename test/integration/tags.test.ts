/**
 * Room tagging (spec: Client-Server § Room Tagging): GET /user/{userId}/rooms/{roomId}/tags and
 * PUT/DELETE /user/{userId}/rooms/{roomId}/tags/{tag}. Tags are the room's m.tag account data.
 */
import { describe, expect, it } from "vitest";
import { accountDataChangesSince, roomDataPath, streamPosition, tagsPath, unknownRoomId } from "./account-data-helpers";
import { call, registerUser } from "./helpers";
import { createRoom, type TestUser } from "./room-helpers";

function tags(user: TestUser, roomId: string, prefix?: string) {
  return call("GET", tagsPath(user.user_id, roomId, undefined, prefix), { token: user.access_token });
}

function putTag(user: TestUser, roomId: string, tag: string, body: unknown = {}) {
  return call("PUT", tagsPath(user.user_id, roomId, tag), { token: user.access_token, body });
}

function deleteTag(user: TestUser, roomId: string, tag: string) {
  return call("DELETE", tagsPath(user.user_id, roomId, tag), { token: user.access_token });
}

describe("tagging a room", () => {
  it("a room without tags has an empty tags object", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const res = await tags(alice, roomId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tags: {} });
  });

  it("adds tags with and without an order, listed together", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const put = await putTag(alice, roomId, "m.favourite", { order: 0.1 });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});
    expect((await putTag(alice, roomId, "u.Work", { order: 0.7 })).status).toBe(200);
    expect((await putTag(alice, roomId, "u.Customers")).status).toBe(200);
    const res = await tags(alice, roomId);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tags: { "m.favourite": { order: 0.1 }, "u.Work": { order: 0.7 }, "u.Customers": {} } });
    // The same list on the r0 path.
    expect((await tags(alice, roomId, "r0")).body).toEqual(res.body);
  });

  it("accepts the ends of the order range, and keeps other keys of the tag as sent", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    expect((await putTag(alice, roomId, "u.zero", { order: 0 })).status).toBe(200);
    expect((await putTag(alice, roomId, "u.one", { order: 1, "org.example.colour": "red" })).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.zero": { order: 0 }, "u.one": { order: 1, "org.example.colour": "red" } } });
  });

  it("setting a tag again replaces its content rather than merging into it", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    await putTag(alice, roomId, "u.work", { order: 0.5, "org.example.extra": 1 });
    await putTag(alice, roomId, "u.work", { order: 0.25 });
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.work": { order: 0.25 } } });
    await putTag(alice, roomId, "u.work", {});
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.work": {} } });
  });

  it("tag names are taken literally: dots, quotes, slashes and non-ASCII", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const names = ["u.a.b", 'u."quoted"', "u.with/slash", "u.$[0]", "u.Ünïcødé 🐇"];
    for (const [i, name] of names.entries()) expect((await putTag(alice, roomId, name, { order: i / 10 })).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: Object.fromEntries(names.map((n, i) => [n, { order: i / 10 }])) });
    expect((await deleteTag(alice, roomId, 'u."quoted"')).status).toBe(200);
    expect(Object.keys((await tags(alice, roomId)).body.tags).sort()).toEqual(names.filter((n) => n !== 'u."quoted"').sort());
  });

  it("tags added at the same moment are all kept", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const names = Array.from({ length: 12 }, (_, i) => `u.tag${i}`);
    const results = await Promise.all(names.map((n) => putTag(alice, roomId, n)));
    expect(results.map((r) => r.status)).toEqual(names.map(() => 200));
    expect(Object.keys((await tags(alice, roomId)).body.tags).sort()).toEqual([...names].sort());
  });

  it("tags are per room and per user", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomA = await createRoom(alice);
    const roomB = await createRoom(alice);
    await putTag(alice, roomA, "m.favourite");
    expect((await tags(alice, roomB)).body).toEqual({ tags: {} });
    expect((await tags(bob, roomA)).body).toEqual({ tags: {} });
  });

  it("a room the user has never been in may be tagged, like any room account data", async () => {
    const alice = await registerUser();
    const roomId = unknownRoomId();
    expect((await putTag(alice, roomId, "m.lowpriority")).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "m.lowpriority": {} } });
  });
});

describe("removing a tag", () => {
  it("removes that tag only", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    await putTag(alice, roomId, "m.favourite", { order: 0.2 });
    await putTag(alice, roomId, "u.work");
    const res = await deleteTag(alice, roomId, "m.favourite");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.work": {} } });
  });

  it("succeeds for a tag the room doesn't have, changing nothing", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    expect((await deleteTag(alice, roomId, "u.never")).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: {} });
    await putTag(alice, roomId, "u.kept");
    expect((await deleteTag(alice, roomId, "u.never")).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.kept": {} } });
  });
});

describe("errors", () => {
  it("refuses another user's tags with 403 M_FORBIDDEN, for listing, adding and removing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice);
    await putTag(alice, roomId, "m.favourite", { order: 0.5 });
    const list = await call("GET", tagsPath(alice.user_id, roomId), { token: bob.access_token });
    expect(list.status).toBe(403);
    expect(list.body.errcode).toBe("M_FORBIDDEN");
    expect(list.body.tags).toBeUndefined();
    const add = await call("PUT", tagsPath(alice.user_id, roomId, "u.bob"), { token: bob.access_token, body: {} });
    expect(add.status).toBe(403);
    expect(add.body.errcode).toBe("M_FORBIDDEN");
    const remove = await call("DELETE", tagsPath(alice.user_id, roomId, "m.favourite"), { token: bob.access_token });
    expect(remove.status).toBe(403);
    expect(remove.body.errcode).toBe("M_FORBIDDEN");
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "m.favourite": { order: 0.5 } } });
    expect((await tags(bob, roomId)).body).toEqual({ tags: {} });
  });

  it("needs an access token", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    expect((await call("GET", tagsPath(alice.user_id, roomId))).status).toBe(401);
    expect((await call("PUT", tagsPath(alice.user_id, roomId, "u.x"), { body: {} })).status).toBe(401);
    expect((await call("DELETE", tagsPath(alice.user_id, roomId, "u.x"))).status).toBe(401);
  });

  it("refuses an order that is not a number in [0,1] with 400 M_BAD_JSON", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    for (const order of ["0.5", -0.01, 1.01, 5, null, {}]) {
      const res = await putTag(alice, roomId, "u.bad", { order });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await tags(alice, roomId)).body).toEqual({ tags: {} });
  });

  it("refuses a body that is not a JSON object with 400", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    for (const body of [[], 0.5, "u.x"]) {
      const res = await putTag(alice, roomId, "u.bad", body);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    const notJson = await call("PUT", tagsPath(alice.user_id, roomId, "u.bad"), { token: alice.access_token, rawBody: "{", headers: { "content-type": "application/json" } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errcode).toBe("M_NOT_JSON");
    expect((await tags(alice, roomId)).body).toEqual({ tags: {} });
  });

  it("limits tag names to 255 bytes (400 M_INVALID_PARAM)", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const longest = `u.${"é".repeat(126)}x`; // 2 + 252 + 1 = 255 bytes
    expect((await putTag(alice, roomId, longest)).status).toBe(200);
    const tooLong = `u.${"é".repeat(127)}`; // 256 bytes
    const res = await putTag(alice, roomId, tooLong);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
    expect((await deleteTag(alice, roomId, tooLong)).status).toBe(400);
    expect((await tags(alice, roomId)).body).toEqual({ tags: { [longest]: {} } });
  });

  it("refuses an invalid room id with 400 M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    for (const [method, path] of [
      ["GET", tagsPath(alice.user_id, "not-a-room")],
      ["PUT", tagsPath(alice.user_id, "not-a-room", "u.x")],
      ["DELETE", tagsPath(alice.user_id, "not-a-room", "u.x")],
    ] as const) {
      const res = await call(method, path, { token: alice.access_token, body: method === "PUT" ? {} : undefined });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_INVALID_PARAM");
    }
  });
});

describe("m.tag room account data", () => {
  it("tags are the room's m.tag account data, as /sync shows them", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    await putTag(alice, roomId, "m.favourite", { order: 0.3 });
    const res = await call("GET", roomDataPath(alice.user_id, roomId, "m.tag"), { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tags: { "m.favourite": { order: 0.3 } } });
  });

  it("m.tag written whole through the account data API is what the tags endpoints then see", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    await putTag(alice, roomId, "u.old");
    await call("PUT", roomDataPath(alice.user_id, roomId, "m.tag"), { token: alice.access_token, body: { tags: { "u.new": { order: 0.9 } } } });
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.new": { order: 0.9 } } });

    // Content of any other shape reads as no tags, and adding a tag repairs it.
    await call("PUT", roomDataPath(alice.user_id, roomId, "m.tag"), { token: alice.access_token, body: { tags: "nonsense" } });
    expect((await tags(alice, roomId)).body).toEqual({ tags: {} });
    expect((await putTag(alice, roomId, "u.fixed")).status).toBe(200);
    expect((await tags(alice, roomId)).body).toEqual({ tags: { "u.fixed": {} } });
  });

  it("adding and removing a tag are recorded in the user's sync stream as m.tag changes of the room", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    let since = await streamPosition(alice.user_id, alice.device_id);
    await putTag(alice, roomId, "u.work");
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: [], rooms: { [roomId]: ["m.tag"] } });
    since = await streamPosition(alice.user_id, alice.device_id);
    await deleteTag(alice, roomId, "u.work");
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: [], rooms: { [roomId]: ["m.tag"] } });
  });
});
