import { describe, expect, it } from "vitest";
import { filterAllowsEvent, filterAllowsRoom, typeMatches } from "./event-filter";

describe("RoomEventFilter matching", () => {
  it("matches type patterns with * as any run of characters and nothing else special", () => {
    expect(typeMatches("m.room.message", "m.room.message")).toBe(true);
    expect(typeMatches("m.room.message", "m.room.messages")).toBe(false);
    expect(typeMatches("m.room.*", "m.room.message")).toBe(true);
    expect(typeMatches("m.room.*", "m.roomy")).toBe(false);
    expect(typeMatches("*", "anything")).toBe(true);
    expect(typeMatches("m.*.message", "m.room.message")).toBe(true);
    // '.' is literal, not a regex wildcard.
    expect(typeMatches("m.room.message", "mXroomXmessage")).toBe(false);
    expect(typeMatches("a+b(c)", "a+b(c)")).toBe(true);
  });

  it("lets not_* lists win over the positive lists, and treats absent lists as no constraint", () => {
    const ev = { type: "m.room.message", sender: "@a:x", hasUrl: false };
    expect(filterAllowsEvent(undefined, ev)).toBe(true);
    expect(filterAllowsEvent({}, ev)).toBe(true);
    expect(filterAllowsEvent({ types: [] }, ev)).toBe(false);
    expect(filterAllowsEvent({ types: ["m.*"], notTypes: ["m.room.message"] }, ev)).toBe(false);
    expect(filterAllowsEvent({ senders: ["@a:x"], notSenders: ["@a:x"] }, ev)).toBe(false);
    expect(filterAllowsEvent({ senders: ["@b:x"] }, ev)).toBe(false);
    expect(filterAllowsEvent({ containsUrl: true }, ev)).toBe(false);
    expect(filterAllowsEvent({ containsUrl: false }, ev)).toBe(true);
    expect(filterAllowsEvent({ containsUrl: true }, { ...ev, hasUrl: true })).toBe(true);
  });

  it("filters rooms with not_rooms winning", () => {
    expect(filterAllowsRoom(undefined, "!r:x")).toBe(true);
    expect(filterAllowsRoom({ rooms: ["!r:x"] }, "!r:x")).toBe(true);
    expect(filterAllowsRoom({ rooms: ["!s:x"] }, "!r:x")).toBe(false);
    expect(filterAllowsRoom({ rooms: ["!r:x"], notRooms: ["!r:x"] }, "!r:x")).toBe(false);
  });
});
