import { describe, expect, it } from "vitest";
import type { JsonObject } from "../canonical-json";
import type { RoomEvent } from "../events";
import { getRoomVersion } from "../room-versions";
import { checkEventAuth } from "./event-auth";
import { ALICE, ALL_VERSIONS, BOB } from "./test-room";

function createEvent(versionId: string, fields: Partial<RoomEvent> & { content?: JsonObject } = {}): RoomEvent {
  const v12 = versionId === "12";
  const ev: RoomEvent = {
    event_id: "$create",
    room_id: v12 ? "!create" : "!room:a.test",
    sender: ALICE,
    type: "m.room.create",
    state_key: "",
    content: { room_version: versionId, creator: ALICE },
    prev_events: [],
    auth_events: [],
    depth: 1,
    origin_server_ts: 0,
    ...fields,
  };
  return ev;
}

function check(versionId: string, ev: RoomEvent) {
  return checkEventAuth(ev, () => undefined, getRoomVersion(versionId)!);
}

describe("m.room.create (rule 1)", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: a well-formed create event is allowed`, () => {
      expect(check(v, createEvent(v))).toEqual({ ok: true });
    });
    it(`v${v}: a create event with prev_events is rejected`, () => {
      expect(check(v, createEvent(v, { prev_events: ["$other"] })).ok).toBe(false);
    });
    it(`v${v}: an unrecognised content.room_version is rejected`, () => {
      expect(check(v, createEvent(v, { content: { creator: ALICE, room_version: "999" } })).ok).toBe(false);
      expect(check(v, createEvent(v, { content: { creator: ALICE, room_version: 12 } })).ok).toBe(false);
    });
  }

  it("an absent room_version is fine (it means v1)", () => {
    expect(check("1", createEvent("1", { content: { creator: ALICE } })).ok).toBe(true);
  });

  for (const v of ["1", "5", "10"]) {
    it(`v${v}: content without creator is rejected`, () => {
      expect(check(v, createEvent(v, { content: { room_version: v } })).ok).toBe(false);
    });
  }
  for (const v of ["11", "12"]) {
    it(`v${v}: content without creator is allowed (the sender is the creator)`, () => {
      expect(check(v, createEvent(v, { content: { room_version: v } }))).toEqual({ ok: true });
    });
  }

  for (const v of ["1", "6", "11"]) {
    it(`v${v}: the room id's domain must match the sender's`, () => {
      expect(check(v, createEvent(v, { room_id: "!room:b.test" })).ok).toBe(false);
      expect(check(v, createEvent(v, { room_id: "!room:a.test", sender: BOB })).ok).toBe(false);
      expect(check(v, createEvent(v, { room_id: "!nodomain" })).ok).toBe(false);
    });
  }

  describe("v12", () => {
    it("has no domain check: a room id without domain derived from the event id is fine", () => {
      expect(check("12", createEvent("12", { room_id: "!create", sender: BOB, content: {} }))).toEqual({ ok: true });
    });
    it("allows a create event without room_id", () => {
      const ev = createEvent("12");
      delete (ev as Partial<RoomEvent>).room_id;
      expect(check("12", ev)).toEqual({ ok: true });
    });
    it("rejects a create event carrying any other room_id", () => {
      expect(check("12", createEvent("12", { room_id: "!room:a.test" })).ok).toBe(false);
    });
    it("accepts additional_creators that are valid user ids", () => {
      expect(check("12", createEvent("12", { content: { additional_creators: [BOB, "@x:[::1]:8448"] } })).ok).toBe(true);
      expect(check("12", createEvent("12", { content: { additional_creators: [] } })).ok).toBe(true);
    });
    it("rejects additional_creators that are not an array of valid user ids", () => {
      for (const bad of [BOB, [BOB, 5], ["bob"], ["@bob"], ["@bob:bad host"], [`@${"x".repeat(260)}:a.test`], null, {}]) {
        expect(check("12", createEvent("12", { content: { additional_creators: bad as JsonObject[string] } })).ok).toBe(false);
      }
    });
    it("v11 does not look at additional_creators", () => {
      expect(check("11", createEvent("11", { content: { additional_creators: "nonsense" } })).ok).toBe(true);
    });
  });
});
