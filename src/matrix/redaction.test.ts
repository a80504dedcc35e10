import { describe, expect, it } from "vitest";
import { readFixture } from "../../test/support/fixtures";
import type { JsonObject } from "./canonical-json";
import type { Pdu, RoomEvent } from "./events";
import { redactEvent, type PduLike } from "./redaction";
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from "./room-versions";

/*
 * vectors/redaction.json was written by the fixture gatherer from the spec text (the spec prints no
 * redaction examples), so before relying on it every case was checked by hand against
 * matrix-spec@d0ba2aa content/rooms/fragments/{v1,v6,v9,v11}-redactions.md and rooms/v8.md:
 *
 * - top-level keep lists (v1–10 keep origin/membership/prev_state, v11+ drop them; `unsigned`,
 *   unknown keys and — before v11 — the top-level `redacts` are removed): agree.
 * - m.room.member v1–8 {membership}, v9–10 + join_authorised_via_users_server, v11+ + the `signed`
 *   key of third_party_invite only: agree.
 * - m.room.create v1–10 {creator}, v11+ whole content: agree.
 * - m.room.join_rules v1–7 {join_rule}, v8+ + allow: agree.
 * - m.room.power_levels 8 keys, v11+ + invite (and never `notifications`): agree.
 * - m.room.aliases kept in v1–5, emptied from v6 on: agree.
 * - m.room.history_visibility, m.room.redaction (v11+ content.redacts), others emptied: agree.
 *
 * No case disagrees with the spec. The file has no case for a v11 member whose third_party_invite
 * lacks `signed`, for a v12 create event without `room_id`, or for keys absent from the input;
 * those are covered below from the spec text.
 */

interface Case {
  name: string;
  input: JsonObject;
  expected: { room_versions: string[]; expected: JsonObject }[];
}
const file = readFixture<{ cases: Case[] }>("vectors/redaction.json");

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

describe("redaction vectors (vectors/redaction.json, checked against the spec)", () => {
  for (const c of file.cases) {
    it(`${c.name}: every room version 1–12 is covered by exactly one expected group`, () => {
      const covered = c.expected.flatMap((g) => g.room_versions).sort();
      expect(covered).toEqual([...ROOM_VERSIONS.keys()].sort());
    });
    for (const group of c.expected) {
      for (const id of group.room_versions) {
        it(`${c.name} in room version ${id}`, () => {
          expect(redactEvent(c.input as unknown as Pdu, version(id))).toEqual(group.expected);
        });
      }
    }
  }
});

const base: Pdu = {
  event_id: "$e:example.org",
  room_id: "!r:example.org",
  sender: "@a:example.org",
  origin_server_ts: 1,
  depth: 5,
  prev_events: ["$p"],
  auth_events: ["$c"],
  hashes: { sha256: "h" },
  signatures: { "example.org": { "ed25519:1": "s" } },
  type: "m.room.member",
  state_key: "@a:example.org",
  content: {},
};

describe("redaction rules not covered by the fixture", () => {
  it("v11 keeps third_party_invite as an empty object when it has no `signed` (MSC3821 'a portion ... if present')", () => {
    const ev = { ...base, content: { membership: "invite", third_party_invite: { display_name: "x" } } };
    expect(redactEvent(ev, version("11")).content).toEqual({ membership: "invite", third_party_invite: {} });
    // Before v11 third_party_invite is not protected at all.
    expect(redactEvent(ev, version("10")).content).toEqual({ membership: "invite" });
  });

  it("v11 drops a third_party_invite that is not an object, and adds none when absent", () => {
    expect(redactEvent({ ...base, content: { membership: "invite", third_party_invite: "x" } }, version("11")).content).toEqual({
      membership: "invite",
    });
    expect(redactEvent({ ...base, content: { membership: "join" } }, version("12")).content).toEqual({ membership: "join" });
  });

  it("never adds a protected key that the event does not have", () => {
    const pl = { ...base, type: "m.room.power_levels", state_key: "", content: { ban: 50 } };
    expect(redactEvent(pl, version("11")).content).toEqual({ ban: 50 });
    const noState: Pdu = { ...base, type: "m.room.message", content: { body: "x" } };
    delete noState.state_key;
    expect("state_key" in redactEvent(noState, version("1"))).toBe(false);
  });

  it("v8 keeps join_rules `allow` but not the member's join_authorised_via_users_server (v9 adds it)", () => {
    const member = { ...base, content: { membership: "join", join_authorised_via_users_server: "@b:example.org" } };
    expect(redactEvent(member, version("8")).content).toEqual({ membership: "join" });
    expect(redactEvent(member, version("9")).content).toEqual(member.content);
  });

  it("a v12 create event, which has no room_id, stays without one and keeps all content", () => {
    const create: PduLike = {
      sender: "@a:example.org",
      type: "m.room.create",
      state_key: "",
      content: { room_version: "12", additional_creators: ["@b:example.org"] },
      depth: 1,
      prev_events: [],
      auth_events: [],
      origin_server_ts: 1,
      hashes: { sha256: "h" },
      signatures: {},
    };
    const redacted = redactEvent(create, version("12"));
    expect("room_id" in redacted).toBe(false);
    expect(redacted.content).toEqual(create.content);
  });

  it("treats non-object content as empty, keeps event_id and does not touch its input", () => {
    const weird = { ...base, content: ["not", "an", "object"] } as unknown as RoomEvent;
    expect(redactEvent(weird, version("11")).content).toEqual({});
    const ev: RoomEvent = { ...base, event_id: "$e:example.org", type: "m.room.message", content: { body: "x" }, unsigned: { age: 1 } };
    const snapshot = structuredClone(ev);
    const redacted: RoomEvent = redactEvent(ev, version("1"));
    expect(redacted.event_id).toBe("$e:example.org");
    expect(ev).toEqual(snapshot);
  });
});
