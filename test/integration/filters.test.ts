/** Filters (spec: Client-Server § Filtering): POST/GET /user/{userId}/filter and the `filter` parameter's resolution. */
import { describe, expect, it } from "vitest";
import { MatrixError } from "../../src/api/errors";
import { getConfig } from "../../src/config";
import { makeDeps } from "../../src/services/deps";
import { resolveFilter } from "../../src/services/filters";
import { call, registerUser, testEnv } from "./helpers";

const filterPath = (userId: string, filterId?: string, version = "v3") =>
  `/_matrix/client/${version}/user/${encodeURIComponent(userId)}/filter${filterId === undefined ? "" : `/${encodeURIComponent(filterId)}`}`;

const deps = () => makeDeps(testEnv, getConfig(testEnv));

async function upload(token: string, userId: string, body: unknown) {
  return call("POST", filterPath(userId), { token, body });
}

async function uploadOk(token: string, userId: string, body: unknown): Promise<string> {
  const res = await upload(token, userId, body);
  expect(res.status).toBe(200);
  return res.body.filter_id as string;
}

/** The spec's example filter, plus keys the spec doesn't define. */
const SPEC_FILTER = {
  room: {
    state: { types: ["m.room.*"], not_rooms: ["!726s6s6q:example.com"] },
    timeline: { limit: 10, types: ["m.room.message"], not_rooms: ["!726s6s6q:example.com"], not_senders: ["@spam:example.com"] },
    ephemeral: { types: ["m.receipt", "m.typing"], not_rooms: ["!726s6s6q:example.com"], not_senders: ["@spam:example.com"] },
  },
  presence: { types: ["m.presence"], not_senders: ["@alice:example.com"] },
  event_format: "client",
  event_fields: ["type", "content", "sender"],
};

async function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect({ status: res.status, errcode: res.body?.errcode }).toEqual({ status, errcode });
}

describe("POST /user/{userId}/filter and GET /user/{userId}/filter/{filterId}", () => {
  it("stores a filter and gives it back as uploaded, unknown keys included", async () => {
    const alice = await registerUser();
    const body = { ...SPEC_FILTER, "org.example.custom": { nested: [1, 2] }, room: { ...SPEC_FILTER.room, timeline: { ...SPEC_FILTER.room.timeline, "org.matrix.labels": ["x"] } } };
    const id = await uploadOk(alice.access_token, alice.user_id, body);
    expect(typeof id).toBe("string");
    expect(id.startsWith("{")).toBe(false);
    const got = await call("GET", filterPath(alice.user_id, id), { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(body);
  });

  it("gives each user ids counting from 0, reuses the id of an identical filter, and answers on r0 too", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    expect(await uploadOk(alice.access_token, alice.user_id, { room: { timeline: { limit: 1 } } })).toBe("0");
    expect(await uploadOk(alice.access_token, alice.user_id, { room: { timeline: { limit: 2 } } })).toBe("1");
    expect(await uploadOk(alice.access_token, alice.user_id, { room: { timeline: { limit: 1 } } })).toBe("0");
    expect(await uploadOk(bob.access_token, bob.user_id, {})).toBe("0");
    const r0 = await call("POST", filterPath(alice.user_id, undefined, "r0"), { token: alice.access_token, body: { presence: { types: [] } } });
    expect(r0.body).toEqual({ filter_id: "2" });
    expect((await call("GET", filterPath(alice.user_id, "2", "r0"), { token: alice.access_token })).body).toEqual({ presence: { types: [] } });
    expect((await call("GET", filterPath(alice.user_id, "1"), { token: alice.access_token })).body).toEqual({ room: { timeline: { limit: 2 } } });
    expect((await call("GET", filterPath(bob.user_id, "0"), { token: bob.access_token })).body).toEqual({});
  });

  it("gives concurrent uploads distinct ids, each naming its own filter", async () => {
    const alice = await registerUser();
    const bodies = Array.from({ length: 8 }, (_, i) => ({ room: { timeline: { limit: i + 1 } } }));
    const ids = await Promise.all(bodies.map((b) => uploadOk(alice.access_token, alice.user_id, b)));
    expect(new Set(ids).size).toBe(bodies.length);
    for (const [i, id] of ids.entries()) {
      expect((await call("GET", filterPath(alice.user_id, id), { token: alice.access_token })).body).toEqual(bodies[i]);
    }
  });

  it.each([
    ["presence not an object", { presence: "x" }],
    ["room.timeline not an object", { room: { timeline: "x" } }],
    ["room.state not an object", { room: { state: [] } }],
    ["room.ephemeral not an object", { room: { ephemeral: 1 } }],
    ["room.account_data not an object", { room: { account_data: "x" } }],
    ["room.timeline.rooms not a list", { room: { timeline: { rooms: "!r:x" } } }],
    ["types not a list of strings", { room: { timeline: { types: [1] } } }],
    ["a zero limit", { room: { timeline: { limit: 0 } } }],
    ["a fractional limit", { presence: { limit: 2.5 } }],
    ["contains_url not a boolean", { room: { timeline: { contains_url: "true" } } }],
    ["include_leave not a boolean", { room: { include_leave: 1 } }],
    ["an unknown event_format", { event_format: "other" }],
    ["event_fields not strings", { event_fields: [1] }],
  ])("refuses %s with 400 M_BAD_JSON and stores nothing", async (_name, body) => {
    const alice = await registerUser();
    await expectError(await upload(alice.access_token, alice.user_id, body), 400, "M_BAD_JSON");
    expect(await uploadOk(alice.access_token, alice.user_id, {})).toBe("0");
  });

  it("refuses a body that is not a JSON object", async () => {
    const alice = await registerUser();
    await expectError(await call("POST", filterPath(alice.user_id), { token: alice.access_token, rawBody: "{not json" }), 400, "M_NOT_JSON");
    await expectError(await call("POST", filterPath(alice.user_id), { token: alice.access_token, body: [] }), 400, "M_BAD_JSON");
  });

  it("refuses another user's filters with 403, local or remote, and keeps filters per user", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const id = await uploadOk(alice.access_token, alice.user_id, { room: { timeline: { limit: 3 } } });
    await expectError(await upload(bob.access_token, alice.user_id, {}), 403, "M_FORBIDDEN");
    await expectError(await call("GET", filterPath(alice.user_id, id), { token: bob.access_token }), 403, "M_FORBIDDEN");
    await expectError(await upload(alice.access_token, "@alice:elsewhere.example", {}), 403, "M_FORBIDDEN");
    await expectError(await call("GET", filterPath("@alice:elsewhere.example", "0"), { token: alice.access_token }), 403, "M_FORBIDDEN");
    await expectError(await upload(alice.access_token, "not-a-user-id", {}), 403, "M_FORBIDDEN");
    // Bob has no filter of his own under that id.
    await expectError(await call("GET", filterPath(bob.user_id, id), { token: bob.access_token }), 404, "M_NOT_FOUND");
  });

  it("answers 404 M_NOT_FOUND for an unknown filter id", async () => {
    const alice = await registerUser();
    await uploadOk(alice.access_token, alice.user_id, {});
    for (const id of ["1", "999999", "abc", "{}", "01", "-1"]) {
      await expectError(await call("GET", filterPath(alice.user_id, id), { token: alice.access_token }), 404, "M_NOT_FOUND");
    }
  });

  it("requires an access token", async () => {
    const alice = await registerUser();
    await expectError(await call("POST", filterPath(alice.user_id), { body: {} }), 401, "M_MISSING_TOKEN");
    await expectError(await call("GET", filterPath(alice.user_id, "0")), 401, "M_MISSING_TOKEN");
  });
});

describe("resolveFilter (the `filter` parameter of /sync)", () => {
  async function rejection(p: Promise<unknown>): Promise<{ errcode: string; status: number; message: string }> {
    try {
      await p;
    } catch (e) {
      if (e instanceof MatrixError) return { errcode: e.errcode, status: e.status, message: e.message };
      throw e;
    }
    throw new Error("expected a rejection");
  }

  it("is the empty filter without a parameter", async () => {
    const alice = await registerUser();
    expect(await resolveFilter(deps(), alice.user_id, undefined)).toStrictEqual({});
    expect(await resolveFilter(deps(), alice.user_id, "")).toStrictEqual({});
  });

  it("reads inline JSON, also URL-encoded once more, into the internal form", async () => {
    const alice = await registerUser();
    const inline = JSON.stringify({ room: { include_leave: true, timeline: { limit: 5, lazy_load_members: true } }, event_fields: ["type"] });
    const expected = { room: { includeLeave: true, timeline: { limit: 5, lazyLoadMembers: true } }, eventFields: ["type"] };
    expect(await resolveFilter(deps(), alice.user_id, inline)).toStrictEqual(expected);
    expect(await resolveFilter(deps(), alice.user_id, encodeURIComponent(inline))).toStrictEqual(expected);
  });

  it("loads a stored filter by id", async () => {
    const alice = await registerUser();
    const id = await uploadOk(alice.access_token, alice.user_id, SPEC_FILTER);
    const filter = await resolveFilter(deps(), alice.user_id, id);
    expect(filter.room?.timeline).toStrictEqual({ limit: 10, types: ["m.room.message"], notRooms: ["!726s6s6q:example.com"], notSenders: ["@spam:example.com"] });
    expect(filter.presence).toStrictEqual({ types: ["m.presence"], notSenders: ["@alice:example.com"] });
    expect(filter.eventFields).toEqual(["type", "content", "sender"]);
  });

  it("answers 400 M_INVALID_PARAM for an unknown id, another user's id, bad JSON and an invalid filter", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const bobsId = await uploadOk(bob.access_token, bob.user_id, { room: { timeline: { limit: 1 } } });
    expect(await rejection(resolveFilter(deps(), alice.user_id, "42"))).toEqual({ errcode: "M_INVALID_PARAM", status: 400, message: "No such filter" });
    expect((await rejection(resolveFilter(deps(), alice.user_id, bobsId))).errcode).toBe("M_INVALID_PARAM");
    expect((await rejection(resolveFilter(deps(), alice.user_id, "{not json"))).errcode).toBe("M_INVALID_PARAM");
    const invalid = await rejection(resolveFilter(deps(), alice.user_id, JSON.stringify({ room: { timeline: { limit: -1 } } })));
    expect(invalid.errcode).toBe("M_INVALID_PARAM");
    expect(invalid.message).toMatch(/room\.timeline\.limit/);
  });
});
