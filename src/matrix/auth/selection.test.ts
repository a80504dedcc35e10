import { describe, expect, it } from "vitest";
import type { RoomEvent } from "../events";
import { getRoomVersion } from "../room-versions";
import { lookupFromEvents } from "./lookup";
import { authEventSelection, checkAuthEventsShape } from "./selection";
import { ALICE, BOB, CAROL, standardRoom, type TestRoom } from "./test-room";

const v = (id: string) => getRoomVersion(id)!;

describe("authEventSelection", () => {
  it("selects nothing for m.room.create", () => {
    expect(authEventSelection({ type: "m.room.create", sender: ALICE, state_key: "", content: {} }, v("10"))).toEqual([]);
  });
  it("v1–11: create, power levels and the sender's membership for ordinary events", () => {
    for (const id of ["1", "11"]) {
      expect(authEventSelection({ type: "m.room.message", sender: BOB, content: {} }, v(id))).toEqual([
        ["m.room.create", ""],
        ["m.room.power_levels", ""],
        ["m.room.member", BOB],
      ]);
    }
  });
  it("v12: never the create event", () => {
    expect(authEventSelection({ type: "m.room.message", sender: BOB, content: {} }, v("12"))).toEqual([
      ["m.room.power_levels", ""],
      ["m.room.member", BOB],
    ]);
  });
  it("joins add join rules; the target's membership is the sender's, listed once", () => {
    expect(authEventSelection({ type: "m.room.member", sender: BOB, state_key: BOB, content: { membership: "join" } }, v("10"))).toEqual([
      ["m.room.create", ""],
      ["m.room.power_levels", ""],
      ["m.room.member", BOB],
      ["m.room.join_rules", ""],
    ]);
  });
  it("invites and knocks add join rules, leaves and bans do not", () => {
    const sel = (membership: string) =>
      authEventSelection({ type: "m.room.member", sender: ALICE, state_key: BOB, content: { membership } }, v("10")).map(([t, k]) => `${t}|${k}`);
    for (const m of ["invite", "knock"]) expect(sel(m)).toContain("m.room.join_rules|");
    for (const m of ["leave", "ban"]) expect(sel(m)).not.toContain("m.room.join_rules|");
    for (const m of ["invite", "leave", "ban"]) expect(sel(m)).toContain(`m.room.member|${BOB}`);
  });
  it("third-party invites add the m.room.third_party_invite with the signed token", () => {
    const content = { membership: "invite", third_party_invite: { display_name: "x", signed: { mxid: BOB, token: "abc", signatures: {} } } };
    expect(authEventSelection({ type: "m.room.member", sender: ALICE, state_key: BOB, content }, v("10"))).toContainEqual([
      "m.room.third_party_invite",
      "abc",
    ]);
    const noToken = { membership: "invite", third_party_invite: { signed: { mxid: BOB } } };
    expect(authEventSelection({ type: "m.room.member", sender: ALICE, state_key: BOB, content: noToken }, v("10")).map(([t]) => t)).not.toContain(
      "m.room.third_party_invite",
    );
  });
  it("restricted joins add the authorising user's membership from v8", () => {
    const ev = { type: "m.room.member", sender: BOB, state_key: BOB, content: { membership: "join", join_authorised_via_users_server: CAROL } };
    expect(authEventSelection(ev, v("8"))).toContainEqual(["m.room.member", CAROL]);
    expect(authEventSelection(ev, v("12"))).toContainEqual(["m.room.member", CAROL]);
    expect(authEventSelection(ev, v("7"))).not.toContainEqual(["m.room.member", CAROL]);
    const leave = { ...ev, content: { membership: "leave", join_authorised_via_users_server: CAROL } };
    expect(authEventSelection(leave, v("10"))).not.toContainEqual(["m.room.member", CAROL]);
  });
});

/** The auth events the selection picks from the room's current state, as a server would. */
function pick(room: TestRoom, ev: RoomEvent): RoomEvent[] {
  const lookup = room.lookup();
  const out: RoomEvent[] = [];
  for (const [t, k] of authEventSelection(ev, room.version)) {
    const found = lookup(t, k);
    if (found) out.push(found);
  }
  return out;
}

function withAuth(room: TestRoom, ev: RoomEvent, auth: RoomEvent[]): RoomEvent {
  const refs = room.version.eventIdFormat === "v1" ? auth.map((a) => [a.event_id, { sha256: "x" }] as [string, { sha256: string }]) : auth.map((a) => a.event_id);
  return { ...ev, auth_events: refs };
}

describe("checkAuthEventsShape", () => {
  for (const id of ["1", "3", "11", "12"]) {
    it(`v${id}: auth events chosen by the selection pass`, () => {
      const room = standardRoom(id);
      room.join(BOB);
      const ev = room.build({ type: "m.room.message", sender: BOB, content: {} });
      const auth = pick(room, ev);
      expect(checkAuthEventsShape(withAuth(room, ev, auth), auth, room.version)).toEqual({ ok: true });
      // And checkEventAuth against those auth events agrees.
      expect(room.check(ev).ok).toBe(true);
      expect(lookupFromEvents(auth)("m.room.member", BOB)?.event_id).toBe(room.state.get(`m.room.member\u0000${BOB}`)!.event_id);
    });
  }
  it("rejects duplicate (type, state_key) pairs", () => {
    const room = standardRoom("10");
    const oldPl = room.state.get("m.room.power_levels\u0000")!;
    const newPl = room.send(room.powerLevels(ALICE, { users: { [ALICE]: 100 }, ban: 60 }));
    const ev = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth = [...pick(room, ev), oldPl];
    expect(newPl.event_id).not.toBe(oldPl.event_id);
    expect(checkAuthEventsShape(withAuth(room, ev, auth), auth, room.version).ok).toBe(false);
  });
  it("rejects entries the selection does not allow", () => {
    const room = standardRoom("10");
    const ev = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth = [...pick(room, ev), room.state.get("m.room.join_rules\u0000")!];
    expect(checkAuthEventsShape(withAuth(room, ev, auth), auth, room.version).ok).toBe(false);
    // Another user's membership is not the sender's.
    const bob = room.join(BOB);
    const auth2 = [...pick(room, ev), bob];
    expect(checkAuthEventsShape(withAuth(room, ev, auth2), auth2, room.version).ok).toBe(false);
  });
  it("v1–11 require the create event; v12 forbids it", () => {
    const r11 = standardRoom("11");
    const ev11 = r11.build({ type: "m.room.message", sender: ALICE, content: {} });
    const noCreate = pick(r11, ev11).filter((e) => e.type !== "m.room.create");
    expect(checkAuthEventsShape(withAuth(r11, ev11, noCreate), noCreate, r11.version).ok).toBe(false);

    const r12 = standardRoom("12");
    const ev12 = r12.build({ type: "m.room.message", sender: ALICE, content: {} });
    const withCreate = [...pick(r12, ev12), r12.create];
    // (The create event's room_id is the room's own here, so the refusal is about selection.)
    expect(checkAuthEventsShape(withAuth(r12, ev12, withCreate), withCreate, r12.version)).toMatchObject({ ok: false, reason: expect.stringContaining("not expected") });
  });
  it("rejects auth events from another room", () => {
    const room = standardRoom("10");
    const ev = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth = pick(room, ev).map((a) => (a.type === "m.room.power_levels" ? { ...a, room_id: "!elsewhere:a.test" } : a));
    expect(checkAuthEventsShape(withAuth(room, ev, auth), auth, room.version).ok).toBe(false);
  });
  it("rejects unknown, rejected and non-state auth events", () => {
    const room = standardRoom("10");
    const ev = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth = pick(room, ev);
    const listed = withAuth(room, ev, auth);
    expect(checkAuthEventsShape(listed, auth.slice(1), room.version).ok).toBe(false);
    const pl = auth.find((a) => a.type === "m.room.power_levels")!;
    expect(checkAuthEventsShape(listed, auth, room.version, { isRejected: (id) => id === pl.event_id }).ok).toBe(false);
    expect(checkAuthEventsShape(listed, auth, room.version, { isRejected: () => false }).ok).toBe(true);
    const message = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth2 = [...auth, message];
    expect(checkAuthEventsShape(withAuth(room, ev, auth2), auth2, room.version).ok).toBe(false);
  });
  it("rejects malformed auth_events lists", () => {
    const room = standardRoom("10");
    const ev = room.build({ type: "m.room.message", sender: ALICE, content: {} });
    const auth = pick(room, ev);
    expect(checkAuthEventsShape({ ...ev, auth_events: [null as never] }, auth, room.version).ok).toBe(false);
    expect(checkAuthEventsShape({ ...ev, auth_events: "x" as never }, auth, room.version).ok).toBe(false);
  });
  it("m.room.create must list no auth events", () => {
    const room = standardRoom("10");
    expect(checkAuthEventsShape(room.create, [], room.version).ok).toBe(true);
    expect(checkAuthEventsShape({ ...room.create, auth_events: [room.create.event_id] }, [room.create], room.version).ok).toBe(false);
  });
  it("a restricted join may list the authorising user's membership", () => {
    const room = standardRoom("10", "restricted");
    room.setMembership(CAROL, "join");
    const ev = room.build(room.member(BOB, "join", { join_authorised_via_users_server: CAROL }));
    const auth = pick(room, ev);
    expect(auth.map((a) => a.state_key)).toContain(CAROL);
    expect(checkAuthEventsShape(withAuth(room, ev, auth), auth, room.version).ok).toBe(true);
    expect(room.check(ev).ok).toBe(true);
  });
});
