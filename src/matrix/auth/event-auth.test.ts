import { describe, expect, it } from "vitest";
import { getRoomVersion } from "../room-versions";
import { checkEventAuth } from "./event-auth";
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, standardRoom, TestRoom } from "./test-room";

const msg = (sender: string, body = "hi") => ({ type: "m.room.message", sender, content: { msgtype: "m.text", body } });

describe("state every non-create event needs", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: an event is rejected when the state has no m.room.create`, () => {
      const room = standardRoom(v);
      const ev = room.build(msg(ALICE));
      const lookup = room.lookup();
      expect(checkEventAuth(ev, (t, k) => (t === "m.room.create" ? undefined : lookup(t, k)), room.version).ok).toBe(false);
    });
  }

  it("v12: the room id must be derived from the create event's id", () => {
    const room = standardRoom("12");
    expect(room.check(msg(ALICE)).ok).toBe(true);
    expect(room.check({ ...msg(ALICE), room_id: "!somewhereelse" }).ok).toBe(false);
    expect(room.check({ ...msg(ALICE), room_id: `!room:a.test` }).ok).toBe(false);
  });

  it("v11: an event whose room id is not the create event's room is rejected", () => {
    const room = standardRoom("11");
    expect(room.check({ ...msg(ALICE), room_id: "!other:a.test" }).ok).toBe(false);
  });
});

describe("m.federate (v1–11 rule 3, v12 rule 4)", () => {
  for (const v of ["1", "6", "11", "12"]) {
    it(`v${v}: a room that does not federate refuses events from other servers`, () => {
      const room = new TestRoom(v, { createContent: { "m.federate": false } });
      room.join(ALICE);
      room.send(room.joinRules(ALICE, "public"));
      // Carol shares Alice's server, Bob does not.
      expect(room.check(room.member(CAROL, "join")).ok).toBe(true);
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
      room.setMembership(BOB, "join");
      expect(room.check(msg(BOB)).ok).toBe(false);
      expect(room.check(msg(ALICE)).ok).toBe(true);
    });
  }
  it("m.federate: true, or anything but false, federates", () => {
    const room = new TestRoom("10", { createContent: { "m.federate": true } });
    room.join(ALICE);
    room.send(room.joinRules(ALICE, "public"));
    expect(room.check(room.member(BOB, "join")).ok).toBe(true);
  });
});

describe("the sender must be joined", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: messages and state from non-members are rejected`, () => {
      const room = standardRoom(v);
      expect(room.check(msg(ALICE)).ok).toBe(true);
      expect(room.check(msg(BOB)).ok).toBe(false);
      room.setMembership(BOB, "invite");
      expect(room.check(msg(BOB)).ok).toBe(false);
      room.setMembership(BOB, "join");
      expect(room.check(msg(BOB)).ok).toBe(true);
      room.setMembership(BOB, "leave");
      expect(room.check(msg(BOB)).ok).toBe(false);
    });
  }
});

describe("required power level for the event type", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: state needs state_default (50) and messages events_default (0) by default`, () => {
      const room = standardRoom(v);
      room.join(BOB);
      const topic = (sender: string) => ({ type: "m.room.topic", sender, state_key: "", content: { topic: "x" } });
      expect(room.check(topic(ALICE)).ok).toBe(true);
      expect(room.check(topic(BOB)).ok).toBe(false);
      expect(room.check(msg(BOB)).ok).toBe(true);
    });
  }

  it("events overrides the defaults, both ways", () => {
    const room = standardRoom("10", "public", { pl: { events: { "m.room.topic": 0, "m.room.message": 10 } } });
    room.join(BOB);
    expect(room.check({ type: "m.room.topic", sender: BOB, state_key: "", content: { topic: "x" } }).ok).toBe(true);
    expect(room.check(msg(BOB)).ok).toBe(false);
    expect(room.check({ type: "m.reaction", sender: BOB, content: {} }).ok).toBe(true);
  });

  it("events_default and state_default apply when set", () => {
    const room = standardRoom("10", "public", { users: { [BOB]: 20 }, pl: { events_default: 30, state_default: 10 } });
    room.join(BOB);
    expect(room.check(msg(BOB)).ok).toBe(false);
    expect(room.check({ type: "org.example.state", sender: BOB, state_key: "", content: {} }).ok).toBe(true);
  });

  it("without any power levels event the creator has 100 and others 0 (v1–11)", () => {
    const room = new TestRoom("9");
    room.join(ALICE);
    room.send(room.joinRules(ALICE, "public"));
    room.join(BOB);
    expect(room.check({ type: "m.room.name", sender: ALICE, state_key: "", content: { name: "n" } }).ok).toBe(true);
    expect(room.check({ type: "m.room.name", sender: BOB, state_key: "", content: { name: "n" } }).ok).toBe(false);
    expect(room.check(msg(BOB)).ok).toBe(true);
  });

  it("v1–10 without power levels: the creator is content.creator, not the create sender", () => {
    const room = new TestRoom("10", { createContent: { creator: CAROL } });
    room.join(CAROL);
    room.setMembership(ALICE, "join");
    expect(room.check({ type: "m.room.name", sender: CAROL, state_key: "", content: {} }).ok).toBe(true);
    expect(room.check({ type: "m.room.name", sender: ALICE, state_key: "", content: {} }).ok).toBe(false);
  });

  it("v11 without power levels: the creator is the create sender, whatever content.creator says", () => {
    const room = new TestRoom("11", { createContent: { creator: CAROL } });
    room.join(ALICE);
    room.setMembership(CAROL, "join");
    expect(room.check({ type: "m.room.name", sender: ALICE, state_key: "", content: {} }).ok).toBe(true);
    expect(room.check({ type: "m.room.name", sender: CAROL, state_key: "", content: {} }).ok).toBe(false);
  });
});

describe("state keys starting with @", () => {
  for (const v of ["1", "9", "12"]) {
    it(`v${v}: only the user named by the state_key may set it`, () => {
      const room = standardRoom(v, "public", { pl: { state_default: 0 } });
      room.join(BOB);
      const ev = (sender: string, key: string) => ({ type: "org.example.location", sender, state_key: key, content: {} });
      expect(room.check(ev(BOB, BOB)).ok).toBe(true);
      expect(room.check(ev(BOB, ALICE)).ok).toBe(false);
      // Not even a room admin may set another user's state.
      expect(room.check(ev(ALICE, BOB)).ok).toBe(false);
      expect(room.check(ev(BOB, "bob")).ok).toBe(true);
    });
  }
});

describe("m.room.third_party_invite", () => {
  for (const v of ["1", "10", "12"]) {
    it(`v${v}: needs the invite level, not the state level`, () => {
      const room = standardRoom(v, "invite", { pl: { invite: 10 }, users: { [CAROL]: 10 } });
      room.setMembership(BOB, "join");
      room.setMembership(CAROL, "join");
      const tpi = (sender: string) => ({
        type: "m.room.third_party_invite",
        sender,
        state_key: "tok",
        content: { display_name: "x", key_validity_url: "https://id.test", public_key: "AAAA" },
      });
      expect(room.check(tpi(BOB)).ok).toBe(false);
      // Carol has 10 < state_default 50, but reaches the invite level.
      expect(room.check(tpi(CAROL)).ok).toBe(true);
      room.setMembership(DAVE, "invite");
      expect(room.check(tpi(DAVE)).ok).toBe(false);
    });
  }
});

describe("m.room.aliases special case: v1–5 only", () => {
  for (const v of ["1", "3", "5"]) {
    it(`v${v}: allowed when the state_key is the sender's domain, even for non-members`, () => {
      const room = standardRoom(v);
      expect(room.check({ type: "m.room.aliases", sender: BOB, state_key: "b.test", content: { aliases: ["#x:b.test"] } }).ok).toBe(true);
      expect(room.check({ type: "m.room.aliases", sender: BOB, state_key: "a.test", content: { aliases: [] } }).ok).toBe(false);
      expect(room.check({ type: "m.room.aliases", sender: BOB, content: { aliases: [] } }).ok).toBe(false);
    });
  }
  for (const v of ["6", "11"]) {
    it(`v${v}: aliases is an ordinary state event`, () => {
      const room = standardRoom(v);
      expect(room.check({ type: "m.room.aliases", sender: BOB, state_key: "b.test", content: { aliases: [] } }).ok).toBe(false);
      room.join(BOB);
      // Bob is joined but has 0 < state_default.
      expect(room.check({ type: "m.room.aliases", sender: BOB, state_key: "b.test", content: { aliases: [] } }).ok).toBe(false);
      expect(room.check({ type: "m.room.aliases", sender: ALICE, state_key: "b.test", content: { aliases: [] } }).ok).toBe(true);
    });
  }
});

describe("m.room.redaction", () => {
  for (const v of ["1", "2"]) {
    it(`v${v}: needs the redact level unless the redacted event comes from the same server`, () => {
      const room = standardRoom(v);
      room.join(BOB);
      room.join(CAROL);
      const fromA = room.apply(room.build(msg(CAROL)));
      const fromB = room.apply(room.build(msg(BOB)));
      const redaction = (sender: string, redacts: string) => ({ type: "m.room.redaction", sender, content: {}, redacts });
      // Bob (b.test, level 0) may redact b.test's event but not a.test's.
      expect(room.check(redaction(BOB, fromB.event_id)).ok).toBe(true);
      expect(room.check(redaction(BOB, fromA.event_id)).ok).toBe(false);
      expect(room.check({ type: "m.room.redaction", sender: BOB, content: {} }).ok).toBe(false);
      // Alice has 100 ≥ redact 50.
      expect(room.check(redaction(ALICE, fromB.event_id)).ok).toBe(true);
    });
  }
  for (const v of ["3", "11", "12"]) {
    it(`v${v}: the rules only ask for the redaction event's own required level`, () => {
      const room = standardRoom(v);
      room.join(BOB);
      const other = room.apply(room.build(msg(ALICE)));
      expect(room.check({ type: "m.room.redaction", sender: BOB, content: { redacts: other.event_id }, redacts: other.event_id }).ok).toBe(true);
      const strict = standardRoom(v, "public", { pl: { events: { "m.room.redaction": 50 } } });
      strict.join(BOB);
      expect(strict.check({ type: "m.room.redaction", sender: BOB, content: { redacts: other.event_id } }).ok).toBe(false);
    });
  }
});

describe("malformed power levels in the state", () => {
  it("v10: every power comparison fails closed when the current power levels cannot be read", () => {
    const room = standardRoom("10");
    room.join(BOB);
    room.force(room.powerLevels(ALICE, { users: { [ALICE]: "100" } }));
    expect(room.check(msg(ALICE)).ok).toBe(false);
    // A user leaving needs no power level, so it still works.
    expect(room.check(room.member(BOB, "leave")).ok).toBe(true);
  });
});

describe("checkEventAuth does not need the version in the create event to match", () => {
  it("uses the version it is given", () => {
    const room = standardRoom("6");
    room.join(BOB);
    const knock = room.build(room.member(DAVE, "knock"));
    expect(checkEventAuth(knock, room.lookup(), getRoomVersion("6")!).ok).toBe(false);
  });
});
