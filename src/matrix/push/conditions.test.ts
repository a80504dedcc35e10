/** Push rule conditions (spec: Client-Server § Push Rules, Conditions), with the spec's examples. */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../canonical-json";
import type { RoomEvent } from "../events";
import { getRoomVersion } from "../room-versions";
import { conditionMatches, memberCountMatches, type NotificationPowerLookup, type PushContext } from "./conditions";
import { notificationPowerFromState } from "./power-levels";
import type { PushCondition, PushEvent } from "./types";

const ALICE = "@alice:example.org";

function ctx(over: Partial<PushContext> = {}): PushContext {
  return {
    userId: ALICE,
    displayName: "Alice",
    memberCount: 4,
    powerLevels: { senderLevel: () => 0, notificationLevel: () => undefined },
    ...over,
  };
}

const matches = (cond: JsonObject, event: PushEvent, c: PushContext = ctx()) => conditionMatches(cond as PushCondition, event, c);

/** The spec's event_match example. */
const TOPIC_EVENT: PushEvent = {
  content: { topic: "Lunch plans" },
  event_id: "$143273582443PhrSn:example.org",
  room_id: "!636q39766251:example.com",
  sender: "@example:example.org",
  state_key: "",
  type: "m.room.topic",
};
const withTopic = (topic: JsonObject[string]) => ({ ...TOPIC_EVENT, content: { topic } });

describe("event_match", () => {
  const cond = { kind: "event_match", key: "content.topic", pattern: "lunc?*" };

  it("follows the spec's example", () => {
    expect(matches(cond, TOPIC_EVENT)).toBe(true);
    expect(matches(cond, withTopic("LUNCH"))).toBe(true);
    expect(matches(cond, withTopic(" lunch"))).toBe(false);
    expect(matches(cond, withTopic("lunc"))).toBe(false);
    expect(matches(cond, withTopic(null))).toBe(false);
  });

  it("never matches an absent or non-string property, even with `*`", () => {
    const any = { kind: "event_match", key: "content.topic", pattern: "*" };
    expect(matches(any, TOPIC_EVENT)).toBe(true);
    expect(matches(any, { ...TOPIC_EVENT, content: {} })).toBe(false);
    expect(matches(any, withTopic(1))).toBe(false);
    expect(matches(any, withTopic(true))).toBe(false);
    expect(matches(any, withTopic(["Lunch"]))).toBe(false);
    expect(matches(any, withTopic({ text: "Lunch" }))).toBe(false);
  });

  it("matches content.body on words and every other key on the whole value (the spec's `ex*ple`)", () => {
    const body = (b: string, key = "content.body") => matches({ kind: "event_match", key, pattern: "ex*ple" }, { ...TOPIC_EVENT, type: "m.room.message", content: { body: b, other: b } });
    expect(body("An example event.")).toBe(true);
    expect(body("exple")).toBe(true);
    expect(body("An exciting triple-whammy")).toBe(true);
    expect(body("An example event.", "content.other")).toBe(false);
    expect(body("example", "content.other")).toBe(true);
  });

  it("matches top-level keys and dotted names", () => {
    expect(matches({ kind: "event_match", key: "type", pattern: "m.room.*" }, TOPIC_EVENT)).toBe(true);
    expect(matches({ kind: "event_match", key: "state_key", pattern: "" }, TOPIC_EVENT)).toBe(true);
    expect(matches({ kind: "event_match", key: "state_key", pattern: "" }, { ...TOPIC_EVENT, state_key: undefined })).toBe(false);
    const rel = { ...TOPIC_EVENT, content: { "m.relates_to": { rel_type: "m.thread" } } };
    expect(matches({ kind: "event_match", key: "content.m\\.relates_to.rel_type", pattern: "m.thread" }, rel)).toBe(true);
    expect(matches({ kind: "event_match", key: "content.m.relates_to.rel_type", pattern: "m.thread" }, rel)).toBe(false);
  });

  it("never looks at unsigned, which differs per viewer", () => {
    const ev = { ...TOPIC_EVENT, unsigned: { transaction_id: "t1" } };
    expect(matches({ kind: "event_match", key: "unsigned.transaction_id", pattern: "t1" }, ev)).toBe(false);
  });

  it("needs both key and pattern as strings", () => {
    expect(matches({ kind: "event_match", key: "content.topic" }, TOPIC_EVENT)).toBe(false);
    expect(matches({ kind: "event_match", pattern: "*" }, TOPIC_EVENT)).toBe(false);
    expect(matches({ kind: "event_match", key: "content.topic", pattern: 1 }, TOPIC_EVENT)).toBe(false);
  });
});

/** The spec's event_property_is example. */
const CREATE_EVENT: PushEvent = {
  content: { creator: "@example:example.org", "m.federate": true, predecessor: { event_id: "$something:example.org", room_id: "!oldroom:example.org" }, room_version: "1" },
  event_id: "$143273582443PhrSn:example.org",
  room_id: "!636q39766251:example.com",
  sender: "@example:example.org",
  state_key: "",
  type: "m.room.create",
};
const withFederate = (v: JsonObject[string]) => ({ ...CREATE_EVENT, content: { ...CREATE_EVENT.content, "m.federate": v } });

describe("event_property_is", () => {
  const cond = { kind: "event_property_is", key: "content.m\\.federate", value: true };

  it("follows the spec's example", () => {
    expect(matches(cond, CREATE_EVENT)).toBe(true);
    expect(matches(cond, withFederate("true"))).toBe(false);
    expect(matches(cond, withFederate(1))).toBe(false);
  });

  it("compares strings, integers, booleans and null exactly, without casting", () => {
    const is = (value: JsonObject[string], actual: JsonObject[string]) => matches({ kind: "event_property_is", key: "content.m\\.federate", value }, withFederate(actual));
    expect(is("m.replace", "m.replace")).toBe(true);
    expect(is("m.replace", "M.REPLACE")).toBe(false);
    expect(is("m.*", "m.replace")).toBe(false);
    expect(is(42, 42)).toBe(true);
    expect(is(42, "42")).toBe(false);
    expect(is(0, false)).toBe(false);
    expect(is(null, null)).toBe(true);
    expect(is(null, false)).toBe(false);
    expect(is(false, false)).toBe(true);
    expect(is(-(2 ** 53) + 1, -(2 ** 53) + 1)).toBe(true);
  });

  it("never matches compound values, non-integers or an absent property", () => {
    const is = (value: JsonObject[string], actual: JsonObject[string]) => matches({ kind: "event_property_is", key: "content.m\\.federate", value }, withFederate(actual));
    expect(is(1.5, 1.5)).toBe(false);
    expect(is(2 ** 53, 2 ** 53)).toBe(false);
    expect(is(["a"], ["a"])).toBe(false);
    expect(is({ a: 1 }, { a: 1 })).toBe(false);
    expect(matches({ kind: "event_property_is", key: "content.absent", value: null }, CREATE_EVENT)).toBe(false);
    expect(matches({ kind: "event_property_is", key: "content.m\\.federate" }, CREATE_EVENT)).toBe(false);
  });
});

/** The spec's event_property_contains example. */
const ALIAS_EVENT: PushEvent = {
  content: { alias: "#somewhere:localhost", alt_aliases: ["#somewhere:example.org", "#myroom:example.com"] },
  event_id: "$143273582443PhrSn:example.org",
  origin_server_ts: 1432735824653,
  room_id: "!jEsUZKDJdhlrceRyVU:example.org",
  sender: "@example:example.org",
  state_key: "",
  type: "m.room.canonical_alias",
  unsigned: { age: 1234 },
};

describe("event_property_contains", () => {
  const contains = (value: JsonObject[string], list: JsonObject[string] = ALIAS_EVENT.content.alt_aliases!) =>
    matches({ kind: "event_property_contains", key: "content.alt_aliases", value }, { ...ALIAS_EVENT, content: { alt_aliases: list } });

  it("follows the spec's example", () => {
    expect(contains("#myroom:example.com")).toBe(true);
    expect(contains(":example.com")).toBe(false);
  });

  it("compares each element exactly and skips compound elements", () => {
    expect(contains(1, [["x"], { a: 1 }, "1", 1])).toBe(true);
    expect(contains(1, ["1", true])).toBe(false);
    expect(contains(null, [null])).toBe(true);
    expect(contains(true, [1])).toBe(false);
    expect(contains("#MYROOM:example.com")).toBe(false);
  });

  it("never matches a property that is not an array, or a compound value", () => {
    expect(contains("#myroom:example.com", "#myroom:example.com")).toBe(false);
    expect(contains("#myroom:example.com", { 0: "#myroom:example.com" })).toBe(false);
    expect(contains(["#myroom:example.com"], [["#myroom:example.com"]])).toBe(false);
    expect(matches({ kind: "event_property_contains", key: "content.absent", value: "x" }, ALIAS_EVENT)).toBe(false);
  });
});

describe("contains_display_name", () => {
  const msg = (body: JsonObject[string]): PushEvent => ({ type: "m.room.message", sender: "@b:x", room_id: "!r:x", content: { msgtype: "m.text", body } });
  const cond = { kind: "contains_display_name" };

  it("matches the owner's display name as whole words of the body, case-insensitively", () => {
    expect(matches(cond, msg("hi alice!"), ctx({ displayName: "Alice" }))).toBe(true);
    expect(matches(cond, msg("ALICE"), ctx({ displayName: "Alice" }))).toBe(true);
    expect(matches(cond, msg("hi Alicia"), ctx({ displayName: "Alice" }))).toBe(false);
    expect(matches(cond, msg("is Alice Liddell in?"), ctx({ displayName: "Alice Liddell" }))).toBe(true);
    expect(matches(cond, msg("Alice and Liddell"), ctx({ displayName: "Alice Liddell" }))).toBe(false);
  });

  it("takes the name literally, not as a glob", () => {
    expect(matches(cond, msg("hey A* there"), ctx({ displayName: "A*" }))).toBe(true);
    expect(matches(cond, msg("hey Abc there"), ctx({ displayName: "A*" }))).toBe(false);
  });

  it("never matches without a name, or without a string body", () => {
    expect(matches(cond, msg("anything"), ctx({ displayName: "" }))).toBe(false);
    expect(matches(cond, msg("anything"), ctx({ displayName: null }))).toBe(false);
    expect(matches(cond, msg("anything"), ctx({ displayName: undefined }))).toBe(false);
    expect(matches(cond, msg(["Alice"]), ctx({ displayName: "Alice" }))).toBe(false);
  });
});

describe("room_member_count", () => {
  it.each([
    ["2", 2, true],
    ["2", 3, false],
    ["==2", 2, true],
    ["==2", 1, false],
    ["<3", 2, true],
    ["<3", 3, false],
    [">3", 4, true],
    [">3", 3, false],
    ["<=3", 3, true],
    ["<=3", 4, false],
    [">=3", 3, true],
    [">=3", 2, false],
    ["10", 10, true],
  ] as const)("%s with %i members: %s", (is, count, expected) => {
    expect(memberCountMatches(is, count)).toBe(expected);
    expect(matches({ kind: "room_member_count", is }, TOPIC_EVENT, ctx({ memberCount: count }))).toBe(expected);
  });

  it.each(["", "=2", "!=2", "2.0", " 2", "2 ", "-2", "<>2", "two", "=<2"])("never matches the malformed %j", (is) => {
    for (const count of [-2, 0, 1, 2, 3]) expect(memberCountMatches(is, count)).toBe(false);
  });

  it("needs `is` as a string", () => {
    expect(matches({ kind: "room_member_count", is: 2 }, TOPIC_EVENT, ctx({ memberCount: 2 }))).toBe(false);
    expect(matches({ kind: "room_member_count" }, TOPIC_EVENT, ctx({ memberCount: 2 }))).toBe(false);
  });
});

describe("sender_notification_permission", () => {
  const levels = (sender: number, notifications: Record<string, number> = {}): NotificationPowerLookup => ({
    senderLevel: () => sender,
    notificationLevel: (key) => notifications[key],
  });
  const perm = (key: JsonObject[string], lookup: NotificationPowerLookup) => matches({ kind: "sender_notification_permission", key }, TOPIC_EVENT, ctx({ powerLevels: lookup }));

  it("compares the sender's level with notifications[key], 50 when unset", () => {
    expect(perm("room", levels(50))).toBe(true);
    expect(perm("room", levels(49))).toBe(false);
    expect(perm("room", levels(50, { room: 51 }))).toBe(false);
    expect(perm("room", levels(0, { room: 0 }))).toBe(true);
    expect(perm("room", levels(-1, { room: 0 }))).toBe(false);
    expect(perm("org.example.other", levels(50))).toBe(true);
    expect(perm("org.example.other", levels(10, { "org.example.other": 10 }))).toBe(true);
  });

  it("needs a key, and only looks up power levels when asked", () => {
    let asked = 0;
    const counting: NotificationPowerLookup = { senderLevel: () => (asked++, 100), notificationLevel: () => undefined };
    expect(perm(1, counting)).toBe(false);
    expect(matches({ kind: "event_match", key: "type", pattern: "*" }, TOPIC_EVENT, ctx({ powerLevels: counting }))).toBe(true);
    expect(asked).toBe(0);
  });

  describe("from room state", () => {
    const create = (version: string, sender: string, content: JsonObject = {}): RoomEvent =>
      ({ event_id: "$c", room_id: "!r:x", sender, type: "m.room.create", state_key: "", content: { room_version: version, ...content }, prev_events: [], auth_events: [], depth: 1, origin_server_ts: 0 }) as RoomEvent;

    it("reads users, users_default and notifications", () => {
      const v10 = getRoomVersion("10")!;
      const pl = { users: { "@mod:x": 50, "@admin:x": 100 }, users_default: 10, notifications: { room: 100 } };
      const admin = notificationPowerFromState(pl, create("10", "@admin:x", { creator: "@admin:x" }), v10, "@admin:x");
      const mod = notificationPowerFromState(pl, create("10", "@admin:x", { creator: "@admin:x" }), v10, "@mod:x");
      const other = notificationPowerFromState(pl, create("10", "@admin:x", { creator: "@admin:x" }), v10, "@other:x");
      expect([admin.senderLevel(), mod.senderLevel(), other.senderLevel()]).toEqual([100, 50, 10]);
      expect(admin.notificationLevel("room")).toBe(100);
      expect(admin.notificationLevel("other")).toBeUndefined();
      expect(perm("room", admin)).toBe(true);
      expect(perm("room", mod)).toBe(false);
    });

    it("gives the creator 100 without a power levels event (v1–11), and v12 creators infinite power", () => {
      const v11 = getRoomVersion("11")!;
      expect(notificationPowerFromState(undefined, create("11", "@c:x"), v11, "@c:x").senderLevel()).toBe(100);
      expect(notificationPowerFromState(undefined, create("11", "@c:x"), v11, "@d:x").senderLevel()).toBe(0);
      const v12 = getRoomVersion("12")!;
      const creator = notificationPowerFromState({ users: {}, notifications: { room: 1000 } }, create("12", "@c:x"), v12, "@c:x");
      expect(creator.senderLevel()).toBe(Infinity);
      expect(perm("room", creator)).toBe(true);
    });
  });
});

describe("unknown conditions", () => {
  it("never match", () => {
    expect(matches({ kind: "org.example.always" }, TOPIC_EVENT)).toBe(false);
    expect(matches({ kind: "related_event_match", rel_type: "m.in_reply_to" }, TOPIC_EVENT)).toBe(false);
    expect(matches({ key: "type", pattern: "*" }, TOPIC_EVENT)).toBe(false);
    expect(matches({ kind: 1 }, TOPIC_EVENT)).toBe(false);
  });
});
