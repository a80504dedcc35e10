import { describe, expect, it } from "vitest";
import { joinAuthorisingSignature } from "./membership";
import { getRoomVersion } from "../room-versions";
import type { JsonObject } from "../canonical-json";
import { ALICE, ALL_VERSIONS, BOB, CAROL, DAVE, EVE, standardRoom, TestRoom, type EventSpec } from "./test-room";

describe("m.room.member shape", () => {
  for (const v of ["1", "12"]) {
    it(`v${v}: needs a state_key and content.membership; unknown memberships are rejected`, () => {
      const room = standardRoom(v);
      expect(room.check({ type: "m.room.member", sender: BOB, content: { membership: "join" } }).ok).toBe(false);
      expect(room.check({ type: "m.room.member", sender: BOB, state_key: BOB, content: {} }).ok).toBe(false);
      expect(room.check({ type: "m.room.member", sender: BOB, state_key: BOB, content: { membership: "dance" } }).ok).toBe(false);
      expect(room.check({ type: "m.room.member", sender: BOB, state_key: BOB, content: { membership: 1 } }).ok).toBe(false);
      expect(room.check(room.member(BOB, "join")).ok).toBe(true);
    });
  }
});

describe("the creator's first join", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: the creator may join right after the create event; nobody else may`, () => {
      const room = new TestRoom(v);
      expect(room.check(room.member(ALICE, "join")).ok).toBe(true);
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
      // Only when the create event is the only prev event.
      expect(room.check({ ...room.member(ALICE, "join"), prev_events: [room.create.event_id, "$other"] }).ok).toBe(false);
    });
  }
  it("v10: the creator is content.creator", () => {
    const room = new TestRoom("10", { createContent: { creator: CAROL } });
    expect(room.check(room.member(CAROL, "join")).ok).toBe(true);
    expect(room.check(room.member(ALICE, "join")).ok).toBe(false);
  });
  it("v11: the creator is the create event's sender", () => {
    const room = new TestRoom("11", { createContent: { creator: CAROL } });
    expect(room.check(room.member(ALICE, "join")).ok).toBe(true);
    expect(room.check(room.member(CAROL, "join")).ok).toBe(false);
  });
  it("v12: additional creators do not get the first-join exception", () => {
    const room = new TestRoom("12", { createContent: { additional_creators: [BOB] } });
    expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    expect(room.check(room.member(ALICE, "join")).ok).toBe(true);
  });
});

describe("join", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: public rooms admit anyone who is not banned`, () => {
      const room = standardRoom(v, "public");
      expect(room.check(room.member(BOB, "join")).ok).toBe(true);
      room.setMembership(BOB, "ban");
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    });
    it(`v${v}: nobody can join on someone else's behalf`, () => {
      const room = standardRoom(v, "public");
      expect(room.check({ ...room.member(BOB, "join"), sender: ALICE }).ok).toBe(false);
    });
    it(`v${v}: invite-only rooms admit the invited and the joined`, () => {
      const room = standardRoom(v, "invite");
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
      room.setMembership(BOB, "invite");
      expect(room.check(room.member(BOB, "join")).ok).toBe(true);
      room.setMembership(BOB, "join");
      expect(room.check(room.member(BOB, "join", { displayname: "Bob" })).ok).toBe(true);
      room.setMembership(BOB, "leave");
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    });
  }

  it("a banned user cannot join even when invited-looking state is gone", () => {
    const room = standardRoom("10", "invite");
    room.setMembership(BOB, "ban");
    expect(room.check(room.member(BOB, "join")).ok).toBe(false);
  });

  it("without a join rules event the room behaves as invite-only", () => {
    const room = new TestRoom("10");
    room.join(ALICE);
    expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    room.setMembership(BOB, "invite");
    expect(room.check(room.member(BOB, "join")).ok).toBe(true);
  });

  it("private and unknown join rules admit nobody new", () => {
    for (const rule of ["private", "secret"]) {
      const room = standardRoom("10", rule);
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
      room.setMembership(CAROL, "invite");
      expect(room.check(room.member(CAROL, "join")).ok).toBe(false);
    }
  });

  it("v6: an invited user cannot join a room whose rule is knock (no such rule yet)", () => {
    const room = standardRoom("6", "knock");
    room.setMembership(BOB, "invite");
    expect(room.check(room.member(BOB, "join")).ok).toBe(false);
  });
  it("v7: join rule knock admits the invited", () => {
    const room = standardRoom("7", "knock");
    expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    room.setMembership(BOB, "invite");
    expect(room.check(room.member(BOB, "join")).ok).toBe(true);
  });
});

describe("restricted joins", () => {
  const setup = (v: string, rule = "restricted", pl: Record<string, number> = {}) => {
    const room = standardRoom(v, rule, { users: { [CAROL]: 0, [DAVE]: 50 }, pl });
    room.setMembership(CAROL, "join");
    room.setMembership(DAVE, "join");
    return room;
  };
  const joinVia = (room: TestRoom, user: string, authoriser?: string) =>
    room.member(user, "join", authoriser === undefined ? {} : { join_authorised_via_users_server: authoriser });

  for (const v of ["8", "9", "10", "11", "12"]) {
    it(`v${v}: a join authorised by a joined member with invite power is allowed`, () => {
      const room = setup(v);
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(true);
      expect(room.check(joinVia(room, BOB, ALICE)).ok).toBe(true);
    });
    it(`v${v}: the authoriser must be joined`, () => {
      const room = setup(v);
      expect(room.check(joinVia(room, BOB, EVE)).ok).toBe(false);
      room.setMembership(EVE, "invite");
      expect(room.check(joinVia(room, BOB, EVE)).ok).toBe(false);
    });
    it(`v${v}: the authoriser must reach the invite level`, () => {
      const room = setup(v, "restricted", { invite: 50 });
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(false);
      expect(room.check(joinVia(room, BOB, DAVE)).ok).toBe(true);
    });
    it(`v${v}: without an authoriser only the invited or joined may join`, () => {
      const room = setup(v);
      expect(room.check(joinVia(room, BOB)).ok).toBe(false);
      room.setMembership(BOB, "invite");
      expect(room.check(joinVia(room, BOB)).ok).toBe(true);
    });
    it(`v${v}: a banned user cannot join even with an authoriser`, () => {
      const room = setup(v);
      room.setMembership(BOB, "ban");
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(false);
    });
  }
  for (const v of ["1", "6", "7"]) {
    it(`v${v}: restricted is not a join rule yet, so nobody new gets in`, () => {
      const room = setup(v);
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(false);
      room.setMembership(BOB, "invite");
      expect(room.check(joinVia(room, BOB)).ok).toBe(false);
    });
  }
  for (const v of ["8", "9"]) {
    it(`v${v}: knock_restricted is not a join rule yet`, () => {
      const room = setup(v, "knock_restricted");
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(false);
      expect(room.check(room.member(BOB, "knock")).ok).toBe(false);
    });
  }
  for (const v of ["10", "11", "12"]) {
    it(`v${v}: knock_restricted admits authorised joins and knocks`, () => {
      const room = setup(v, "knock_restricted");
      expect(room.check(joinVia(room, BOB, CAROL)).ok).toBe(true);
      expect(room.check(joinVia(room, BOB)).ok).toBe(false);
      expect(room.check(room.member(BOB, "knock")).ok).toBe(true);
    });
  }
});

describe("knock", () => {
  for (const v of ["1", "6"]) {
    it(`v${v}: knock is an unknown membership`, () => {
      const room = standardRoom(v, "knock");
      expect(room.check(room.member(BOB, "knock")).ok).toBe(false);
    });
  }
  for (const v of ["7", "9", "11", "12"]) {
    it(`v${v}: knocking needs the knock join rule`, () => {
      expect(standardRoom(v, "knock").check(standardRoom(v, "knock").member(BOB, "knock")).ok).toBe(true);
      for (const rule of ["public", "invite", "restricted"]) {
        const room = standardRoom(v, rule);
        expect(room.check(room.member(BOB, "knock")).ok).toBe(false);
      }
    });
    it(`v${v}: only for oneself, and not while banned, invited or joined`, () => {
      const room = standardRoom(v, "knock");
      expect(room.check({ ...room.member(BOB, "knock"), sender: ALICE }).ok).toBe(false);
      for (const m of ["ban", "invite", "join"]) {
        room.setMembership(BOB, m);
        expect(room.check(room.member(BOB, "knock")).ok).toBe(false);
      }
      for (const m of ["leave", "knock"]) {
        room.setMembership(BOB, m);
        expect(room.check(room.member(BOB, "knock")).ok).toBe(true);
      }
    });
    it(`v${v}: a knocking user can be invited and can withdraw`, () => {
      const room = standardRoom(v, "knock");
      room.setMembership(BOB, "knock");
      expect(room.check({ ...room.member(BOB, "invite"), sender: ALICE }).ok).toBe(true);
      expect(room.check(room.member(BOB, "leave")).ok).toBe(true);
      // Knocking does not let one in.
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
    });
  }
});

describe("invite", () => {
  const invite = (sender: string, target: string) => ({ type: "m.room.member", sender, state_key: target, content: { membership: "invite" } });
  for (const v of ALL_VERSIONS) {
    it(`v${v}: a joined member with invite power may invite`, () => {
      const room = standardRoom(v, "invite");
      expect(room.check(invite(ALICE, BOB)).ok).toBe(true);
      // invite defaults to 0, so any member may invite.
      room.setMembership(CAROL, "join");
      expect(room.check(invite(CAROL, BOB)).ok).toBe(true);
    });
    it(`v${v}: the sender must be joined`, () => {
      const room = standardRoom(v, "invite");
      room.setMembership(CAROL, "invite");
      expect(room.check(invite(CAROL, BOB)).ok).toBe(false);
    });
    it(`v${v}: joined or banned targets cannot be invited`, () => {
      const room = standardRoom(v, "invite");
      room.setMembership(BOB, "join");
      expect(room.check(invite(ALICE, BOB)).ok).toBe(false);
      room.setMembership(BOB, "ban");
      expect(room.check(invite(ALICE, BOB)).ok).toBe(false);
      room.setMembership(BOB, "leave");
      expect(room.check(invite(ALICE, BOB)).ok).toBe(true);
      room.setMembership(BOB, "invite");
      expect(room.check(invite(ALICE, BOB)).ok).toBe(true);
    });
    it(`v${v}: the invite level applies`, () => {
      const room = standardRoom(v, "invite", { pl: { invite: 50 } });
      room.setMembership(CAROL, "join");
      expect(room.check(invite(CAROL, BOB)).ok).toBe(false);
      expect(room.check(invite(ALICE, BOB)).ok).toBe(true);
    });
  }
});

describe("invite from a third-party invite", () => {
  const tpiRoom = (v = "10") => {
    const room = standardRoom(v, "invite");
    room.send({
      type: "m.room.third_party_invite",
      sender: ALICE,
      state_key: "tok",
      content: { display_name: "b…@example.org", key_validity_url: "https://id.test/v", public_key: "AAAA" },
    });
    return room;
  };
  const tpiInvite = (sender: string, target: string, signed: JsonObject | null = { mxid: target, token: "tok", signatures: {} }): EventSpec => {
    const tpi: JsonObject = { display_name: "x" };
    if (signed !== null) tpi.signed = signed;
    return { type: "m.room.member", sender, state_key: target, content: { membership: "invite", third_party_invite: tpi } };
  };
  const yes = { verifyThirdPartyInvite: () => true };

  it("is rejected when no verifier is supplied (fail closed)", () => {
    const room = tpiRoom();
    expect(room.check(tpiInvite(ALICE, BOB)).ok).toBe(false);
  });
  for (const v of ["1", "7", "10", "12"]) {
    it(`v${v}: is allowed when the signature verifies`, () => {
      const room = tpiRoom(v);
      let seen: [string, string] | undefined;
      const r = room.check(tpiInvite(ALICE, BOB), {
        verifyThirdPartyInvite: (ev, inv) => {
          seen = [ev.state_key!, inv.state_key!];
          return true;
        },
      });
      expect(r.ok).toBe(true);
      expect(seen).toEqual([BOB, "tok"]);
    });
  }
  it("is rejected when the signature does not verify", () => {
    expect(tpiRoom().check(tpiInvite(ALICE, BOB), { verifyThirdPartyInvite: () => false }).ok).toBe(false);
  });
  it("is rejected without signed, mxid or token", () => {
    const room = tpiRoom();
    expect(room.check(tpiInvite(ALICE, BOB, null), yes).ok).toBe(false);
    expect(room.check(tpiInvite(ALICE, BOB, { token: "tok" }), yes).ok).toBe(false);
    expect(room.check(tpiInvite(ALICE, BOB, { mxid: BOB }), yes).ok).toBe(false);
  });
  it("is rejected when mxid is not the state_key", () => {
    expect(tpiRoom().check(tpiInvite(ALICE, BOB, { mxid: CAROL, token: "tok" }), yes).ok).toBe(false);
  });
  it("is rejected when no m.room.third_party_invite has the token", () => {
    expect(tpiRoom().check(tpiInvite(ALICE, BOB, { mxid: BOB, token: "other" }), yes).ok).toBe(false);
  });
  it("is rejected when the sender did not send the third-party invite", () => {
    const room = tpiRoom();
    room.setMembership(CAROL, "join");
    expect(room.check(tpiInvite(CAROL, BOB), yes).ok).toBe(false);
  });
  it("is rejected when the target is banned", () => {
    const room = tpiRoom();
    room.setMembership(BOB, "ban");
    expect(room.check(tpiInvite(ALICE, BOB), yes).ok).toBe(false);
  });
  it("does not itself require the sender to be joined (the spec allows on a matching signature)", () => {
    const room = tpiRoom();
    room.setMembership(ALICE, "leave");
    expect(room.check(tpiInvite(ALICE, BOB), yes).ok).toBe(true);
  });
});

describe("leave and kick", () => {
  for (const v of ALL_VERSIONS) {
    it(`v${v}: a user may leave from join or invite, not from leave or ban`, () => {
      const room = standardRoom(v);
      for (const [from, ok] of [["join", true], ["invite", true], ["leave", false], ["ban", false]] as const) {
        room.setMembership(BOB, from);
        expect(room.check(room.member(BOB, "leave")).ok, from).toBe(ok);
      }
    });
  }
  it("v6: a knock membership cannot be left (it does not exist yet); v7 can", () => {
    const v6 = standardRoom("6");
    v6.setMembership(BOB, "knock");
    expect(v6.check(v6.member(BOB, "leave")).ok).toBe(false);
    const v7 = standardRoom("7");
    v7.setMembership(BOB, "knock");
    expect(v7.check(v7.member(BOB, "leave")).ok).toBe(true);
  });

  const kick = (sender: string, target: string) => ({ type: "m.room.member", sender, state_key: target, content: { membership: "leave" } });
  for (const v of ["1", "10", "12"]) {
    it(`v${v}: kicking needs the kick level and a higher level than the target`, () => {
      const room = standardRoom(v, "public", { users: { [CAROL]: 50, [DAVE]: 50 } });
      for (const u of [BOB, CAROL, DAVE]) room.setMembership(u, "join");
      expect(room.check(kick(ALICE, BOB)).ok).toBe(true);
      expect(room.check(kick(CAROL, BOB)).ok).toBe(true);
      expect(room.check(kick(CAROL, DAVE)).ok).toBe(false);
      expect(room.check(kick(BOB, CAROL)).ok).toBe(false);
      expect(room.check(kick(CAROL, ALICE)).ok).toBe(false);
    });
    it(`v${v}: the kicker must be joined`, () => {
      const room = standardRoom(v);
      room.setMembership(BOB, "join");
      room.setMembership(ALICE, "leave");
      expect(room.check(kick(ALICE, BOB)).ok).toBe(false);
    });
    it(`v${v}: unbanning needs both the ban and the kick level`, () => {
      const room = standardRoom(v, "public", { users: { [CAROL]: 60, [DAVE]: 80 }, pl: { kick: 50, ban: 75 } });
      room.setMembership(CAROL, "join");
      room.setMembership(DAVE, "join");
      room.setMembership(BOB, "ban");
      expect(room.check(kick(CAROL, BOB)).ok).toBe(false);
      expect(room.check(kick(DAVE, BOB)).ok).toBe(true);
    });
  }
});

describe("ban", () => {
  const ban = (sender: string, target: string) => ({ type: "m.room.member", sender, state_key: target, content: { membership: "ban" } });
  for (const v of ["1", "7", "11", "12"]) {
    it(`v${v}: banning needs the ban level and a higher level than the target`, () => {
      const room = standardRoom(v, "public", { users: { [CAROL]: 50, [DAVE]: 50 } });
      for (const u of [CAROL, DAVE]) room.setMembership(u, "join");
      expect(room.check(ban(ALICE, BOB)).ok).toBe(true);
      expect(room.check(ban(CAROL, BOB)).ok).toBe(true);
      expect(room.check(ban(CAROL, DAVE)).ok).toBe(false);
      expect(room.check(ban(CAROL, ALICE)).ok).toBe(false);
      room.setMembership(BOB, "join");
      expect(room.check(ban(BOB, EVE)).ok).toBe(false);
    });
    it(`v${v}: the banner must be joined, and may ban users who never joined`, () => {
      const room = standardRoom(v);
      room.setMembership(ALICE, "invite");
      expect(room.check(ban(ALICE, BOB)).ok).toBe(false);
    });
    it(`v${v}: a ban beats a later join in a public room`, () => {
      const room = standardRoom(v, "public");
      room.join(BOB);
      room.send(ban(ALICE, BOB));
      expect(room.check(room.member(BOB, "join")).ok).toBe(false);
      expect(room.check(room.member(BOB, "leave")).ok).toBe(false);
    });
  }
});

describe("joinAuthorisingSignature (v8+ rule 4.2)", () => {
  const ev = (content: Record<string, unknown>) => ({ type: "m.room.member", content });
  it("names the authorising user's server from v8", () => {
    expect(joinAuthorisingSignature(ev({ membership: "join", join_authorised_via_users_server: "@c:c.test:8448" }), getRoomVersion("8")!)).toEqual({
      kind: "required",
      serverName: "c.test:8448",
    });
  });
  it("asks nothing before v8, or when the key is absent", () => {
    expect(joinAuthorisingSignature(ev({ membership: "join", join_authorised_via_users_server: "@c:c.test" }), getRoomVersion("7")!)).toEqual({ kind: "none" });
    expect(joinAuthorisingSignature(ev({ membership: "join" }), getRoomVersion("10")!)).toEqual({ kind: "none" });
    expect(joinAuthorisingSignature({ type: "m.room.message", content: { join_authorised_via_users_server: "@c:c.test" } }, getRoomVersion("10")!)).toEqual({ kind: "none" });
  });
  it("is unsatisfiable when the key names no user", () => {
    expect(joinAuthorisingSignature(ev({ membership: "join", join_authorised_via_users_server: 5 }), getRoomVersion("10")!).kind).toBe("invalid");
    expect(joinAuthorisingSignature(ev({ membership: "join", join_authorised_via_users_server: "c.test" }), getRoomVersion("10")!).kind).toBe("invalid");
  });
});
