import { describe, expect, it } from "vitest";
import type { JsonObject } from "../canonical-json";
import { getRoomVersion } from "../room-versions";
import { parsePowerLevels, parsePowerLevelValue, powerLevelOf, requiredPowerForEvent, roomCreators } from "./power-levels";
import { ALICE, BOB, CAROL, DAVE, EVE, standardRoom, TestRoom } from "./test-room";

const v = (id: string) => getRoomVersion(id)!;

describe("parsePowerLevelValue", () => {
  it("accepts integers in every version", () => {
    for (const id of ["1", "6", "10", "12"]) {
      expect(parsePowerLevelValue(50, v(id))).toBe(50);
      expect(parsePowerLevelValue(-5, v(id))).toBe(-5);
    }
  });
  it("v1–9 accept integer strings with sign, leading zeroes and whitespace", () => {
    for (const id of ["1", "5", "9"]) {
      expect(parsePowerLevelValue("100", v(id))).toBe(100);
      expect(parsePowerLevelValue("000100", v(id))).toBe(100);
      expect(parsePowerLevelValue(" +100 ", v(id))).toBe(100);
      expect(parsePowerLevelValue(" -100 ", v(id))).toBe(-100);
      expect(parsePowerLevelValue("-0", v(id))).toBe(0);
      for (const bad of ["", " ", "1.5", "1e3", "0x10", "+-1", "ten", "1 0"]) expect(parsePowerLevelValue(bad, v(id)), bad).toBeUndefined();
    }
  });
  it("v10+ refuse strings", () => {
    expect(parsePowerLevelValue("100", v("10"))).toBeUndefined();
    expect(parsePowerLevelValue("100", v("12"))).toBeUndefined();
  });
  it("v1–5 truncate floats; v6+ refuse them", () => {
    expect(parsePowerLevelValue(50.57, v("5"))).toBe(50);
    expect(parsePowerLevelValue(-0.5, v("1"))).toBe(0);
    expect(parsePowerLevelValue(5.114698e4, v("3"))).toBe(51146);
    expect(parsePowerLevelValue(Infinity, v("1"))).toBeUndefined();
    expect(parsePowerLevelValue(NaN, v("1"))).toBeUndefined();
    expect(parsePowerLevelValue(50.57, v("6"))).toBeUndefined();
  });
  it("refuses other JSON types", () => {
    for (const bad of [null, true, [], {}]) expect(parsePowerLevelValue(bad as never, v("1"))).toBeUndefined();
  });
});

describe("parsePowerLevels", () => {
  it("keeps only the explicit values", () => {
    const r = parsePowerLevels({ ban: 60, users: { [ALICE]: 100 }, events: { "m.room.name": 20 } }, v("10"));
    expect(r.ok).toBe(true);
    expect(r.levels.fields).toEqual({ ban: 60 });
    expect([...r.levels.users]).toEqual([[ALICE, 100]]);
    expect([...r.levels.events]).toEqual([["m.room.name", 20]]);
  });
  it("refuses users keys that are not user ids, in every version", () => {
    for (const id of ["1", "9", "10"]) {
      expect(parsePowerLevels({ users: { alice: 1 } }, v(id)).ok).toBe(false);
      expect(parsePowerLevels({ users: { "@alice": 1 } }, v(id)).ok).toBe(false);
    }
  });
  it("refuses non-object maps", () => {
    for (const key of ["users", "events", "notifications"]) {
      expect(parsePowerLevels({ [key]: [] }, v("10")).ok).toBe(false);
      expect(parsePowerLevels({ [key]: 5 }, v("9")).ok).toBe(false);
    }
  });
  it("does not read inherited properties", () => {
    const r = parsePowerLevels(JSON.parse('{"events": {"constructor": 5}}') as JsonObject, v("10"));
    expect(r.levels.events.get("constructor")).toBe(5);
    expect(parsePowerLevels({}, v("10")).levels.events.get("constructor")).toBeUndefined();
  });
});

describe("m.room.power_levels content validation", () => {
  it("string power levels are allowed in v9 and rejected in v10", () => {
    for (const [id, ok] of [["9", true], ["10", false], ["11", false]] as const) {
      const room = standardRoom(id);
      const content = { users: { [ALICE]: "100", [BOB]: "50" }, ban: "50", events: { "m.room.name": "50" } };
      expect(room.check(room.powerLevels(ALICE, content)).ok, `v${id}`).toBe(ok);
    }
  });
  it("v9 string levels count as their number", () => {
    const room = standardRoom("9");
    room.send(room.powerLevels(ALICE, { users: { [ALICE]: "100", [BOB]: " 060 " } }));
    expect(powerLevelOf(BOB, room.lookup(), room.version)).toBe(60);
    // Restating a level as a string is no change at all.
    room.setMembership(BOB, "join");
    room.force(room.powerLevels(ALICE, { users: { [ALICE]: 100, [BOB]: 60 }, events: { "m.room.power_levels": 60 } }));
    expect(room.check(room.powerLevels(BOB, { users: { [ALICE]: "100", [BOB]: "60" }, events: { "m.room.power_levels": 60 } })).ok).toBe(true);
  });
  it("v10: each integer property and each map value must be an integer", () => {
    const room = standardRoom("10");
    const base = { users: { [ALICE]: 100 } };
    const bads: JsonObject[] = [
      { kick: "50" },
      { kick: 50.5 },
      { kick: null },
      { events_default: true },
      { events: { "m.room.name": "50" } },
      { events: [] },
      { notifications: { room: "50" } },
      { notifications: 50 },
      { users: { [ALICE]: 100, [BOB]: "1" } },
      { users: [] },
    ];
    for (const bad of bads) {
      expect(room.check(room.powerLevels(ALICE, { ...base, ...bad })).ok, JSON.stringify(bad)).toBe(false);
    }
    expect(room.check(room.powerLevels(ALICE, { ...base, kick: 50, events: {}, notifications: { room: 50 } })).ok).toBe(true);
  });
  it("v1–5 accept float levels", () => {
    const room = standardRoom("5");
    expect(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100, [BOB]: 50.57 } })).ok).toBe(true);
  });
  it("the first power levels event is allowed whatever it grants", () => {
    const room = new TestRoom("10");
    room.join(ALICE);
    expect(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100, [BOB]: 1000 }, ban: 9000 })).ok).toBe(true);
  });
});

describe("power level changes", () => {
  // Carol and Dave are moderators at 50 who may change power levels.
  const modRoom = (id: string, extra: JsonObject = {}) => {
    const room = standardRoom(id, "public", {
      users: { [CAROL]: 50, [DAVE]: 50, [BOB]: 10 },
      pl: { events: { "m.room.power_levels": 50 }, kick: 50, ban: 50, redact: 50, invite: 0, state_default: 50, events_default: 0, users_default: 0, ...extra },
    });
    for (const u of [BOB, CAROL, DAVE]) room.setMembership(u, "join");
    return room;
  };
  const current = (room: TestRoom) => structuredClone(room.state.get("m.room.power_levels\u0000")!.content) as JsonObject & { users: JsonObject };
  const change = (room: TestRoom, sender: string, edit: (c: JsonObject & { users: JsonObject }) => void) => {
    const c = current(room);
    edit(c);
    return room.check(room.powerLevels(sender, c));
  };

  for (const id of ["1", "6", "10", "11"]) {
    it(`v${id}: a user cannot raise anyone, themselves included, above their own level`, () => {
      const room = modRoom(id);
      expect(change(room, CAROL, (c) => (c.users[CAROL] = 100)).ok).toBe(false);
      expect(change(room, CAROL, (c) => (c.users[BOB] = 51)).ok).toBe(false);
      expect(change(room, CAROL, (c) => (c.users[EVE] = 51)).ok).toBe(false);
      expect(change(room, CAROL, (c) => (c.users[BOB] = 50)).ok).toBe(true);
      expect(change(room, CAROL, (c) => (c.users[EVE] = 50)).ok).toBe(true);
    });
    it(`v${id}: a user cannot change or remove a peer's or superior's level, only their own and lower ones`, () => {
      const room = modRoom(id);
      expect(change(room, CAROL, (c) => (c.users[DAVE] = 0)).ok).toBe(false);
      expect(change(room, CAROL, (c) => delete c.users[DAVE]).ok).toBe(false);
      expect(change(room, CAROL, (c) => (c.users[ALICE] = 0)).ok).toBe(false);
      expect(change(room, CAROL, (c) => (c.users[CAROL] = 0)).ok).toBe(true);
      expect(change(room, CAROL, (c) => delete c.users[BOB]).ok).toBe(true);
    });
    it(`v${id}: the sender needs the required level for power levels events at all`, () => {
      const room = modRoom(id);
      expect(change(room, BOB, (c) => (c.users[BOB] = 10)).ok).toBe(false);
    });
    it(`v${id}: top-level levels may only move within the sender's own level`, () => {
      const room = modRoom(id, { kick: 100 });
      expect(change(room, CAROL, (c) => (c.ban = 40)).ok).toBe(true);
      expect(change(room, CAROL, (c) => (c.ban = 51)).ok).toBe(false);
      // The current kick level (100) is above Carol, so she cannot touch it.
      expect(change(room, CAROL, (c) => (c.kick = 40)).ok).toBe(false);
      expect(change(room, CAROL, (c) => delete c.kick).ok).toBe(false);
      expect(change(room, ALICE, (c) => (c.kick = 40)).ok).toBe(true);
    });
    it(`v${id}: events entries may only move within the sender's own level`, () => {
      const room = modRoom(id, { events: { "m.room.power_levels": 50, "m.room.tombstone": 100 } });
      expect(change(room, CAROL, (c) => ((c.events as JsonObject)["m.room.name"] = 50)).ok).toBe(true);
      expect(change(room, CAROL, (c) => ((c.events as JsonObject)["m.room.name"] = 75)).ok).toBe(false);
      expect(change(room, CAROL, (c) => ((c.events as JsonObject)["m.room.tombstone"] = 50)).ok).toBe(false);
      expect(change(room, CAROL, (c) => delete (c.events as JsonObject)["m.room.tombstone"]).ok).toBe(false);
      // Raising the level for power levels events above one's own would lock oneself out: refused.
      expect(change(room, CAROL, (c) => ((c.events as JsonObject)["m.room.power_levels"] = 60)).ok).toBe(false);
    });
  }

  it("an absent top-level property is compared at its default", () => {
    // Carol (40) may edit power levels; ban is absent, i.e. 50, above her: she may not set it.
    const room = standardRoom("10", "public", { users: { [CAROL]: 40 }, pl: { events: { "m.room.power_levels": 40 } } });
    room.setMembership(CAROL, "join");
    const c = structuredClone(room.state.get("m.room.power_levels\u0000")!.content) as JsonObject;
    expect(room.check(room.powerLevels(CAROL, { ...c, ban: 30 })).ok).toBe(false);
    expect(room.check(room.powerLevels(CAROL, { ...c, invite: 30 })).ok).toBe(true);
  });

  describe("notifications (v6+)", () => {
    for (const [id, limited] of [["5", false], ["6", true], ["10", true], ["12", true]] as const) {
      it(`v${id}: notifications changes ${limited ? "are" : "are not"} limited to the sender's level`, () => {
        const room = modRoom(id, { notifications: { room: 50 } });
        expect(change(room, CAROL, (c) => (c.notifications = { room: 100 })).ok).toBe(!limited);
        expect(change(room, CAROL, (c) => (c.notifications = { room: 20 })).ok).toBe(true);
        const high = modRoom(id, { notifications: { room: 80 } });
        expect(change(high, CAROL, (c) => (c.notifications = { room: 20 })).ok).toBe(!limited);
        expect(change(high, CAROL, (c) => (c.notifications = {})).ok).toBe(!limited);
      });
    }
  });
});

describe("v12 room creators", () => {
  const creatorsRoom = () => {
    const room = new TestRoom("12", { createContent: { additional_creators: [BOB] } });
    room.join(ALICE);
    room.send(room.joinRules(ALICE, "public"));
    room.join(BOB);
    room.send(room.powerLevels(ALICE, { users: { [CAROL]: 100 } }));
    room.join(CAROL);
    return room;
  };

  it("creators have infinite power; everyone else follows the power levels", () => {
    const room = creatorsRoom();
    expect(powerLevelOf(ALICE, room.lookup(), room.version)).toBe(Infinity);
    expect(powerLevelOf(BOB, room.lookup(), room.version)).toBe(Infinity);
    expect(powerLevelOf(CAROL, room.lookup(), room.version)).toBe(100);
    expect(powerLevelOf(DAVE, room.lookup(), room.version)).toBe(0);
    expect([...roomCreators(room.create, room.version)].sort()).toEqual([ALICE, BOB].sort());
  });
  it("without power levels, creators are still infinite and the rest 0", () => {
    const room = new TestRoom("12");
    room.join(ALICE);
    expect(powerLevelOf(ALICE, room.lookup(), room.version)).toBe(Infinity);
    expect(powerLevelOf(BOB, room.lookup(), room.version)).toBe(0);
    expect(room.check({ type: "m.room.name", sender: ALICE, state_key: "", content: {} }).ok).toBe(true);
  });
  it("power levels must not list a creator", () => {
    const room = creatorsRoom();
    expect(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 } })).ok).toBe(false);
    expect(room.check(room.powerLevels(ALICE, { users: { [BOB]: 100 } })).ok).toBe(false);
    expect(room.check(room.powerLevels(ALICE, { users: { [CAROL]: 50 } })).ok).toBe(true);
    // Even the very first power levels event.
    const fresh = new TestRoom("12");
    fresh.join(ALICE);
    expect(fresh.check(fresh.powerLevels(ALICE, { users: { [ALICE]: 100 } })).ok).toBe(false);
  });
  it("creators can set any level and act on anyone but each other", () => {
    const room = creatorsRoom();
    expect(room.check(room.powerLevels(ALICE, { users: { [CAROL]: 1_000_000 }, kick: 9000 })).ok).toBe(true);
    const ban = (sender: string, target: string) => ({ type: "m.room.member", sender, state_key: target, content: { membership: "ban" } });
    expect(room.check(ban(ALICE, CAROL)).ok).toBe(true);
    expect(room.check(ban(ALICE, BOB)).ok).toBe(false);
    expect(room.check(ban(CAROL, ALICE)).ok).toBe(false);
    expect(room.check({ type: "m.room.member", sender: CAROL, state_key: BOB, content: { membership: "leave" } }).ok).toBe(false);
  });
  it("a 100-level admin cannot demote a creator, who is not in users to begin with", () => {
    const room = creatorsRoom();
    room.force(room.powerLevels(ALICE, { users: { [CAROL]: 100 }, events: { "m.room.power_levels": 100 } }));
    expect(room.check(room.powerLevels(CAROL, { users: { [CAROL]: 100, [BOB]: 0 } })).ok).toBe(false);
  });
  it("v11 has no infinite creators: the create sender is just the 100 in users", () => {
    const room = standardRoom("11");
    expect(powerLevelOf(ALICE, room.lookup(), room.version)).toBe(100);
    expect(room.check(room.powerLevels(ALICE, { users: { [ALICE]: 100 } })).ok).toBe(true);
  });
});

describe("requiredPowerForEvent", () => {
  it("follows events, state_default and events_default with their defaults", () => {
    const bare = new TestRoom("10");
    expect(requiredPowerForEvent("m.room.name", true, bare.lookup(), bare.version)).toBe(50);
    expect(requiredPowerForEvent("m.room.message", false, bare.lookup(), bare.version)).toBe(0);
    const room = standardRoom("10", "public", { pl: { events: { "m.room.message": 5 }, state_default: 70 } });
    expect(requiredPowerForEvent("m.room.message", false, room.lookup(), room.version)).toBe(5);
    expect(requiredPowerForEvent("m.room.name", true, room.lookup(), room.version)).toBe(70);
    expect(requiredPowerForEvent("constructor", false, room.lookup(), room.version)).toBe(0);
  });
});
