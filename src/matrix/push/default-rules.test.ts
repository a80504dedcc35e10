/**
 * The server-default push rules against the spec's own definitions, and a table of events →
 * the default rule that decides them.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../canonical-json";
import type { PushContext } from "./conditions";
import { defaultRule, defaultRules, LEGACY_MENTION_RULE_IDS, localpartOf } from "./default-rules";
import { evaluatePushRules } from "./evaluate";
import { buildRuleset } from "./ruleset";
import { PUSH_RULE_KINDS, type PushEvent, type PushRule } from "./types";

const ALICE = "@alice:example.org";
const USER_ID = "[the user's Matrix ID]";
const LOCALPART = "[the local part of the user's Matrix ID]";

/**
 * The definitions in content/client-server-api/modules/push.md (matrix-spec
 * d0ba2aaef801e0134a4e5c6054a2c2f41bb55531), copied verbatim, in the spec's order.
 */
const SPEC_OVERRIDE: PushRule[] = [
  { rule_id: ".m.rule.master", default: true, enabled: false, conditions: [], actions: [] },
  { rule_id: ".m.rule.suppress_notices", default: true, enabled: true, conditions: [{ kind: "event_match", key: "content.msgtype", pattern: "m.notice" }], actions: [] },
  {
    rule_id: ".m.rule.invite_for_me",
    default: true,
    enabled: true,
    conditions: [
      { key: "type", kind: "event_match", pattern: "m.room.member" },
      { key: "content.membership", kind: "event_match", pattern: "invite" },
      { key: "state_key", kind: "event_match", pattern: USER_ID },
    ],
    actions: ["notify", { set_tweak: "sound", value: "default" }],
  },
  { rule_id: ".m.rule.member_event", default: true, enabled: true, conditions: [{ key: "type", kind: "event_match", pattern: "m.room.member" }], actions: [] },
  {
    rule_id: ".m.rule.is_user_mention",
    default: true,
    enabled: true,
    conditions: [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: USER_ID }],
    actions: ["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight" }],
  },
  {
    rule_id: ".m.rule.is_room_mention",
    default: true,
    enabled: true,
    conditions: [
      { kind: "event_property_is", key: "content.m\\.mentions.room", value: true },
      { kind: "sender_notification_permission", key: "room" },
    ],
    actions: ["notify", { set_tweak: "highlight" }],
  },
  {
    rule_id: ".m.rule.tombstone",
    default: true,
    enabled: true,
    conditions: [
      { kind: "event_match", key: "type", pattern: "m.room.tombstone" },
      { kind: "event_match", key: "state_key", pattern: "" },
    ],
    actions: ["notify", { set_tweak: "highlight" }],
  },
  { rule_id: ".m.rule.reaction", default: true, enabled: true, conditions: [{ kind: "event_match", key: "type", pattern: "m.reaction" }], actions: [] },
  {
    rule_id: ".m.rule.room.server_acl",
    default: true,
    enabled: true,
    conditions: [
      { kind: "event_match", key: "type", pattern: "m.room.server_acl" },
      { kind: "event_match", key: "state_key", pattern: "" },
    ],
    actions: [],
  },
  {
    rule_id: ".m.rule.suppress_edits",
    default: true,
    enabled: true,
    conditions: [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }],
    actions: [],
  },
];

const SPEC_UNDERRIDE: PushRule[] = [
  { rule_id: ".m.rule.call", default: true, enabled: true, conditions: [{ key: "type", kind: "event_match", pattern: "m.call.invite" }], actions: ["notify", { set_tweak: "sound", value: "ring" }] },
  {
    rule_id: ".m.rule.encrypted_room_one_to_one",
    default: true,
    enabled: true,
    conditions: [
      { kind: "room_member_count", is: "2" },
      { kind: "event_match", key: "type", pattern: "m.room.encrypted" },
    ],
    actions: ["notify", { set_tweak: "sound", value: "default" }],
  },
  {
    rule_id: ".m.rule.room_one_to_one",
    default: true,
    enabled: true,
    conditions: [
      { kind: "room_member_count", is: "2" },
      { kind: "event_match", key: "type", pattern: "m.room.message" },
    ],
    actions: ["notify", { set_tweak: "sound", value: "default" }],
  },
  { rule_id: ".m.rule.message", default: true, enabled: true, conditions: [{ kind: "event_match", key: "type", pattern: "m.room.message" }], actions: ["notify"] },
  { rule_id: ".m.rule.encrypted", default: true, enabled: true, conditions: [{ kind: "event_match", key: "type", pattern: "m.room.encrypted" }], actions: ["notify"] },
];

/** The legacy rules as push.md defined them before v1.17 removed them (parent of matrix-spec 2aacc1fe). */
const SPEC_LEGACY_CONTAINS_DISPLAY_NAME: PushRule = {
  rule_id: ".m.rule.contains_display_name",
  default: true,
  enabled: true,
  conditions: [{ kind: "contains_display_name" }],
  actions: ["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight" }],
};
const SPEC_LEGACY_ROOMNOTIF: PushRule = {
  rule_id: ".m.rule.roomnotif",
  default: true,
  enabled: true,
  conditions: [
    { kind: "event_match", key: "content.body", pattern: "@room" },
    { kind: "sender_notification_permission", key: "room" },
  ],
  actions: ["notify", { set_tweak: "highlight" }],
};
const SPEC_LEGACY_CONTAINS_USER_NAME: PushRule = {
  rule_id: ".m.rule.contains_user_name",
  default: true,
  enabled: true,
  pattern: LOCALPART,
  actions: ["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight" }],
};

/** Fills the spec's placeholders in for one user. */
function forUser(rules: PushRule[], userId: string): PushRule[] {
  const text = JSON.stringify(rules).replaceAll(USER_ID, userId).replaceAll(LOCALPART, localpartOf(userId));
  return JSON.parse(text) as PushRule[];
}

describe("default rules", () => {
  it("are the spec's definitions, in the spec's order, with the legacy rules at their v1.7–v1.16 places", () => {
    const rules = defaultRules(ALICE);
    const override = [...SPEC_OVERRIDE];
    override.splice(5, 0, SPEC_LEGACY_CONTAINS_DISPLAY_NAME);
    override.splice(7, 0, SPEC_LEGACY_ROOMNOTIF);
    expect(rules.override).toEqual(forUser(override, ALICE));
    expect(rules.content).toEqual(forUser([SPEC_LEGACY_CONTAINS_USER_NAME], ALICE));
    expect(rules.room).toEqual([]);
    expect(rules.sender).toEqual([]);
    expect(rules.underride).toEqual(forUser(SPEC_UNDERRIDE, ALICE));
    expect(rules.override.map((r) => r.rule_id)).toEqual([
      ".m.rule.master",
      ".m.rule.suppress_notices",
      ".m.rule.invite_for_me",
      ".m.rule.member_event",
      ".m.rule.is_user_mention",
      ".m.rule.contains_display_name",
      ".m.rule.is_room_mention",
      ".m.rule.roomnotif",
      ".m.rule.tombstone",
      ".m.rule.reaction",
      ".m.rule.room.server_acl",
      ".m.rule.suppress_edits",
    ]);
  });

  it("name the user in their conditions", () => {
    const bob = defaultRules("@bob:other.example");
    expect(bob.override.find((r) => r.rule_id === ".m.rule.invite_for_me")!.conditions![2]).toEqual({ key: "state_key", kind: "event_match", pattern: "@bob:other.example" });
    expect(bob.override.find((r) => r.rule_id === ".m.rule.is_user_mention")!.conditions![0]!.value).toBe("@bob:other.example");
    expect(bob.content[0]!.pattern).toBe("bob");
    expect(localpartOf("@a.b_c=d:server:8448")).toBe("a.b_c=d");
  });

  it("are fresh copies, so changing one ruleset never changes another", () => {
    const a = defaultRules(ALICE);
    a.override[0]!.enabled = true;
    (a.underride[0]!.actions as unknown[]).push("x");
    expect(defaultRules(ALICE).override[0]!.enabled).toBe(false);
    expect(defaultRules(ALICE).underride[0]!.actions).toEqual(["notify", { set_tweak: "sound", value: "ring" }]);
  });

  it("can be found by kind and id, and only in their own kind", () => {
    expect(defaultRule(ALICE, "underride", ".m.rule.message")?.rule_id).toBe(".m.rule.message");
    expect(defaultRule(ALICE, "override", ".m.rule.message")).toBeUndefined();
    expect(defaultRule(ALICE, "content", ".m.rule.contains_user_name")?.pattern).toBe("alice");
    expect(defaultRule(ALICE, "override", ".m.rule.nonexistent")).toBeUndefined();
  });

  it("mark exactly the three legacy mention rules as legacy", () => {
    expect([...LEGACY_MENTION_RULE_IDS].sort()).toEqual([".m.rule.contains_display_name", ".m.rule.contains_user_name", ".m.rule.roomnotif"]);
  });
});

// Evaluation of the default ruleset.

const ROOM = "!room:example.org";
const BOB = "@bob:example.org";

function event(type: string, content: JsonObject, extra: Partial<PushEvent> = {}): PushEvent {
  return { type, content, sender: BOB, room_id: ROOM, event_id: "$e", origin_server_ts: 1, ...extra };
}
const text = (body: string, more: JsonObject = {}) => event("m.room.message", { msgtype: "m.text", body, ...more });

interface Facts {
  members?: number;
  senderLevel?: number;
  roomLevel?: number;
  displayName?: string | null;
}

function context(f: Facts = {}): PushContext {
  return {
    userId: ALICE,
    displayName: f.displayName === undefined ? "Alice Liddell" : f.displayName,
    memberCount: f.members ?? 5,
    powerLevels: { senderLevel: () => f.senderLevel ?? 0, notificationLevel: (key) => (key === "room" ? f.roomLevel : undefined) },
  };
}

const SOUND = { set_tweak: "sound", value: "default" };
const RING = { set_tweak: "sound", value: "ring" };
const HIGHLIGHT = { set_tweak: "highlight" };

/** [what, event, facts, expected rule id (undefined: nothing matches), its actions]. */
const TABLE: [string, PushEvent, Facts, string | undefined, unknown[]?][] = [
  ["a notice, even one naming the user", text("alice", { msgtype: "m.notice" }), {}, ".m.rule.suppress_notices", []],
  ["an invite for the user", event("m.room.member", { membership: "invite" }, { state_key: ALICE }), {}, ".m.rule.invite_for_me", ["notify", SOUND]],
  ["an invite for someone else", event("m.room.member", { membership: "invite" }, { state_key: "@carol:example.org" }), {}, ".m.rule.member_event", []],
  ["a join", event("m.room.member", { membership: "join" }, { state_key: BOB }), {}, ".m.rule.member_event", []],
  ["an m.mentions mention of the user", text("hi", { "m.mentions": { user_ids: [ALICE] } }), {}, ".m.rule.is_user_mention", ["notify", SOUND, HIGHLIGHT]],
  ["an m.mentions mention of someone else", text("hi", { "m.mentions": { user_ids: ["@carol:example.org"] } }), {}, ".m.rule.message", ["notify"]],
  ["the display name in a body without m.mentions", text("is Alice Liddell here?"), {}, ".m.rule.contains_display_name", ["notify", SOUND, HIGHLIGHT]],
  ["the display name in a body with m.mentions (legacy rule off)", text("is Alice Liddell here?", { "m.mentions": {} }), {}, ".m.rule.message", ["notify"]],
  ["a room mention from a sender with the level", text("all", { "m.mentions": { room: true } }), { senderLevel: 50 }, ".m.rule.is_room_mention", ["notify", HIGHLIGHT]],
  ["a room mention from a sender without it", text("all", { "m.mentions": { room: true } }), { senderLevel: 49 }, ".m.rule.message", ["notify"]],
  ["a room mention when notifications.room is raised", text("all", { "m.mentions": { room: true } }), { senderLevel: 50, roomLevel: 51 }, ".m.rule.message", ["notify"]],
  ["a room mention that is not true", text("all", { "m.mentions": { room: "true" } }), { senderLevel: 100 }, ".m.rule.message", ["notify"]],
  ["@room in a body without m.mentions, sender allowed", text("@room lunch!"), { senderLevel: 100 }, ".m.rule.roomnotif", ["notify", HIGHLIGHT]],
  ["@room in a body without m.mentions, sender not allowed", text("@room lunch!"), { senderLevel: 0 }, ".m.rule.message", ["notify"]],
  ["@room in a body with m.mentions (legacy rule off)", text("@room lunch!", { "m.mentions": {} }), { senderLevel: 100 }, ".m.rule.message", ["notify"]],
  ["a tombstone", event("m.room.tombstone", { body: "moved", replacement_room: "!new:x" }, { state_key: "" }), {}, ".m.rule.tombstone", ["notify", HIGHLIGHT]],
  ["a tombstone-typed event with a state key", event("m.room.tombstone", {}, { state_key: "x" }), {}, undefined],
  ["a tombstone-typed message event (no state key)", event("m.room.tombstone", {}), {}, undefined],
  ["a reaction", event("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: "$x", key: "👍" } }), {}, ".m.rule.reaction", []],
  ["a server ACL change", event("m.room.server_acl", { allow: ["*"] }, { state_key: "" }), {}, ".m.rule.room.server_acl", []],
  ["an edit", text("* fixed", { "m.relates_to": { rel_type: "m.replace", event_id: "$x" }, "m.new_content": { body: "fixed" } }), { members: 2 }, ".m.rule.suppress_edits", []],
  [
    "an edit that mentions the user",
    text("* hi", { "m.relates_to": { rel_type: "m.replace", event_id: "$x" }, "m.mentions": { user_ids: [ALICE] } }),
    {},
    ".m.rule.is_user_mention",
    ["notify", SOUND, HIGHLIGHT],
  ],
  ["the localpart as a word, without m.mentions", text("ping alice, please"), { displayName: "Someone Else" }, ".m.rule.contains_user_name", ["notify", SOUND, HIGHLIGHT]],
  ["the localpart inside a word", text("ping alicebot"), { displayName: "Someone Else" }, ".m.rule.message", ["notify"]],
  ["the localpart with m.mentions (legacy rule off)", text("ping alice", { "m.mentions": {} }), { displayName: "Someone Else" }, ".m.rule.message", ["notify"]],
  ["a call invite", event("m.call.invite", { call_id: "c", version: 1 }), {}, ".m.rule.call", ["notify", RING]],
  ["an encrypted event in a 1:1 room", event("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2" }), { members: 2 }, ".m.rule.encrypted_room_one_to_one", ["notify", SOUND]],
  ["an encrypted event in a group room", event("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2" }), { members: 3 }, ".m.rule.encrypted", ["notify"]],
  ["a message in a 1:1 room", text("hello"), { members: 2 }, ".m.rule.room_one_to_one", ["notify", SOUND]],
  ["a message in a group room", text("hello"), { members: 3 }, ".m.rule.message", ["notify"]],
  ["an unknown event type", event("org.example.thing", { body: "hello" }), {}, undefined],
  ["a topic change", event("m.room.topic", { topic: "x" }, { state_key: "" }), {}, undefined],
];

describe("the default ruleset decides", () => {
  const ruleset = buildRuleset(ALICE, [], []);
  it.each(TABLE)("%s", (_what, ev, facts, ruleId, actions) => {
    const outcome = evaluatePushRules(ruleset, ev, context(facts));
    expect(outcome?.ruleId).toBe(ruleId);
    if (ruleId !== undefined) expect(outcome!.actions).toEqual(actions);
  });

  it("covers every default rule in the table", () => {
    const decided = new Set(TABLE.map((row) => row[3]));
    const all = PUSH_RULE_KINDS.flatMap((k) => ruleset[k].map((r) => r.rule_id));
    // The master rule is off by default; it has its own test.
    expect(all.filter((id) => id !== ".m.rule.master" && !decided.has(id))).toEqual([]);
  });

  it("with the master rule enabled, nothing notifies", () => {
    const muted = buildRuleset(ALICE, [], [{ kind: "override", ruleId: ".m.rule.master", enabled: true }]);
    for (const [, ev, facts] of TABLE) {
      const outcome = evaluatePushRules(muted, ev, context(facts));
      expect(outcome?.ruleId).toBe(".m.rule.master");
      expect(outcome?.notify).toBe(false);
      expect(outcome?.actions).toEqual([]);
    }
  });
});
