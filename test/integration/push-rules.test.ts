/**
 * Push rules API (spec: Client-Server § Push Rules: API, pushrules.yaml): the ruleset with the
 * server-default rules merged in, creating, ordering, replacing and deleting user rules,
 * enabling and re-acting rules (server-default ones included), every refusal, and the
 * `m.push_rules` account data that /sync and GET /account_data carry after each change.
 */
import { describe, expect, it } from "vitest";
import { defaultRules } from "../../src/matrix/push";
import { readPushRules, upsertUserRule } from "../../src/storage/d1/push-rules";
import { accountDataChangesSince, globalDataPath, streamPosition } from "./account-data-helpers";
import { call, registerUser, testEnv } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

const enc = encodeURIComponent;
const KINDS = ["override", "content", "room", "sender", "underride"] as const;

const rulesPath = (rest = "", prefix = "v3") => `/_matrix/client/${prefix}/pushrules/${rest}`;
const rulePath = (kind: string, ruleId: string, attr = "", query = "") => rulesPath(`global/${kind}/${enc(ruleId)}${attr ? `/${attr}` : ""}${query}`);

const get = (user: User, path: string) => call("GET", path, { token: user.access_token });
const put = (user: User, path: string, body: unknown) => call("PUT", path, { token: user.access_token, body });
const del = (user: User, path: string) => call("DELETE", path, { token: user.access_token });

async function ruleset(user: User) {
  const res = await get(user, rulesPath());
  expect(res.status).toBe(200);
  return res.body.global;
}

/** The rule ids of one kind, in order. */
async function ids(user: User, kind: string): Promise<string[]> {
  return (await ruleset(user))[kind].map((r: { rule_id: string }) => r.rule_id);
}

/** The user's own rule ids of one kind, in order. */
async function userIds(user: User, kind: string): Promise<string[]> {
  return (await ids(user, kind)).filter((id) => !id.startsWith("."));
}

const MSG = [{ kind: "event_match", key: "type", pattern: "m.room.message" }];

async function putOk(user: User, kind: string, ruleId: string, body: unknown, query = "") {
  const res = await put(user, rulePath(kind, ruleId, "", query), body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({});
}

function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect({ status: res.status, errcode: res.body?.errcode }).toEqual({ status, errcode });
}

describe("GET /pushrules/", () => {
  it("answers the server-default rules for a new user, in the spec's order, naming the user", async () => {
    const alice = await registerUser();
    const res = await get(alice, rulesPath());
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["global"]);
    expect(res.body.global).toEqual(defaultRules(alice.user_id));
    const invite = res.body.global.override.find((r: any) => r.rule_id === ".m.rule.invite_for_me");
    expect(invite.conditions).toContainEqual({ key: "state_key", kind: "event_match", pattern: alice.user_id });
    expect(res.body.global.content).toEqual([
      expect.objectContaining({ rule_id: ".m.rule.contains_user_name", pattern: alice.username, default: true, enabled: true }),
    ]);
    expect(res.body.global.override[0]).toEqual({ rule_id: ".m.rule.master", default: true, enabled: false, conditions: [], actions: [] });
    expect(res.body.global.room).toEqual([]);
    expect(res.body.global.sender).toEqual([]);
  });

  it("answers with and without the trailing slash, and on r0", async () => {
    const alice = await registerUser();
    const expected = { global: defaultRules(alice.user_id) };
    expect((await get(alice, "/_matrix/client/v3/pushrules")).body).toEqual(expected);
    expect((await get(alice, rulesPath("", "r0"))).body).toEqual(expected);
  });

  it("needs an access token", async () => {
    for (const path of [rulesPath(), rulesPath("global/"), rulesPath("global/override/"), rulePath("override", ".m.rule.master"), rulePath("override", ".m.rule.master", "enabled")]) {
      expectError(await call("GET", path), 401, "M_MISSING_TOKEN");
    }
    expectError(await call("PUT", rulePath("override", "x"), { body: { actions: [] } }), 401, "M_MISSING_TOKEN");
    expectError(await call("DELETE", rulePath("override", "x")), 401, "M_MISSING_TOKEN");
  });
});

describe("GET /pushrules/global/ and /pushrules/global/{kind}/", () => {
  it("answer the global ruleset and each kind's rules in order", async () => {
    const alice = await registerUser();
    await putOk(alice, "override", "mine", { conditions: MSG, actions: ["notify"] });
    const all = await ruleset(alice);
    const global = await get(alice, rulesPath("global/"));
    expect(global.status).toBe(200);
    expect(global.body).toEqual(all);
    expect((await get(alice, "/_matrix/client/v3/pushrules/global")).body).toEqual(all);
    for (const kind of KINDS) {
      const res = await get(alice, rulesPath(`global/${kind}/`));
      expect(res.status).toBe(200);
      expect(res.body).toEqual(all[kind]);
    }
  });

  it("refuse an unknown kind with 400 M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    expectError(await get(alice, rulesPath("global/postcontent/")), 400, "M_INVALID_PARAM");
    expectError(await get(alice, rulePath("bogus", "x")), 400, "M_INVALID_PARAM");
  });

  it("know no scope but global: other scopes are unknown endpoints (404 M_UNRECOGNIZED)", async () => {
    const alice = await registerUser();
    expectError(await get(alice, rulesPath("device/")), 404, "M_UNRECOGNIZED");
    expectError(await get(alice, rulesPath("device/override/x")), 404, "M_UNRECOGNIZED");
    expectError(await put(alice, rulesPath("device/override/x"), { actions: [] }), 404, "M_UNRECOGNIZED");
    expectError(await del(alice, rulesPath("device/override/x")), 404, "M_UNRECOGNIZED");
    expectError(await put(alice, rulesPath("device/override/x/enabled"), { enabled: true }), 404, "M_UNRECOGNIZED");
    // Only `enabled` and `actions` are attributes.
    expectError(await get(alice, rulePath("override", ".m.rule.master", "conditions")), 404, "M_UNRECOGNIZED");
    // A known path under another method.
    expectError(await call("POST", rulesPath(), { token: alice.access_token, body: {} }), 405, "M_UNRECOGNIZED");
  });
});

describe("GET /pushrules/global/{kind}/{ruleId}", () => {
  it("answers a server-default rule and a user rule", async () => {
    const alice = await registerUser();
    const msg = await get(alice, rulePath("underride", ".m.rule.message"));
    expect(msg.status).toBe(200);
    expect(msg.body).toEqual({ rule_id: ".m.rule.message", default: true, enabled: true, conditions: MSG, actions: ["notify"] });
    await putOk(alice, "content", "cake", { pattern: "cake", actions: ["notify", { set_tweak: "sound", value: "cakealarm.wav" }] });
    expect((await get(alice, rulePath("content", "cake"))).body).toEqual({
      rule_id: "cake",
      default: false,
      enabled: true,
      pattern: "cake",
      actions: ["notify", { set_tweak: "sound", value: "cakealarm.wav" }],
    });
  });

  it("answers 404 M_NOT_FOUND for a rule that doesn't exist, or not in that kind", async () => {
    const alice = await registerUser();
    expectError(await get(alice, rulePath("override", "nothing")), 404, "M_NOT_FOUND");
    expectError(await get(alice, rulePath("override", ".m.rule.message")), 404, "M_NOT_FOUND");
    expectError(await get(alice, rulePath("override", ".m.rule.nonexistent")), 404, "M_NOT_FOUND");
    await putOk(alice, "content", "cake", { pattern: "cake", actions: [] });
    expectError(await get(alice, rulePath("override", "cake")), 404, "M_NOT_FOUND");
  });

  it("never shows one user's rules to another", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await putOk(alice, "override", "secret", { conditions: MSG, actions: [] });
    await put(alice, rulePath("override", ".m.rule.master", "enabled"), { enabled: true });
    expectError(await get(bob, rulePath("override", "secret")), 404, "M_NOT_FOUND");
    expect(await ruleset(bob)).toEqual(defaultRules(bob.user_id));
  });
});

describe("PUT /pushrules/global/{kind}/{ruleId}", () => {
  it("creates a rule of each kind with only that kind's fields, enabled", async () => {
    const alice = await registerUser();
    const roomId = "!someroom:test.local";
    const actions = ["notify", { set_tweak: "sound", value: "x.wav" }];
    await putOk(alice, "override", "o", { conditions: MSG, actions, pattern: "ignored" });
    await putOk(alice, "underride", "u", { actions });
    await putOk(alice, "content", "c", { pattern: "cake*lie", actions, conditions: MSG });
    await putOk(alice, "room", roomId, { actions: [], conditions: MSG, pattern: "ignored" });
    await putOk(alice, "sender", "@spambot:matrix.org", { actions: [] });
    const rs = await ruleset(alice);
    expect(rs.override[1]).toEqual({ rule_id: "o", default: false, enabled: true, conditions: MSG, actions });
    // "A rule with no conditions always matches": conditions default to none.
    expect(rs.underride[0]).toEqual({ rule_id: "u", default: false, enabled: true, conditions: [], actions });
    expect(rs.content[0]).toEqual({ rule_id: "c", default: false, enabled: true, pattern: "cake*lie", actions });
    expect(rs.room).toEqual([{ rule_id: roomId, default: false, enabled: true, actions: [] }]);
    expect(rs.sender).toEqual([{ rule_id: "@spambot:matrix.org", default: false, enabled: true, actions: [] }]);
  });

  it("keeps unknown condition kinds and extra keys as given", async () => {
    const alice = await registerUser();
    const conditions = [{ kind: "org.example.future", foo: [1, { bar: null }] }, { kind: "event_match", key: "content.body", pattern: "x", extra: true }];
    await putOk(alice, "override", "future", { conditions, actions: ["dont_notify", { set_tweak: "org.example.led", value: "red" }] });
    expect((await get(alice, rulePath("override", "future"))).body).toMatchObject({ conditions, actions: ["dont_notify", { set_tweak: "org.example.led", value: "red" }] });
  });

  it("puts a new rule first among the user's rules of its kind, after .m.rule.master and before the defaults", async () => {
    const alice = await registerUser();
    await putOk(alice, "override", "a", { conditions: MSG, actions: [] });
    await putOk(alice, "override", "b", { conditions: MSG, actions: [] });
    expect((await ids(alice, "override")).slice(0, 4)).toEqual([".m.rule.master", "b", "a", ".m.rule.suppress_notices"]);
    await putOk(alice, "underride", "u1", { actions: [] });
    await putOk(alice, "underride", "u2", { actions: [] });
    expect((await ids(alice, "underride")).slice(0, 3)).toEqual(["u2", "u1", ".m.rule.call"]);
  });

  it("replaces an existing rule in place, keeping whether it is enabled", async () => {
    const alice = await registerUser();
    await putOk(alice, "content", "a", { pattern: "one", actions: ["notify"] });
    await putOk(alice, "content", "b", { pattern: "two", actions: ["notify"] });
    expect((await put(alice, rulePath("content", "a", "enabled"), { enabled: false })).status).toBe(200);
    await putOk(alice, "content", "a", { pattern: "uno", actions: [] });
    expect(await userIds(alice, "content")).toEqual(["b", "a"]);
    expect((await get(alice, rulePath("content", "a"))).body).toEqual({ rule_id: "a", default: false, enabled: false, pattern: "uno", actions: [] });
  });

  it("places a rule before or after another user rule, and moves an existing one", async () => {
    const alice = await registerUser();
    await putOk(alice, "override", "a", { conditions: MSG, actions: [] });
    await putOk(alice, "override", "b", { conditions: MSG, actions: [] });
    expect(await userIds(alice, "override")).toEqual(["b", "a"]);
    await putOk(alice, "override", "c", { conditions: MSG, actions: [] }, "?before=a");
    expect(await userIds(alice, "override")).toEqual(["b", "c", "a"]);
    await putOk(alice, "override", "d", { conditions: MSG, actions: [] }, "?after=b");
    expect(await userIds(alice, "override")).toEqual(["b", "d", "c", "a"]);
    await putOk(alice, "override", "e", { conditions: MSG, actions: [] }, "?after=a");
    expect(await userIds(alice, "override")).toEqual(["b", "d", "c", "a", "e"]);
    await putOk(alice, "override", "f", { conditions: MSG, actions: [] }, "?before=b");
    expect(await userIds(alice, "override")).toEqual(["f", "b", "d", "c", "a", "e"]);
    // "If both after and before are provided, the new or updated rule must be the next most
    // important rule with respect to the rule identified by before."
    await putOk(alice, "override", "g", { conditions: MSG, actions: [] }, "?after=f&before=a");
    expect(await userIds(alice, "override")).toEqual(["f", "b", "d", "c", "g", "a", "e"]);
    // Moving existing rules, which also replaces them.
    await putOk(alice, "override", "f", { conditions: MSG, actions: ["notify"] }, "?after=e");
    expect(await userIds(alice, "override")).toEqual(["b", "d", "c", "g", "a", "e", "f"]);
    await putOk(alice, "override", "e", { conditions: MSG, actions: [] }, "?before=b");
    expect(await userIds(alice, "override")).toEqual(["e", "b", "d", "c", "g", "a", "f"]);
    expect((await get(alice, rulePath("override", "f"))).body.actions).toEqual(["notify"]);
    // The defaults stay behind the user's rules and master in front.
    const all = await ids(alice, "override");
    expect(all[0]).toBe(".m.rule.master");
    expect(all[8]).toBe(".m.rule.suppress_notices");
    // Other kinds are unaffected.
    expect(await userIds(alice, "underride")).toEqual([]);
  });

  it("refuses to place a rule relative to a missing rule, a server-default rule, another kind's rule or itself (400), storing nothing", async () => {
    const alice = await registerUser();
    await putOk(alice, "override", "a", { conditions: MSG, actions: [] });
    await putOk(alice, "content", "c", { pattern: "x", actions: [] });
    const before = await ruleset(alice);
    const since = await streamPosition(alice.user_id, alice.device_id);
    for (const query of [
      "?before=nothing",
      "?after=nothing",
      "?before=a&after=nothing",
      "?before=.m.rule.master",
      "?after=.m.rule.suppress_notices",
      "?before=.m.rule.message",
      "?before=c",
      "?before=new",
    ]) {
      const res = await put(alice, rulePath("override", "new", "", query), { conditions: MSG, actions: [] });
      expect(res.status, query).toBe(400);
      expect(res.body.errcode, query).toBe("M_UNKNOWN");
    }
    // Nor may an existing rule be moved that way.
    expectError(await put(alice, rulePath("override", "a", "", "?after=nothing"), { conditions: [], actions: ["notify"] }), 400, "M_UNKNOWN");
    expect(await ruleset(alice)).toEqual(before);
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: [], rooms: {} });
  });

  it("in storage, a placement whose anchor vanished (a concurrent DELETE) writes nothing and shifts nothing", async () => {
    const alice = await registerUser();
    await putOk(alice, "override", "a", { conditions: MSG, actions: [] });
    await putOk(alice, "override", "b", { conditions: MSG, actions: [] });
    const before = await readPushRules(testEnv.DB, alice.user_id);
    for (const at of ["before", "after"] as const) {
      const write = { userId: alice.user_id, kind: "override", ruleId: at === "before" ? "a" : "new", conditions: "[]", pattern: null, actions: "[]" };
      expect(await upsertUserRule(testEnv.DB, write, { at, anchor: "gone" })).toBe(false);
    }
    expect(await readPushRules(testEnv.DB, alice.user_id)).toEqual(before);
  });

  it("refuses rule ids reserved for server-default rules, even to replace one (400 M_INVALID_PARAM)", async () => {
    const alice = await registerUser();
    for (const [kind, id] of [
      ["override", ".m.rule.master"],
      ["override", ".m.rule.suppress_notices"],
      ["underride", ".m.rule.message"],
      ["content", ".m.rule.contains_user_name"],
      ["override", ".my.rule"],
    ] as const) {
      const res = await put(alice, rulePath(kind, id), { conditions: [], pattern: "x", actions: ["notify"] });
      expectError(res, 400, "M_INVALID_PARAM");
    }
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });

  it("refuses rule ids with slashes or backslashes, and room and sender rules not named after a room or user", async () => {
    const alice = await registerUser();
    expectError(await put(alice, rulesPath("global/override/a%2Fb"), { conditions: [], actions: [] }), 400, "M_INVALID_PARAM");
    expectError(await put(alice, rulePath("override", "a\\b"), { conditions: [], actions: [] }), 400, "M_INVALID_PARAM");
    expectError(await put(alice, rulePath("room", "not-a-room"), { actions: [] }), 400, "M_INVALID_PARAM");
    expectError(await put(alice, rulePath("sender", "bob"), { actions: [] }), 400, "M_INVALID_PARAM");
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });

  it("refuses an unknown kind", async () => {
    const alice = await registerUser();
    expectError(await put(alice, rulePath("postcontent", "x"), { actions: [] }), 400, "M_INVALID_PARAM");
    expectError(await put(alice, rulePath("global", "x"), { actions: [] }), 400, "M_INVALID_PARAM");
  });

  it("refuses malformed bodies with 400 M_BAD_JSON / M_NOT_JSON", async () => {
    const alice = await registerUser();
    const path = rulePath("override", "bad");
    for (const body of [
      {},
      { actions: "notify" },
      { actions: ["notify", "bogus"] },
      { actions: [{ value: "no set_tweak" }] },
      { actions: [1] },
      { actions: [], conditions: "x" },
      { actions: [], conditions: [{ key: "type", pattern: "*" }] },
      { actions: [], conditions: [{ kind: 1 }] },
      [],
    ]) {
      expectError(await put(alice, path, body), 400, "M_BAD_JSON");
    }
    // A content rule needs its pattern.
    expectError(await put(alice, rulePath("content", "nopattern"), { actions: [] }), 400, "M_BAD_JSON");
    expectError(await put(alice, rulePath("content", "badpattern"), { actions: [], pattern: 1 }), 400, "M_BAD_JSON");
    expectError(await call("PUT", path, { token: alice.access_token, rawBody: "{nope", headers: { "content-type": "application/json" } }), 400, "M_NOT_JSON");
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });
});

describe("DELETE /pushrules/global/{kind}/{ruleId}", () => {
  it("removes a user rule, and the others keep their order", async () => {
    const alice = await registerUser();
    for (const id of ["a", "b", "c"]) await putOk(alice, "underride", id, { actions: [] });
    const res = await del(alice, rulePath("underride", "b"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await userIds(alice, "underride")).toEqual(["c", "a"]);
    expectError(await get(alice, rulePath("underride", "b")), 404, "M_NOT_FOUND");
    // Recreated, it is new again: first, and enabled.
    await putOk(alice, "underride", "b", { actions: [] });
    expect(await userIds(alice, "underride")).toEqual(["b", "c", "a"]);
  });

  it("answers 404 M_NOT_FOUND for a rule that isn't there, or is of another kind", async () => {
    const alice = await registerUser();
    await putOk(alice, "content", "c", { pattern: "x", actions: [] });
    expectError(await del(alice, rulePath("override", "nothing")), 404, "M_NOT_FOUND");
    expectError(await del(alice, rulePath("override", "c")), 404, "M_NOT_FOUND");
    expectError(await del(alice, rulePath("override", ".m.rule.nonexistent")), 404, "M_NOT_FOUND");
    expectError(await del(alice, rulePath("override", ".m.rule.message")), 404, "M_NOT_FOUND");
    expect(await userIds(alice, "content")).toEqual(["c"]);
  });

  it("refuses to delete a server-default rule (400 M_INVALID_PARAM)", async () => {
    const alice = await registerUser();
    expectError(await del(alice, rulePath("override", ".m.rule.master")), 400, "M_INVALID_PARAM");
    expectError(await del(alice, rulePath("underride", ".m.rule.message")), 400, "M_INVALID_PARAM");
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });

  it("only deletes the caller's own rule", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await putOk(alice, "override", "shared-name", { conditions: MSG, actions: [] });
    expectError(await del(bob, rulePath("override", "shared-name")), 404, "M_NOT_FOUND");
    expect(await userIds(alice, "override")).toEqual(["shared-name"]);
  });

  it("refuses an unknown kind", async () => {
    const alice = await registerUser();
    expectError(await del(alice, rulePath("bogus", "x")), 400, "M_INVALID_PARAM");
  });
});

describe("GET/PUT .../enabled", () => {
  it("reads and sets whether a user rule is enabled", async () => {
    const alice = await registerUser();
    await putOk(alice, "sender", "@bob:test.local", { actions: [] });
    const path = rulePath("sender", "@bob:test.local", "enabled");
    expect((await get(alice, path)).body).toEqual({ enabled: true });
    const res = await put(alice, path, { enabled: false });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await get(alice, path)).body).toEqual({ enabled: false });
    expect((await ruleset(alice)).sender[0].enabled).toBe(false);
    await put(alice, path, { enabled: true });
    expect((await get(alice, path)).body).toEqual({ enabled: true });
  });

  it("enables and disables server-default rules", async () => {
    const alice = await registerUser();
    const master = rulePath("override", ".m.rule.master", "enabled");
    expect((await get(alice, master)).body).toEqual({ enabled: false });
    expect((await put(alice, master, { enabled: true })).status).toBe(200);
    expect((await get(alice, master)).body).toEqual({ enabled: true });
    expect((await ruleset(alice)).override[0]).toEqual({ rule_id: ".m.rule.master", default: true, enabled: true, conditions: [], actions: [] });
    await put(alice, rulePath("underride", ".m.rule.message", "enabled"), { enabled: false });
    expect((await get(alice, rulePath("underride", ".m.rule.message"))).body.enabled).toBe(false);
    await put(alice, master, { enabled: false });
    expect((await get(alice, master)).body).toEqual({ enabled: false });
  });

  it("answers 404 M_NOT_FOUND for a missing rule, a default of another kind or an unknown default", async () => {
    const alice = await registerUser();
    for (const [kind, id] of [
      ["override", "nothing"],
      ["override", ".m.rule.message"],
      ["content", ".m.rule.master"],
      ["override", ".m.rule.nonexistent"],
    ] as const) {
      expectError(await get(alice, rulePath(kind, id, "enabled")), 404, "M_NOT_FOUND");
      expectError(await put(alice, rulePath(kind, id, "enabled"), { enabled: false }), 404, "M_NOT_FOUND");
    }
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });

  it("needs a boolean `enabled`", async () => {
    const alice = await registerUser();
    for (const body of [{}, { enabled: "false" }, { enabled: 0 }, { enabled: null }]) {
      expectError(await put(alice, rulePath("override", ".m.rule.master", "enabled"), body), 400, "M_BAD_JSON");
    }
    expectError(await put(alice, rulePath("bogus", ".m.rule.master", "enabled"), { enabled: true }), 400, "M_INVALID_PARAM");
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });
});

describe("GET/PUT .../actions", () => {
  it("reads and sets a user rule's actions", async () => {
    const alice = await registerUser();
    await putOk(alice, "room", "!r:test.local", { actions: ["notify"] });
    const path = rulePath("room", "!r:test.local", "actions");
    expect((await get(alice, path)).body).toEqual({ actions: ["notify"] });
    const actions = ["notify", { set_tweak: "highlight" }, { set_tweak: "sound", value: "bing" }];
    expect((await put(alice, path, { actions })).status).toBe(200);
    expect((await get(alice, path)).body).toEqual({ actions });
    expect((await get(alice, rulePath("room", "!r:test.local"))).body).toEqual({ rule_id: "!r:test.local", default: false, enabled: true, actions });
  });

  it("changes a server-default rule's actions, keeping its conditions, and keeps enabled and actions changes apart", async () => {
    const alice = await registerUser();
    const path = rulePath("underride", ".m.rule.message", "actions");
    expect((await get(alice, path)).body).toEqual({ actions: ["notify"] });
    await put(alice, rulePath("underride", ".m.rule.message", "enabled"), { enabled: false });
    expect((await put(alice, path, { actions: [] })).status).toBe(200);
    expect((await get(alice, rulePath("underride", ".m.rule.message"))).body).toEqual({ rule_id: ".m.rule.message", default: true, enabled: false, conditions: MSG, actions: [] });
    await put(alice, rulePath("underride", ".m.rule.message", "enabled"), { enabled: true });
    expect((await get(alice, rulePath("underride", ".m.rule.message"))).body).toMatchObject({ enabled: true, actions: [] });
    // A change to one default leaves the others as they are.
    const rs = await ruleset(alice);
    const fresh = defaultRules(alice.user_id);
    expect(rs.underride.filter((r: any) => r.rule_id !== ".m.rule.message")).toEqual(fresh.underride.filter((r) => r.rule_id !== ".m.rule.message"));
    expect(rs.override).toEqual(fresh.override);
  });

  it("answers 404 M_NOT_FOUND for a missing rule and refuses bad actions with 400", async () => {
    const alice = await registerUser();
    expectError(await get(alice, rulePath("override", "nothing", "actions")), 404, "M_NOT_FOUND");
    expectError(await put(alice, rulePath("override", "nothing", "actions"), { actions: [] }), 404, "M_NOT_FOUND");
    expectError(await put(alice, rulePath("content", ".m.rule.message", "actions"), { actions: [] }), 404, "M_NOT_FOUND");
    for (const body of [{}, { actions: "notify" }, { actions: ["explode"] }]) {
      expectError(await put(alice, rulePath("underride", ".m.rule.message", "actions"), body), 400, "M_BAD_JSON");
    }
    expect(await ruleset(alice)).toEqual(defaultRules(alice.user_id));
  });
});

describe("m.push_rules account data and /sync", () => {
  async function sync(user: User, since?: string, timeout = 0) {
    const res = await call("GET", `/_matrix/client/v3/sync?timeout=${timeout}${since ? `&since=${since}` : ""}`, { token: user.access_token });
    expect(res.status).toBe(200);
    return res.body;
  }
  const pushRulesEvents = (body: any) => body.account_data.events.filter((e: any) => e.type === "m.push_rules");

  it("each change is recorded in the user's sync stream as m.push_rules", async () => {
    const alice = await registerUser();
    const changes: [string, () => Promise<unknown>][] = [
      ["PUT rule", () => putOk(alice, "override", "a", { conditions: MSG, actions: [] })],
      ["PUT rule before", () => putOk(alice, "override", "b", { conditions: MSG, actions: [] }, "?before=a")],
      ["PUT enabled (user)", () => put(alice, rulePath("override", "a", "enabled"), { enabled: false })],
      ["PUT actions (user)", () => put(alice, rulePath("override", "a", "actions"), { actions: ["notify"] })],
      ["PUT enabled (default)", () => put(alice, rulePath("override", ".m.rule.master", "enabled"), { enabled: true })],
      ["PUT actions (default)", () => put(alice, rulePath("underride", ".m.rule.call", "actions"), { actions: [] })],
      ["DELETE", () => del(alice, rulePath("override", "a"))],
    ];
    for (const [what, change] of changes) {
      const since = await streamPosition(alice.user_id, alice.device_id);
      await change();
      expect(await accountDataChangesSince(alice.user_id, alice.device_id, since), what).toEqual({ global: ["m.push_rules"], rooms: {} });
    }
  });

  it("a refused change records nothing", async () => {
    const alice = await registerUser();
    const since = await streamPosition(alice.user_id, alice.device_id);
    await put(alice, rulePath("override", ".m.rule.master"), { conditions: [], actions: [] });
    await put(alice, rulePath("override", "x", "", "?before=nothing"), { conditions: [], actions: [] });
    await put(alice, rulePath("override", "x"), { actions: ["bogus"] });
    await del(alice, rulePath("override", "nothing"));
    await del(alice, rulePath("override", ".m.rule.master"));
    await put(alice, rulePath("override", "nothing", "enabled"), { enabled: true });
    await put(alice, rulePath("override", "nothing", "actions"), { actions: [] });
    expect(await accountDataChangesSince(alice.user_id, alice.device_id, since)).toEqual({ global: [], rooms: {} });
  });

  it("an initial /sync carries the current m.push_rules event in global account data", async () => {
    const alice = await registerUser();
    const first = await sync(alice);
    expect(pushRulesEvents(first)).toEqual([{ type: "m.push_rules", content: { global: defaultRules(alice.user_id) } }]);

    await putOk(alice, "content", "cake", { pattern: "cake", actions: ["notify"] });
    const again = await sync(alice);
    expect(pushRulesEvents(again)).toEqual([{ type: "m.push_rules", content: { global: await ruleset(alice) } }]);
    expect(pushRulesEvents(again)[0].content.global.content[0].rule_id).toBe("cake");
  });

  it("an incremental /sync carries m.push_rules only when the rules changed", async () => {
    const alice = await registerUser();
    const first = await sync(alice);
    await call("PUT", globalDataPath(alice.user_id, "org.example.other"), { token: alice.access_token, body: { x: 1 } });
    const unrelated = await sync(alice, first.next_batch);
    expect(pushRulesEvents(unrelated)).toEqual([]);
    expect(unrelated.account_data.events.map((e: any) => e.type)).toEqual(["org.example.other"]);

    await put(alice, rulePath("override", ".m.rule.master", "enabled"), { enabled: true });
    const changed = await sync(alice, unrelated.next_batch);
    const events = pushRulesEvents(changed);
    expect(events).toHaveLength(1);
    expect(events[0].content.global.override[0]).toMatchObject({ rule_id: ".m.rule.master", enabled: true });
    expect(events[0].content).toEqual({ global: await ruleset(alice) });

    expect(pushRulesEvents(await sync(alice, changed.next_batch))).toEqual([]);
  });

  it("a waiting /sync wakes up for a push rule change", async () => {
    const alice = await registerUser();
    const first = await sync(alice);
    const started = Date.now();
    const poll = sync(alice, first.next_batch, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await putOk(alice, "override", "wake", { conditions: MSG, actions: [] });
    const body = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pushRulesEvents(body)[0].content.global.override[1].rule_id).toBe("wake");
  });

  it("GET /user/{userId}/account_data/m.push_rules answers the same content, to its owner only; PUT stays refused", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await putOk(alice, "sender", "@spambot:test.local", { actions: [] });
    const res = await get(alice, globalDataPath(alice.user_id, "m.push_rules"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ global: await ruleset(alice) });
    expectError(await get(bob, globalDataPath(alice.user_id, "m.push_rules")), 403, "M_FORBIDDEN");
    expectError(await put(alice, globalDataPath(alice.user_id, "m.push_rules"), { global: {} }), 405, "M_BAD_JSON");
    expect((await get(alice, globalDataPath(alice.user_id, "m.push_rules"))).body).toEqual({ global: await ruleset(alice) });
  });
});
