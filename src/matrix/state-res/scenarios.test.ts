/**
 * Hand-built forks, each resolved the way a server would on receiving the second branch:
 * a ban racing a demotion, join rules flipping under a join, concurrent power-level changes,
 * v12 creators, and the v1 algorithm.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { stateKey, type StateMap } from "../events";
import { getRoomVersion, type RoomVersion } from "../room-versions";
import { resolveState } from "./index";
import { RoomBuilder } from "./test-support";

const ALICE = "@alice:example.com";
const BOB = "@bob:example.com";
const CAROL = "@carol:example.com";
const DAVE = "@dave:example.com";

const PL = stateKey("m.room.power_levels", "");
const JR = stateKey("m.room.join_rules", "");
const member = (user: string): string => stateKey("m.room.member", user);

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`no room version ${id}`);
  return v;
}

/**
 * A public room: alice creates it (100), bob is a moderator (50) who may ban, kick and send
 * state, carol has joined. Returns the builder, the current state and the last event id.
 */
function publicRoom(
  versionId: string,
  opts: { bobLevel?: number; users?: Record<string, number> } = {},
): { room: RoomBuilder; state: StateMap; head: string } {
  const v = version(versionId);
  const v12 = v.roomIdFromCreateEvent;
  const room = new RoomBuilder(v, v12 ? "!create" : "!room:example.com");
  let s: StateMap = new Map();
  s = room.send("$create", s, {
    type: "m.room.create",
    sender: ALICE,
    stateKey: "",
    content: v.implicitRoomCreator ? { room_version: v.id } : { creator: ALICE, room_version: v.id },
  });
  s = room.send("$alice-join", s, { type: "m.room.member", sender: ALICE, stateKey: ALICE, content: { membership: "join" }, prev: ["$create"] });
  const users = opts.users ?? (v12 ? { [BOB]: opts.bobLevel ?? 50 } : { [ALICE]: 100, [BOB]: opts.bobLevel ?? 50 });
  s = room.send("$pl1", s, {
    type: "m.room.power_levels",
    sender: ALICE,
    stateKey: "",
    content: { users, ban: 50, kick: 50, state_default: 50, events_default: 0, invite: 0, redact: 50 },
    prev: ["$alice-join"],
  });
  s = room.send("$jr-public", s, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "public" }, prev: ["$pl1"] });
  s = room.send("$bob-join", s, { type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" }, prev: ["$jr-public"] });
  s = room.send("$carol-join", s, { type: "m.room.member", sender: CAROL, stateKey: CAROL, content: { membership: "join" }, prev: ["$bob-join"] });
  return { room, state: s, head: "$carol-join" };
}

describe("a ban racing a power change", () => {
  it("the demotion sorts first (alice outranks bob), so bob's concurrent ban no longer passes", () => {
    const { room, state, head } = publicRoom("10");
    const demoted = room.send("$pl2-demote-bob", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, ban: 50, kick: 50, state_default: 50, events_default: 0, invite: 0, redact: 50 },
      prev: [head],
      ts: 100,
    });
    // Bob's ban is even older than the demotion: power, not time, decides the order.
    const banned = room.send("$bob-bans-carol", state, {
      type: "m.room.member",
      sender: BOB,
      stateKey: CAROL,
      content: { membership: "ban" },
      prev: [head],
      ts: 50,
    });

    for (const sets of [[demoted, banned], [banned, demoted]]) {
      const resolved = resolveState(room.version, sets, room.lookup);
      expect(resolved.get(PL)).toBe("$pl2-demote-bob");
      expect(resolved.get(member(CAROL))).toBe("$carol-join");
    }
  });

  it("without the demotion the ban stands against a concurrent unrelated change", () => {
    const { room, state, head } = publicRoom("10");
    const topic = room.send("$topic", state, { type: "m.room.topic", sender: ALICE, stateKey: "", content: { topic: "hi" }, prev: [head] });
    const banned = room.send("$bob-bans-carol", state, {
      type: "m.room.member",
      sender: BOB,
      stateKey: CAROL,
      content: { membership: "ban" },
      prev: [head],
    });
    const resolved = resolveState(room.version, [topic, banned], room.lookup);
    expect(resolved.get(member(CAROL))).toBe("$bob-bans-carol");
    expect(resolved.get(stateKey("m.room.topic", ""))).toBe("$topic");
    expect(resolved.get(PL)).toBe("$pl1");
  });

  it("a ban of the demoting admin by a moderator cannot pass: bob's level is below alice's", () => {
    const { room, state, head } = publicRoom("10");
    const demoted = room.send("$pl2-demote-bob", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, ban: 50, kick: 50, state_default: 50 },
      prev: [head],
    });
    const banAlice = room.send("$bob-bans-alice", state, {
      type: "m.room.member",
      sender: BOB,
      stateKey: ALICE,
      content: { membership: "ban" },
      prev: [head],
    });
    const resolved = resolveState(room.version, [demoted, banAlice], room.lookup);
    expect(resolved.get(member(ALICE))).toBe("$alice-join");
    expect(resolved.get(PL)).toBe("$pl2-demote-bob");
  });
});

describe("join rule flips", () => {
  it("a switch to invite-only beats a concurrent join made under the public rule", () => {
    const { room, state, head } = publicRoom("10");
    const invite = room.send("$jr-invite", state, {
      type: "m.room.join_rules",
      sender: ALICE,
      stateKey: "",
      content: { join_rule: "invite" },
      prev: [head],
    });
    const join = room.send("$dave-join", state, { type: "m.room.member", sender: DAVE, stateKey: DAVE, content: { membership: "join" }, prev: [head] });
    const resolved = resolveState(room.version, [invite, join], room.lookup);
    expect(resolved.get(JR)).toBe("$jr-invite");
    expect(resolved.has(member(DAVE))).toBe(false);
  });

  it("flipping to invite and back to public lets the concurrent join through", () => {
    const { room, state, head } = publicRoom("10");
    const invite = room.send("$jr-invite", state, {
      type: "m.room.join_rules",
      sender: ALICE,
      stateKey: "",
      content: { join_rule: "invite" },
      prev: [head],
    });
    const back = room.send("$jr-public-again", invite, {
      type: "m.room.join_rules",
      sender: ALICE,
      stateKey: "",
      content: { join_rule: "public" },
      prev: ["$jr-invite"],
    });
    const join = room.send("$dave-join", state, { type: "m.room.member", sender: DAVE, stateKey: DAVE, content: { membership: "join" }, prev: [head] });
    const resolved = resolveState(room.version, [back, join], room.lookup);
    expect(resolved.get(JR)).toBe("$jr-public-again");
    expect(resolved.get(member(DAVE))).toBe("$dave-join");
  });

  it("concurrent join rule changes apply in power order, so the moderator's comes last and stays", () => {
    const { room, state, head } = publicRoom("10");
    // The moderator's change is older; power still puts the admin's first.
    const admin = room.send("$jr-invite-alice", state, {
      type: "m.room.join_rules",
      sender: ALICE,
      stateKey: "",
      content: { join_rule: "invite" },
      prev: [head],
      ts: 200,
    });
    const mod = room.send("$jr-knock-bob", state, {
      type: "m.room.join_rules",
      sender: BOB,
      stateKey: "",
      content: { join_rule: "knock" },
      prev: [head],
      ts: 100,
    });
    expect(resolveState(room.version, [admin, mod], room.lookup).get(JR)).toBe("$jr-knock-bob");
    expect(resolveState(room.version, [mod, admin], room.lookup).get(JR)).toBe("$jr-knock-bob");
  });
});

describe("concurrent power level changes", () => {
  it("the admin's demotion of the moderator invalidates the moderator's concurrent promotion", () => {
    const { room, state, head } = publicRoom("10");
    const demote = room.send("$pl-alice", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, ban: 50, kick: 50, state_default: 50, events_default: 0, invite: 0, redact: 50 },
      prev: [head],
    });
    const promote = room.send("$pl-bob", state, {
      type: "m.room.power_levels",
      sender: BOB,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 }, ban: 50, kick: 50, state_default: 50, events_default: 0, invite: 0, redact: 50 },
      prev: [head],
    });
    expect(resolveState(room.version, [demote, promote], room.lookup).get(PL)).toBe("$pl-alice");
  });

  it("when the admin's change leaves the moderator's rights intact, the moderator's (sorted later) wins", () => {
    const { room, state, head } = publicRoom("10");
    const alice = room.send("$pl-alice", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50 }, ban: 50, kick: 50, state_default: 50, events_default: 10, invite: 0, redact: 50 },
      prev: [head],
    });
    const bob = room.send("$pl-bob", state, {
      type: "m.room.power_levels",
      sender: BOB,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 }, ban: 50, kick: 50, state_default: 50, events_default: 0, invite: 0, redact: 50 },
      prev: [head],
    });
    expect(resolveState(room.version, [alice, bob], room.lookup).get(PL)).toBe("$pl-bob");
  });

  it("between equally powerful senders the older change applies first and the newer one wins", () => {
    const { room, state, head } = publicRoom("10", { bobLevel: 100 });
    const content = (extra: Record<string, number>): Record<string, unknown> => ({
      users: { [ALICE]: 100, [BOB]: 100, ...extra },
      state_default: 50,
    });
    const early = room.send("$pl-zz-early", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: content({ [CAROL]: 10 }),
      prev: [head],
      ts: 1000,
    });
    const late = room.send("$pl-aa-late", state, {
      type: "m.room.power_levels",
      sender: BOB,
      stateKey: "",
      content: content({ [CAROL]: 20 }),
      prev: [head],
      ts: 2000,
    });
    expect(resolveState(room.version, [early, late], room.lookup).get(PL)).toBe("$pl-aa-late");

    // Same timestamp: the event id breaks the tie, the larger one applying last.
    const { room: r2, state: s2, head: h2 } = publicRoom("10", { bobLevel: 100 });
    const a = r2.send("$pl-a", s2, { type: "m.room.power_levels", sender: BOB, stateKey: "", content: content({ [CAROL]: 10 }), prev: [h2], ts: 5000 });
    const b = r2.send("$pl-b", s2, { type: "m.room.power_levels", sender: ALICE, stateKey: "", content: content({ [CAROL]: 20 }), prev: [h2], ts: 5000 });
    expect(resolveState(r2.version, [b, a], r2.lookup).get(PL)).toBe("$pl-b");
  });

  it("v11: equal admins tie on power, so the older ban applies first and stands", () => {
    const { room, state, head } = publicRoom("11", { bobLevel: 100 });
    const ban = room.send("$bob-bans-carol", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "ban" }, prev: [head], ts: 10 });
    const demote = room.send("$pl-demote-bob", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, ban: 50, kick: 50, state_default: 50 },
      prev: [head],
      ts: 20,
    });
    const resolved = resolveState(room.version, [ban, demote], room.lookup);
    expect(resolved.get(member(CAROL))).toBe("$bob-bans-carol");
    // And the demotion itself fails: a user cannot lower the level of an equal.
    expect(resolved.get(PL)).toBe("$pl1");
  });

  it("v12: the creator's power is infinite, so the same demotion sorts first and the ban fails", () => {
    const { room, state, head } = publicRoom("12", { bobLevel: 100 });
    const ban = room.send("$bob-bans-carol", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "ban" }, prev: [head], ts: 10 });
    const demote = room.send("$pl-demote-bob", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [BOB]: 0 }, ban: 50, kick: 50, state_default: 50 },
      prev: [head],
      ts: 20,
    });
    expect(room.get("$pl-demote-bob").auth_events).not.toContain("$create");
    const resolved = resolveState(room.version, [ban, demote], room.lookup);
    expect(resolved.get(member(CAROL))).toBe("$carol-join");
    expect(resolved.get(PL)).toBe("$pl-demote-bob");
    expect(resolved.get(stateKey("m.room.create", ""))).toBe("$create");
  });
});

describe("state resolution v1 (room version 1)", () => {
  const sha1 = (s: string): string => createHash("sha1").update(s, "utf8").digest("hex");

  function v1Room(): { room: RoomBuilder; state: StateMap; head: string } {
    const room = new RoomBuilder(version("1"));
    let s: StateMap = new Map();
    s = room.send("$create:example.com", s, { type: "m.room.create", sender: ALICE, stateKey: "", content: { creator: ALICE } });
    s = room.send("$alice-join:example.com", s, { type: "m.room.member", sender: ALICE, stateKey: ALICE, content: { membership: "join" }, prev: ["$create:example.com"] });
    s = room.send("$pl1:example.com", s, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50 }, state_default: 50, ban: 50, kick: 50 },
      prev: ["$alice-join:example.com"],
    });
    s = room.send("$jr:example.com", s, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "public" }, prev: ["$pl1:example.com"] });
    s = room.send("$bob-join:example.com", s, { type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" }, prev: ["$jr:example.com"] });
    s = room.send("$carol-join:example.com", s, { type: "m.room.member", sender: CAROL, stateKey: CAROL, content: { membership: "join" }, prev: ["$bob-join:example.com"] });
    return { room, state: s, head: "$carol-join:example.com" };
  }

  it("a conflicting topic goes to the deepest event that passes auth", () => {
    const { room, state, head } = v1Room();
    const shallow = room.send("$topic-a:example.com", state, { type: "m.room.topic", sender: ALICE, stateKey: "", content: { topic: "a" }, prev: [head] });
    const mid = room.send("$msg:example.com", state, { type: "m.room.message", sender: ALICE, content: { body: "x" }, prev: [head] });
    const deep = room.send("$topic-b:example.com", mid, { type: "m.room.topic", sender: BOB, stateKey: "", content: { topic: "b" }, prev: ["$msg:example.com"] });
    expect(room.get("$topic-b:example.com").depth).toBeGreaterThan(room.get("$topic-a:example.com").depth);
    expect(resolveState(room.version, [shallow, deep], room.lookup).get(stateKey("m.room.topic", ""))).toBe("$topic-b:example.com");
  });

  it("when the deepest topic fails auth, the next one that passes is taken", () => {
    const { room, state, head } = v1Room();
    const ok = room.send("$topic-ok:example.com", state, { type: "m.room.topic", sender: BOB, stateKey: "", content: { topic: "ok" }, prev: [head] });
    const mid = room.send("$msg:example.com", state, { type: "m.room.message", sender: CAROL, content: { body: "x" }, prev: [head] });
    // Carol (0) may not send state (state_default 50).
    const denied = room.send("$topic-carol:example.com", mid, { type: "m.room.topic", sender: CAROL, stateKey: "", content: { topic: "no" }, prev: ["$msg:example.com"] });
    expect(resolveState(room.version, [ok, denied], room.lookup).get(stateKey("m.room.topic", ""))).toBe("$topic-ok:example.com");
  });

  it("equal depths fall back to the lowest sha1 of the event id", () => {
    const { room, state, head } = v1Room();
    const ids = ["$topic-x:example.com", "$topic-y:example.com"];
    const sets = ids.map((id) => room.send(id, state, { type: "m.room.topic", sender: ALICE, stateKey: "", content: { topic: id }, prev: [head] }));
    const winner = [...ids].sort((a, b) => (sha1(a) < sha1(b) ? -1 : 1))[0];
    expect(resolveState(room.version, sets, room.lookup).get(stateKey("m.room.topic", ""))).toBe(winner);
  });

  it("power levels: from the shallowest, each later event replaces it while it passes auth in the state so far", () => {
    const { room, state, head } = v1Room();
    // Alice demotes bob (depth d+1); bob, still a 50 on his own branch, edits power levels at d+2.
    const demote = room.send("$pl-alice:example.com", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, state_default: 50, ban: 50, kick: 50 },
      prev: [head],
    });
    const mid = room.send("$msg:example.com", state, { type: "m.room.message", sender: BOB, content: { body: "x" }, prev: [head] });
    const bobs = room.send("$pl-bob:example.com", mid, {
      type: "m.room.power_levels",
      sender: BOB,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 50 }, state_default: 50, ban: 50, kick: 50 },
      prev: ["$msg:example.com"],
    });
    // Bob's (deeper) change is checked against alice's demotion and refused: alice's stays.
    expect(resolveState(room.version, [demote, bobs], room.lookup).get(PL)).toBe("$pl-alice:example.com");

    // Had alice's change kept bob at 50, bob's deeper one would have replaced it.
    const keep = room.send("$pl-alice-keep:example.com", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 50 }, state_default: 50, ban: 50, kick: 50, events_default: 5 },
      prev: [head],
    });
    expect(resolveState(room.version, [keep, bobs], room.lookup).get(PL)).toBe("$pl-bob:example.com");
  });

  it("memberships are resolved after power levels, against the resolved power levels", () => {
    const { room, state, head } = v1Room();
    const demote = room.send("$pl-alice:example.com", state, {
      type: "m.room.power_levels",
      sender: ALICE,
      stateKey: "",
      content: { users: { [ALICE]: 100, [BOB]: 0 }, state_default: 50, ban: 50, kick: 50 },
      prev: [head],
    });
    const ban = room.send("$ban-carol:example.com", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "ban" }, prev: [head] });
    const both = new Map(demote);
    // A key only one state set has is no conflict in v1.
    const resolved = resolveState(room.version, [both, ban], room.lookup);
    expect(resolved.get(PL)).toBe("$pl-alice:example.com");
    expect(resolved.get(member(CAROL))).toBe("$carol-join:example.com");
  });

  it("a key missing from one state set is not a conflict (unlike v2)", () => {
    const { room, state } = v1Room();
    const partial = new Map(state);
    partial.delete(member(CAROL));
    const extra = new Map(state);
    extra.set(stateKey("m.room.topic", ""), "$nonexistent-topic:example.com");
    const resolved = resolveState(room.version, [partial, extra], room.lookup);
    expect(resolved.get(member(CAROL))).toBe("$carol-join:example.com");
    expect(resolved.get(stateKey("m.room.topic", ""))).toBe("$nonexistent-topic:example.com");
  });
});
