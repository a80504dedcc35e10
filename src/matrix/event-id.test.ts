import { describe, expect, it } from "vitest";
import { readFixture } from "../../test/support/fixtures";
import type { JsonObject } from "./canonical-json";
import type { Pdu } from "./events";
import { computeEventId, EventIdError, newLegacyEventId, roomIdFromCreateEvent, toRoomEvent } from "./event-id";
import type { PduLike } from "./redaction";
import { getRoomVersion, type RoomVersion } from "./room-versions";

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

/*
 * Hand-checked vectors. The expected ids were computed once, outside this code base, by a
 * throwaway Node script using node:crypto's SHA-256, Buffer's base64 (then stripping `=`, and
 * mapping + → - and / → _ for the URL-safe form), a ten-line sorted-keys JSON encoder, and the
 * redaction written out by hand for these events (message content emptied; `signatures` and
 * `unsigned` removed; `origin` removed too under v11 rules). `depth` was chosen so that the hash
 * contains both `+` and `/`, which makes the v3 and v4 encodings visibly differ.
 *
 * v1–10-redacted canonical JSON of `message`:
 *   {"auth_events":["$auth"],"content":{},"depth":5,"hashes":{"sha256":"AAAA"},"origin":"stratus.test",
 *    "origin_server_ts":1700000000000,"prev_events":["$prev"],"room_id":"!room:stratus.test",
 *    "sender":"@alice:stratus.test","type":"m.room.message"}
 * v11-redacted: the same without "origin".
 * v12 create event, canonical JSON (content kept whole by v11+ redaction, no room_id):
 *   {"auth_events":[],"content":{"additional_creators":["@bob:other.test"],"m.federate":true,"room_version":"12"},
 *    "depth":1,"hashes":{"sha256":"BBBB"},"origin_server_ts":1700000000000,"prev_events":[],
 *    "sender":"@alice:stratus.test","state_key":"","type":"m.room.create"}
 */
const message: Pdu = {
  auth_events: ["$auth"],
  content: { body: "x", msgtype: "m.text" },
  depth: 5,
  hashes: { sha256: "AAAA" },
  origin: "stratus.test",
  origin_server_ts: 1700000000000,
  prev_events: ["$prev"],
  room_id: "!room:stratus.test",
  sender: "@alice:stratus.test",
  type: "m.room.message",
  signatures: { "stratus.test": { "ed25519:k": "sig" } },
  unsigned: { age: 5 },
};
const V3_ID = "$L5La6C4s5YVyocTft1EmusUM+QB9Qh5DM/wGcnn5OkQ";
const V4_ID = "$L5La6C4s5YVyocTft1EmusUM-QB9Qh5DM_wGcnn5OkQ";
const V11_ID = "$Fdwt-ZWarYImo-SU0kqIl6umk9RAp8TJ0sgeSxiNWYA";

const create: PduLike = {
  auth_events: [],
  content: { room_version: "12", additional_creators: ["@bob:other.test"], "m.federate": true },
  depth: 1,
  hashes: { sha256: "BBBB" },
  origin_server_ts: 1700000000000,
  prev_events: [],
  sender: "@alice:stratus.test",
  state_key: "",
  type: "m.room.create",
  signatures: {},
  unsigned: { age: 1 },
};
const V12_CREATE_ID = "$IHgrHN7IPBIbXiRAtgZVXlU_2oBtdKcFYkY_04LAuXM";
const V12_ROOM_ID = "!IHgrHN7IPBIbXiRAtgZVXlU_2oBtdKcFYkY_04LAuXM";

describe("event id formats", () => {
  it("v1/v2: the id is the event_id the event carries", async () => {
    const ev = { ...message, event_id: "$abc:stratus.test" };
    expect(await computeEventId(ev, version("1"))).toBe("$abc:stratus.test");
    expect(await computeEventId(ev, version("2"))).toBe("$abc:stratus.test");
    await expect(computeEventId(message, version("1"))).rejects.toBeInstanceOf(EventIdError);
  });

  it("v1/v2: new local ids are $opaque:server from an injected random string", () => {
    expect(newLegacyEventId("Xy12ab", "stratus.test")).toBe("$Xy12ab:stratus.test");
    expect(() => newLegacyEventId("", "stratus.test")).toThrow(EventIdError);
    expect(() => newLegacyEventId("a:b", "stratus.test")).toThrow(EventIdError);
    expect(() => newLegacyEventId("a".repeat(250), "stratus.test")).toThrow(EventIdError);
  });

  it("v3: $ + unpadded standard base64 of the reference hash", async () => {
    expect(await computeEventId(message, version("3"))).toBe(V3_ID);
  });

  it("v4–v10: $ + URL-safe unpadded base64 of the same hash", async () => {
    for (const id of ["4", "5", "6", "7", "8", "9", "10"]) expect(await computeEventId(message, version(id))).toBe(V4_ID);
  });

  it("v11/v12: v11 redaction drops `origin` from the hashed event", async () => {
    expect(await computeEventId(message, version("11"))).toBe(V11_ID);
    expect(await computeEventId(message, version("12"))).toBe(V11_ID);
  });

  it("v3+: an event_id already on the event (the internal form) does not change the id", async () => {
    expect(await computeEventId({ ...message, event_id: "$stale" }, version("4"))).toBe(V4_ID);
  });

  it("the spec's minimal signed event: matches the fixture's derived ids", async () => {
    const f = readFixture<{ vectors: { expected: JsonObject; derived_not_in_spec: { reference_hash_v11_redaction_urlsafe: string } }[] }>(
      "vectors/event-signing.json",
    );
    const minimal = f.vectors[0]!;
    expect(await computeEventId(minimal.expected as unknown as PduLike, version("3"))).toBe("$8yif6p8EqgoSten2BLje9ntKm720NyFLWQv9tn8memc");
    expect(await computeEventId(minimal.expected as unknown as PduLike, version("11"))).toBe(
      minimal.derived_not_in_spec.reference_hash_v11_redaction_urlsafe,
    );
  });
});

describe("room version 12 room ids", () => {
  it("is the create event's id with ! for $, without a server part", async () => {
    expect(await computeEventId(create, version("12"))).toBe(V12_CREATE_ID);
    expect(await roomIdFromCreateEvent(create, version("12"))).toBe(V12_ROOM_ID);
  });

  it("refuses other room versions and other event types", async () => {
    await expect(roomIdFromCreateEvent(create, version("11"))).rejects.toBeInstanceOf(EventIdError);
    await expect(roomIdFromCreateEvent({ ...create, type: "m.room.message" }, version("12"))).rejects.toBeInstanceOf(EventIdError);
  });
});

describe("toRoomEvent", () => {
  it("attaches the computed id for v3+ and keeps the given one for v1/v2", async () => {
    expect((await toRoomEvent(message, version("3"))).event_id).toBe(V3_ID);
    expect((await toRoomEvent({ ...message, event_id: "$stale" }, version("10"))).event_id).toBe(V4_ID);
    expect((await toRoomEvent({ ...message, event_id: "$abc:s" }, version("1"))).event_id).toBe("$abc:s");
  });

  it("leaves a v12 create event without room_id", async () => {
    const ev = await toRoomEvent(create, version("12"));
    expect(ev.event_id).toBe(V12_CREATE_ID);
    expect("room_id" in ev).toBe(false);
  });
});
