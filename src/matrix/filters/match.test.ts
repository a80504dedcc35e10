import { describe, expect, it } from "vitest";
import { contentHasUrl, filterAllowsEvent, filterAllowsRoom, filterAllowsRoomEvent, filterBlocksAll, typeMatches } from "./match";
import type { Filter } from "./model";

const msg = { type: "m.room.message", sender: "@a:x", hasUrl: false };

describe("typeMatches", () => {
  it("matches type patterns with * as any run of characters and nothing else special", () => {
    expect(typeMatches("m.room.message", "m.room.message")).toBe(true);
    expect(typeMatches("m.room.message", "m.room.messages")).toBe(false);
    expect(typeMatches("m.room.*", "m.room.message")).toBe(true);
    expect(typeMatches("m.room.*", "m.room.")).toBe(true);
    expect(typeMatches("m.room.*", "m.roomy")).toBe(false);
    expect(typeMatches("*", "anything")).toBe(true);
    expect(typeMatches("*", "")).toBe(true);
    expect(typeMatches("*.message", "m.room.message")).toBe(true);
    expect(typeMatches("*.message", "m.room.messages")).toBe(false);
    expect(typeMatches("m.*.message", "m.room.message")).toBe(true);
    expect(typeMatches("m.*.message", "m.room.member")).toBe(false);
    expect(typeMatches("m.**", "m.x")).toBe(true);
    // '.' and other regex characters are literal.
    expect(typeMatches("m.room.message", "mXroomXmessage")).toBe(false);
    expect(typeMatches("m.room.*", "mXroomXmessage")).toBe(false);
    expect(typeMatches("a+b(c)", "a+b(c)")).toBe(true);
    expect(typeMatches("a+b(c)*", "aab(c)")).toBe(false);
    expect(typeMatches("m.[a-z]*", "m.room")).toBe(false);
    expect(typeMatches("m.[a-z]*", "m.[a-z]room")).toBe(true);
    // Case matters, and a pattern matches the whole type, including across newlines.
    expect(typeMatches("M.room.*", "m.room.message")).toBe(false);
    expect(typeMatches("*x", "a\nx")).toBe(true);
  });
});

describe("filterAllowsEvent", () => {
  it("treats no filter, an empty filter and absent lists as no constraint", () => {
    expect(filterAllowsEvent(undefined, msg)).toBe(true);
    expect(filterAllowsEvent({}, msg)).toBe(true);
    expect(filterAllowsEvent({ limit: 1, lazyLoadMembers: true, includeRedundantMembers: true, unreadThreadNotifications: true }, msg)).toBe(true);
  });

  it("types: an empty list matches nothing, wildcards match, others are excluded", () => {
    expect(filterAllowsEvent({ types: [] }, msg)).toBe(false);
    expect(filterAllowsEvent({ types: ["m.room.message"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ types: ["m.room.member"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ types: ["m.room.member", "m.room.*"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ types: ["org.*"] }, msg)).toBe(false);
  });

  it("not_types wins over types and supports wildcards", () => {
    expect(filterAllowsEvent({ notTypes: ["m.room.message"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ notTypes: ["m.room.member"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ notTypes: ["m.*"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ notTypes: [] }, msg)).toBe(true);
    expect(filterAllowsEvent({ types: ["m.*"], notTypes: ["m.room.message"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ types: ["m.room.message"], notTypes: ["*"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ types: ["m.*"], notTypes: ["m.room.member"] }, msg)).toBe(true);
  });

  it("senders and not_senders compare exactly, not_senders winning", () => {
    expect(filterAllowsEvent({ senders: ["@a:x"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ senders: ["@b:x"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ senders: [] }, msg)).toBe(false);
    expect(filterAllowsEvent({ senders: ["@a:*"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ notSenders: ["@a:x"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ notSenders: ["@b:x"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ senders: ["@a:x"], notSenders: ["@a:x"] }, msg)).toBe(false);
    expect(filterAllowsEvent({ senders: ["@A:x"] }, msg)).toBe(false);
  });

  it("something without a sender fails a senders list and never matches not_senders", () => {
    const tag = { type: "m.tag", hasUrl: false };
    expect(filterAllowsEvent({ senders: ["@a:x"] }, tag)).toBe(false);
    expect(filterAllowsEvent({ notSenders: ["@a:x"] }, tag)).toBe(true);
  });

  it("contains_url true keeps only events with a url, false only those without, absent ignores it", () => {
    const withUrl = { ...msg, hasUrl: true };
    expect(filterAllowsEvent({ containsUrl: true }, msg)).toBe(false);
    expect(filterAllowsEvent({ containsUrl: true }, withUrl)).toBe(true);
    expect(filterAllowsEvent({ containsUrl: false }, msg)).toBe(true);
    expect(filterAllowsEvent({ containsUrl: false }, withUrl)).toBe(false);
    expect(filterAllowsEvent({}, withUrl)).toBe(true);
  });

  it("applies the filter's rooms and not_rooms when the event names its room", () => {
    expect(filterAllowsEvent({ rooms: ["!s:x"] }, msg)).toBe(true);
    expect(filterAllowsEvent({ rooms: ["!s:x"] }, { ...msg, roomId: "!r:x" })).toBe(false);
    expect(filterAllowsEvent({ rooms: ["!r:x"] }, { ...msg, roomId: "!r:x" })).toBe(true);
    expect(filterAllowsEvent({ notRooms: ["!r:x"] }, { ...msg, roomId: "!r:x" })).toBe(false);
  });
});

describe("filterAllowsRoom", () => {
  it("filters rooms with not_rooms winning and an empty rooms list matching none", () => {
    expect(filterAllowsRoom(undefined, "!r:x")).toBe(true);
    expect(filterAllowsRoom({}, "!r:x")).toBe(true);
    expect(filterAllowsRoom({ rooms: ["!r:x"] }, "!r:x")).toBe(true);
    expect(filterAllowsRoom({ rooms: ["!s:x"] }, "!r:x")).toBe(false);
    expect(filterAllowsRoom({ rooms: [] }, "!r:x")).toBe(false);
    expect(filterAllowsRoom({ notRooms: ["!r:x"] }, "!r:x")).toBe(false);
    expect(filterAllowsRoom({ notRooms: ["!s:x"] }, "!r:x")).toBe(true);
    expect(filterAllowsRoom({ rooms: ["!r:x"], notRooms: ["!r:x"] }, "!r:x")).toBe(false);
  });
});

describe("filterAllowsRoomEvent", () => {
  const ev = { ...msg, roomId: "!r:x" };

  it("applies the room-level lists before the section's filter", () => {
    const filter: Filter = { room: { notRooms: ["!r:x"], timeline: { rooms: ["!r:x"] } } };
    expect(filterAllowsRoomEvent(filter, "timeline", ev)).toBe(false);
    expect(filterAllowsRoomEvent({ room: { rooms: ["!s:x"] } }, "state", ev)).toBe(false);
    expect(filterAllowsRoomEvent({ room: { rooms: ["!r:x"] } }, "state", ev)).toBe(true);
  });

  it("uses only the named section's filter, with its own room lists", () => {
    const filter: Filter = { room: { timeline: { types: ["m.room.member"] }, state: { notRooms: ["!r:x"] }, ephemeral: { types: ["m.typing"] } } };
    expect(filterAllowsRoomEvent(filter, "timeline", ev)).toBe(false);
    expect(filterAllowsRoomEvent(filter, "state", ev)).toBe(false);
    expect(filterAllowsRoomEvent(filter, "accountData", ev)).toBe(true);
    expect(filterAllowsRoomEvent(filter, "ephemeral", { type: "m.typing", hasUrl: false, roomId: "!r:x" })).toBe(true);
    expect(filterAllowsRoomEvent(filter, "ephemeral", ev)).toBe(false);
    expect(filterAllowsRoomEvent({ room: { accountData: { notTypes: ["m.tag"] } } }, "accountData", { type: "m.tag", hasUrl: false, roomId: "!r:x" })).toBe(false);
  });

  it("lets everything through without a filter or a room section", () => {
    expect(filterAllowsRoomEvent(undefined, "timeline", ev)).toBe(true);
    expect(filterAllowsRoomEvent({ presence: { types: [] } }, "timeline", ev)).toBe(true);
  });
});

describe("filterBlocksAll", () => {
  it("is true only for filters that can let nothing through", () => {
    expect(filterBlocksAll(undefined)).toBe(false);
    expect(filterBlocksAll({})).toBe(false);
    expect(filterBlocksAll({ types: [] })).toBe(true);
    expect(filterBlocksAll({ senders: [] })).toBe(true);
    expect(filterBlocksAll({ rooms: [] })).toBe(true);
    expect(filterBlocksAll({ notTypes: ["*"] })).toBe(true);
    expect(filterBlocksAll({ notTypes: ["m.room.message", "**"] })).toBe(true);
    expect(filterBlocksAll({ notTypes: ["m.*"] })).toBe(false);
    expect(filterBlocksAll({ types: ["*"], notSenders: ["*"], notRooms: ["*"] })).toBe(false);
    expect(filterBlocksAll({ limit: 1, containsUrl: true })).toBe(false);
  });

  it("agrees with filterAllowsEvent on what it blocks", () => {
    for (const f of [{ types: [] }, { senders: [] }, { notTypes: ["*"] }]) {
      expect(filterAllowsEvent(f, msg)).toBe(false);
    }
    expect(filterAllowsEvent({ rooms: [] }, { ...msg, roomId: "!r:x" })).toBe(false);
  });
});

describe("contentHasUrl", () => {
  it("is true only for a string url in an object", () => {
    expect(contentHasUrl({ url: "mxc://x/y" })).toBe(true);
    expect(contentHasUrl({ url: "" })).toBe(true);
    expect(contentHasUrl({ url: 5 })).toBe(false);
    expect(contentHasUrl({ url: null })).toBe(false);
    expect(contentHasUrl({ file: { url: "mxc://x/y" } })).toBe(false);
    expect(contentHasUrl({})).toBe(false);
    expect(contentHasUrl(null)).toBe(false);
    expect(contentHasUrl(undefined)).toBe(false);
    expect(contentHasUrl("url")).toBe(false);
  });
});
