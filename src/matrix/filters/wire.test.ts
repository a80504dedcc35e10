import { describe, expect, it } from "vitest";
import { decodeFilterJson, filterWireSchema, isInlineFilter, parseFilter, parseRoomEventFilter } from "./wire";

const everyRoomEventField = {
  limit: 7,
  types: ["m.room.*"],
  not_types: ["m.room.member"],
  senders: ["@a:x"],
  not_senders: ["@spam:x"],
  rooms: ["!r:x"],
  not_rooms: ["!s:x"],
  contains_url: true,
  lazy_load_members: true,
  include_redundant_members: true,
  unread_thread_notifications: true,
};
const everyRoomEventFieldInternal = {
  limit: 7,
  types: ["m.room.*"],
  notTypes: ["m.room.member"],
  senders: ["@a:x"],
  notSenders: ["@spam:x"],
  rooms: ["!r:x"],
  notRooms: ["!s:x"],
  containsUrl: true,
  lazyLoadMembers: true,
  includeRedundantMembers: true,
  unreadThreadNotifications: true,
};

function ok<T>(r: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(`expected a valid filter: ${r.error}`);
  return r.value;
}

function error(r: { ok: true; value: unknown } | { ok: false; error: string }): string {
  if (r.ok) throw new Error("expected an invalid filter");
  return r.error;
}

describe("parseFilter", () => {
  it("reads the spec's example filter", () => {
    const spec = {
      room: {
        state: { types: ["m.room.*"], not_rooms: ["!726s6s6q:example.com"] },
        timeline: { limit: 10, types: ["m.room.message"], not_rooms: ["!726s6s6q:example.com"], not_senders: ["@spam:example.com"] },
        ephemeral: { types: ["m.receipt", "m.typing"], not_rooms: ["!726s6s6q:example.com"], not_senders: ["@spam:example.com"] },
      },
      presence: { types: ["m.presence"], not_senders: ["@alice:example.com"] },
      event_format: "client",
      event_fields: ["type", "content", "sender"],
    };
    expect(ok(parseFilter(spec))).toStrictEqual({
      eventFields: ["type", "content", "sender"],
      eventFormat: "client",
      presence: { types: ["m.presence"], notSenders: ["@alice:example.com"] },
      room: {
        state: { types: ["m.room.*"], notRooms: ["!726s6s6q:example.com"] },
        timeline: { limit: 10, types: ["m.room.message"], notRooms: ["!726s6s6q:example.com"], notSenders: ["@spam:example.com"] },
        ephemeral: { types: ["m.receipt", "m.typing"], notRooms: ["!726s6s6q:example.com"], notSenders: ["@spam:example.com"] },
      },
    });
  });

  it("maps every field of every section", () => {
    const wire = {
      event_fields: ["content.body"],
      event_format: "federation",
      presence: { limit: 1, types: ["m.presence"], not_types: ["x"], senders: ["@a:x"], not_senders: ["@b:x"] },
      account_data: { limit: 2, types: [], not_types: ["*"], senders: [], not_senders: [] },
      room: {
        rooms: ["!a:x"],
        not_rooms: ["!b:x"],
        include_leave: true,
        ephemeral: everyRoomEventField,
        state: everyRoomEventField,
        timeline: everyRoomEventField,
        account_data: everyRoomEventField,
      },
    };
    expect(ok(parseFilter(wire))).toStrictEqual({
      eventFields: ["content.body"],
      eventFormat: "federation",
      presence: { limit: 1, types: ["m.presence"], notTypes: ["x"], senders: ["@a:x"], notSenders: ["@b:x"] },
      accountData: { limit: 2, types: [], notTypes: ["*"], senders: [], notSenders: [] },
      room: {
        rooms: ["!a:x"],
        notRooms: ["!b:x"],
        includeLeave: true,
        ephemeral: everyRoomEventFieldInternal,
        state: everyRoomEventFieldInternal,
        timeline: everyRoomEventFieldInternal,
        accountData: everyRoomEventFieldInternal,
      },
    });
  });

  it("keeps false flags and leaves absent fields absent", () => {
    expect(ok(parseFilter({}))).toStrictEqual({});
    expect(ok(parseFilter({ room: {} }))).toStrictEqual({ room: {} });
    expect(ok(parseFilter({ room: { include_leave: false, timeline: { contains_url: false, lazy_load_members: false } } }))).toStrictEqual({
      room: { includeLeave: false, timeline: { containsUrl: false, lazyLoadMembers: false } },
    });
  });

  it("tolerates unknown keys at every level and drops them from the internal form", () => {
    const wire = {
      "org.example.top": 1,
      presence: { "org.example": [1] },
      room: { "org.example": true, timeline: { "org.matrix.msc3773.unread_thread_notifications": true, limit: 3, "org.matrix.labels": ["x"] } },
    };
    expect(ok(parseFilter(wire))).toStrictEqual({ presence: {}, room: { timeline: { limit: 3 } } });
    // The wire schema keeps them, so a stored filter comes back as uploaded.
    const kept = filterWireSchema.parse(wire);
    expect(kept).toEqual(wire);
  });

  it.each([
    ["a non-object filter", [], "filter"],
    ["a null filter", null, "filter"],
    ["a string filter", "{}", "filter"],
    ["presence not an object", { presence: "x" }, "presence"],
    ["account_data not an object", { account_data: [] }, "account_data"],
    ["room not an object", { room: 1 }, "room"],
    ["room.timeline not an object", { room: { timeline: "x" } }, "room.timeline"],
    ["room.state null", { room: { state: null } }, "room.state"],
    ["room.ephemeral an array", { room: { ephemeral: [] } }, "room.ephemeral"],
    ["room.account_data a number", { room: { account_data: 1 } }, "room.account_data"],
    ["room.rooms not a list", { room: { rooms: "!r:x" } }, "room.rooms"],
    ["room.not_rooms with a number", { room: { not_rooms: [1] } }, "room.not_rooms.0"],
    ["room.include_leave a string", { room: { include_leave: "true" } }, "room.include_leave"],
    ["types a string", { room: { timeline: { types: "m.room.message" } } }, "room.timeline.types"],
    ["not_types with a number", { room: { state: { not_types: [1] } } }, "room.state.not_types.0"],
    ["senders an object", { presence: { senders: {} } }, "presence.senders"],
    ["not_senders with null", { account_data: { not_senders: [null] } }, "account_data.not_senders.0"],
    ["timeline rooms a string", { room: { timeline: { rooms: "!r:x" } } }, "room.timeline.rooms"],
    ["contains_url a string", { room: { timeline: { contains_url: "true" } } }, "room.timeline.contains_url"],
    ["lazy_load_members a number", { room: { state: { lazy_load_members: 1 } } }, "room.state.lazy_load_members"],
    ["include_redundant_members null", { room: { state: { include_redundant_members: null } } }, "room.state.include_redundant_members"],
    ["unread_thread_notifications a string", { room: { timeline: { unread_thread_notifications: "yes" } } }, "room.timeline.unread_thread_notifications"],
    ["limit zero", { room: { timeline: { limit: 0 } } }, "room.timeline.limit"],
    ["limit negative", { presence: { limit: -1 } }, "presence.limit"],
    ["limit fractional", { room: { ephemeral: { limit: 1.5 } } }, "room.ephemeral.limit"],
    ["limit a string", { room: { timeline: { limit: "10" } } }, "room.timeline.limit"],
    ["limit past safe integers", { room: { timeline: { limit: 2 ** 60 } } }, "room.timeline.limit"],
    ["event_format unknown", { event_format: "other" }, "event_format"],
    ["event_fields a string", { event_fields: "type" }, "event_fields"],
    ["event_fields with a number", { event_fields: ["type", 1] }, "event_fields.1"],
  ])("refuses %s, naming where", (_name, json, where) => {
    expect(error(parseFilter(json))).toMatch(new RegExp(`^${where.replace(/\./g, "\\.")}: `));
  });
});

describe("parseRoomEventFilter", () => {
  it("maps every field", () => {
    expect(ok(parseRoomEventFilter(everyRoomEventField))).toStrictEqual(everyRoomEventFieldInternal);
    expect(ok(parseRoomEventFilter({ "org.example": 1 }))).toStrictEqual({});
  });

  it.each([
    [{ types: "m.room.message" }, "types"],
    [{ limit: 0 }, "limit"],
    [{ contains_url: 1 }, "contains_url"],
    [{ not_rooms: [true] }, "not_rooms.0"],
    [[], "filter"],
  ])("refuses %j", (json, where) => {
    expect(error(parseRoomEventFilter(json))).toMatch(new RegExp(`^${where.replace(/\./g, "\\.")}: `));
  });
});

describe("decodeFilterJson and isInlineFilter", () => {
  it("reads JSON, also when URL-encoded once more", () => {
    expect(ok(decodeFilterJson('{"limit":1}'))).toEqual({ limit: 1 });
    expect(ok(decodeFilterJson(encodeURIComponent('{"types":["m.room.message"]}')))).toEqual({ types: ["m.room.message"] });
    expect(error(decodeFilterJson("{not json"))).toBe("filter is not valid JSON");
    expect(error(decodeFilterJson("%E0%A4%A"))).toBe("filter is not valid JSON");
  });

  it("tells inline filters from filter ids by the leading brace", () => {
    expect(isInlineFilter("{}")).toBe(true);
    expect(isInlineFilter('{"room":{}}')).toBe(true);
    expect(isInlineFilter("%7B%7D")).toBe(true);
    expect(isInlineFilter("%7b%7d")).toBe(true);
    expect(isInlineFilter("0")).toBe(false);
    expect(isInlineFilter("12")).toBe(false);
    expect(isInlineFilter(" {}")).toBe(false);
    expect(isInlineFilter("")).toBe(false);
  });
});
