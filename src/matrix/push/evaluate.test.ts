/**
 * Evaluation order and outcomes (spec: § Push Rules: kinds in order override, content, room,
 * sender, underride; user rules before server-default ones; `.m.rule.master` first of all;
 * disabled rules never match; § Actions, § Historical Actions), and building a user's ruleset.
 */
import { describe, expect, it } from "vitest";
import type { ClientEvent } from "../client-event";
import type { PushContext } from "./conditions";
import { evaluatePushRules, outcomeOf } from "./evaluate";
import { buildRuleset, isValidAction, userRuleIdProblem, userRuleToWire, withoutHistoricalActions, type UserPushRule } from "./ruleset";
import type { PushEvent } from "./types";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const ROOM = "!room:example.org";

const ctx: PushContext = { userId: ALICE, displayName: "Alice Liddell", memberCount: 10, powerLevels: { senderLevel: () => 0, notificationLevel: () => undefined } };
const msg = (body: string, extra: Partial<PushEvent> = {}): PushEvent => ({ type: "m.room.message", sender: BOB, room_id: ROOM, content: { msgtype: "m.text", body }, ...extra });

const overrideRule = (ruleId: string, actions: UserPushRule["actions"], extra: Partial<UserPushRule> = {}): UserPushRule => ({
  kind: "override",
  ruleId,
  enabled: true,
  actions,
  conditions: [{ kind: "event_match", key: "type", pattern: "m.room.message" }],
  ...extra,
});
const contentRule = (ruleId: string, pattern: string, actions: UserPushRule["actions"] = ["notify", { set_tweak: "sound", value: "cake.wav" }]): UserPushRule => ({
  kind: "content",
  ruleId,
  enabled: true,
  actions,
  pattern,
});
const roomRule: UserPushRule = { kind: "room", ruleId: ROOM, enabled: true, actions: [] };
const senderRule: UserPushRule = { kind: "sender", ruleId: BOB, enabled: true, actions: ["notify", { set_tweak: "sound", value: "bob" }] };
const underrideRule: UserPushRule = { kind: "underride", ruleId: "all-messages", enabled: true, actions: ["notify", { set_tweak: "highlight", value: false }], conditions: [{ kind: "event_match", key: "type", pattern: "m.room.*" }] };

const decide = (rules: UserPushRule[], event: PushEvent, changes: Parameters<typeof buildRuleset>[2] = []) => evaluatePushRules(buildRuleset(ALICE, rules, changes), event, ctx)?.ruleId;

describe("order of kinds", () => {
  const all = [overrideRule("o", []), contentRule("c", "cake"), roomRule, senderRule, underrideRule];

  it("override, then content, room, sender, underride", () => {
    expect(decide(all, msg("cake"))).toBe("o");
    expect(decide(all.slice(1), msg("cake"))).toBe("c");
    expect(decide(all.slice(1), msg("pie"))).toBe(ROOM);
    expect(decide(all.slice(3), msg("pie"))).toBe(BOB);
    expect(decide(all.slice(4), msg("pie"))).toBe("all-messages");
    expect(decide([], msg("pie"))).toBe(".m.rule.message");
  });

  it("a room rule applies to its room only, and a sender rule to its sender only", () => {
    expect(decide([roomRule], msg("x", { room_id: "!other:example.org" }))).toBe(".m.rule.message");
    expect(decide([senderRule], msg("x", { sender: "@carol:example.org" }))).toBe(".m.rule.message");
  });

  it("user rules come before the server-default rules of their kind", () => {
    // A user override beats .m.rule.suppress_notices; a user underride beats .m.rule.message.
    const notice = msg("x", { content: { msgtype: "m.notice", body: "x" } });
    expect(decide([overrideRule("mine", ["notify"])], notice)).toBe("mine");
    expect(decide([underrideRule], msg("x"))).toBe("all-messages");
    // A user content rule beats .m.rule.contains_user_name.
    expect(decide([contentRule("c", "alice")], msg("hi alice"))).toBe("c");
  });

  it("but .m.rule.master, once enabled, comes before the user's own overrides", () => {
    const master = [{ kind: "override" as const, ruleId: ".m.rule.master", enabled: true }];
    expect(decide([overrideRule("mine", ["notify"])], msg("x"), master)).toBe(".m.rule.master");
  });

  it("within a kind, the order given (most important first) decides", () => {
    expect(decide([contentRule("tea", "tea"), contentRule("time", "time")], msg("It's time for tea"))).toBe("tea");
    expect(decide([contentRule("time", "time"), contentRule("tea", "tea")], msg("It's time for tea"))).toBe("time");
  });

  it("disabled rules never match, user-defined or server-default", () => {
    expect(decide([overrideRule("off", [], { enabled: false })], msg("x"))).toBe(".m.rule.message");
    expect(decide([], msg("x"), [{ kind: "underride", ruleId: ".m.rule.message", enabled: false }])).toBeUndefined();
  });

  it("a server-default rule's changed actions are used", () => {
    const outcome = evaluatePushRules(buildRuleset(ALICE, [], [{ kind: "underride", ruleId: ".m.rule.message", actions: ["notify", { set_tweak: "sound", value: "x" }] }]), msg("x"), ctx);
    expect(outcome).toMatchObject({ ruleId: ".m.rule.message", notify: true, sound: "x", highlight: false });
  });

  it("the legacy mention rules step aside for events with m.mentions, but user rules don't", () => {
    const mentions = msg("hi alice", { content: { body: "hi alice", "m.mentions": {} } });
    expect(decide([], mentions)).toBe(".m.rule.message");
    expect(decide([contentRule("mine", "alice")], mentions)).toBe("mine");
  });

  it("takes events in the client format as /sync serves them, ignoring their per-viewer unsigned", () => {
    const event: ClientEvent = {
      event_id: "$e",
      room_id: ROOM,
      sender: BOB,
      type: "m.room.message",
      content: { msgtype: "m.text", body: "hi" },
      origin_server_ts: 1,
      unsigned: { age: 5, transaction_id: "txn" },
    };
    const byTxn: UserPushRule = overrideRule("txn", ["notify"], { conditions: [{ kind: "event_match", key: "unsigned.transaction_id", pattern: "txn" }] });
    expect(evaluatePushRules(buildRuleset(ALICE, [byTxn], []), event, ctx)?.ruleId).toBe(".m.rule.message");
  });

  it("an empty ruleset notifies nothing", () => {
    expect(evaluatePushRules({ override: [], content: [], room: [], sender: [], underride: [] }, msg("x"), ctx)).toBeUndefined();
  });

  it("the spec's example: beer in rooms of at most 10 members", () => {
    const beer: UserPushRule = {
      kind: "override",
      ruleId: "U2VlIHlvdSBpbiBUaGUgRHVrZQ",
      enabled: true,
      conditions: [
        { kind: "event_match", key: "content.body", pattern: "beer" },
        { kind: "room_member_count", is: "<=10" },
      ],
      actions: ["notify", { set_tweak: "sound", value: "beeroclock.wav" }],
    };
    const ruleset = buildRuleset(ALICE, [beer], []);
    expect(evaluatePushRules(ruleset, msg("beer?"), { ...ctx, memberCount: 10 })?.sound).toBe("beeroclock.wav");
    expect(evaluatePushRules(ruleset, msg("beer?"), { ...ctx, memberCount: 11 })?.ruleId).toBe(".m.rule.message");
    expect(evaluatePushRules(ruleset, msg("beers?"), { ...ctx, memberCount: 10 })?.ruleId).toBe(".m.rule.message");
  });
});

describe("outcomes", () => {
  const rule = (actions: UserPushRule["actions"]) => outcomeOf("override", userRuleToWire(overrideRule("r", actions)));

  it("notify, sound and highlight", () => {
    expect(rule(["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight" }])).toEqual({
      kind: "override",
      ruleId: "r",
      actions: ["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight" }],
      notify: true,
      highlight: true,
      sound: "default",
      tweaks: { sound: "default", highlight: true },
    });
  });

  it("highlight is false when not set or set to anything but true", () => {
    expect(rule(["notify"]).highlight).toBe(false);
    expect(rule([{ set_tweak: "highlight", value: false }]).highlight).toBe(false);
    expect(rule([{ set_tweak: "highlight", value: "yes" }]).highlight).toBe(false);
    expect(rule([{ set_tweak: "highlight", value: true }]).highlight).toBe(true);
  });

  it("no notify without the action; unknown tweaks pass through; the historical actions are dropped", () => {
    const out = rule(["dont_notify", "coalesce", { set_tweak: "org.example.led", value: "blue" }]);
    expect(out.notify).toBe(false);
    expect(out.actions).toEqual([{ set_tweak: "org.example.led", value: "blue" }]);
    expect(out.tweaks).toEqual({ "org.example.led": "blue" });
    expect(out.sound).toBeUndefined();
    expect(rule(["dont_notify"]).actions).toEqual([]);
  });
});

describe("building a ruleset", () => {
  it("puts master first, then the user's overrides, then the other defaults; user rules first elsewhere", () => {
    const rs = buildRuleset(ALICE, [overrideRule("o1", []), overrideRule("o2", []), contentRule("c", "x"), roomRule, senderRule, underrideRule], []);
    expect(rs.override.slice(0, 4).map((r) => r.rule_id)).toEqual([".m.rule.master", "o1", "o2", ".m.rule.suppress_notices"]);
    expect(rs.content.map((r) => r.rule_id)).toEqual(["c", ".m.rule.contains_user_name"]);
    expect(rs.room.map((r) => r.rule_id)).toEqual([ROOM]);
    expect(rs.sender.map((r) => r.rule_id)).toEqual([BOB]);
    expect(rs.underride[0]!.rule_id).toBe("all-messages");
    expect(rs.underride.at(-1)!.rule_id).toBe(".m.rule.encrypted");
  });

  it("writes each kind's rules with only that kind's fields", () => {
    expect(userRuleToWire({ kind: "override", ruleId: "o", enabled: false, actions: ["notify"] })).toEqual({ rule_id: "o", default: false, enabled: false, actions: ["notify"], conditions: [] });
    expect(userRuleToWire({ kind: "content", ruleId: "c", enabled: true, actions: [], pattern: "p", conditions: [] })).toEqual({ rule_id: "c", default: false, enabled: true, actions: [], pattern: "p" });
    expect(userRuleToWire({ ...roomRule, pattern: "p", conditions: [] })).toEqual({ rule_id: ROOM, default: false, enabled: true, actions: [] });
    expect(userRuleToWire(senderRule)).toEqual({ rule_id: BOB, default: false, enabled: true, actions: senderRule.actions });
  });

  it("applies changes to server-default rules and ignores changes to rules that no longer exist", () => {
    const rs = buildRuleset(ALICE, [], [
      { kind: "override", ruleId: ".m.rule.master", enabled: true },
      { kind: "underride", ruleId: ".m.rule.call", actions: [] },
      { kind: "override", ruleId: ".m.rule.gone", enabled: false },
      { kind: "override", ruleId: ".m.rule.message", enabled: false },
    ]);
    expect(rs.override[0]).toMatchObject({ rule_id: ".m.rule.master", enabled: true, default: true });
    expect(rs.underride.find((r) => r.rule_id === ".m.rule.call")!.actions).toEqual([]);
    expect(rs.underride.find((r) => r.rule_id === ".m.rule.message")!.enabled).toBe(true);
    expect(rs.override.some((r) => r.rule_id === ".m.rule.gone")).toBe(false);
  });
});

describe("what users may write", () => {
  it("refuses reserved, slashed, empty and misnamed rule ids", () => {
    expect(userRuleIdProblem("override", "mine")).toBeUndefined();
    expect(userRuleIdProblem("override", ".m.rule.master")).toMatch(/reserved/);
    expect(userRuleIdProblem("content", ".anything")).toMatch(/reserved/);
    expect(userRuleIdProblem("override", "a/b")).toMatch(/slash/);
    expect(userRuleIdProblem("override", "a\\b")).toMatch(/slash/);
    expect(userRuleIdProblem("override", "")).toMatch(/empty/);
    expect(userRuleIdProblem("room", ROOM)).toBeUndefined();
    expect(userRuleIdProblem("room", "room")).toMatch(/room id/);
    expect(userRuleIdProblem("sender", BOB)).toBeUndefined();
    expect(userRuleIdProblem("sender", "bob")).toMatch(/user id/);
  });

  it("accepts notify, the historical actions and tweaks only", () => {
    for (const a of ["notify", "dont_notify", "coalesce", { set_tweak: "sound", value: "x" }, { set_tweak: "highlight" }]) expect(isValidAction(a)).toBe(true);
    for (const a of ["notify_all", "", 1, null, [], { value: "x" }, { set_tweak: 1 }]) expect(isValidAction(a)).toBe(false);
    expect(withoutHistoricalActions(["dont_notify", "notify", "coalesce"])).toEqual(["notify"]);
  });
});
