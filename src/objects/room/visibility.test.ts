import { describe, expect, it } from "vitest";
import { makeTestRoom, type TestRoom } from "../../../test/support/room-fixture";
import { splitStateKey } from "../../matrix/events";
import { MemberReader } from "./room-reader";
import { RoomStore } from "./room-store";
import { VisibilityChecker } from "./visibility";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";
const EVE = "@eve:a.test";

function sees(room: TestRoom, userId: string, eventId: string): boolean {
  return new VisibilityChecker(room.store, userId).canSee(room.store.getEvent(eventId)!);
}

describe("history visibility: the spec's rules", () => {
  it("lets a user see their own join and leave in a joined-only room, and nothing while away", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const hidden = await room.send(ALICE, "m.room.message", { body: "before" });
    const join = await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const seen = await room.send(ALICE, "m.room.message", { body: "while joined" });
    const leave = await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
    const away = await room.send(ALICE, "m.room.message", { body: "after" });
    expect([hidden, join, seen, leave, away].map((e) => sees(room, BOB, e.event_id))).toEqual([false, true, true, true, false]);
  });

  it("lets a user see their own ban (membership before it was join)", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const ban = await room.send(ALICE, "m.room.member", { membership: "ban" }, BOB);
    expect(sees(room, BOB, ban.event_id)).toBe(true);
  });

  it("shows a history_visibility change to a stranger when the setting before or after it is world_readable", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const hidden = await room.send(ALICE, "m.room.message", { body: "private" });
    const open = await room.send(ALICE, "m.room.history_visibility", { history_visibility: "world_readable" }, "");
    const public1 = await room.send(ALICE, "m.room.message", { body: "public" });
    const close = await room.send(ALICE, "m.room.history_visibility", { history_visibility: "joined" }, "");
    const hidden2 = await room.send(ALICE, "m.room.message", { body: "private again" });
    expect([hidden, open, public1, close, hidden2].map((e) => sees(room, EVE, e.event_id))).toEqual([false, true, true, true, false]);
  });

  it("shared: a user who joined later and then left still sees what came before their join, not what came after their leave", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "shared" });
    const early = await room.send(ALICE, "m.room.message", { body: "early" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
    const late = await room.send(ALICE, "m.room.message", { body: "late" });
    expect(sees(room, BOB, early.event_id)).toBe(true);
    expect(sees(room, BOB, late.event_id)).toBe(false);
    // A stranger sees neither.
    expect(sees(room, EVE, early.event_id)).toBe(false);
  });

  it("invited: only a room set to invited shows events between the invite and the join", async () => {
    for (const [setting, expected] of [
      ["invited", true],
      ["joined", false],
    ] as const) {
      const room = await makeTestRoom(ALICE, { historyVisibility: setting });
      const invite = await room.send(ALICE, "m.room.member", { membership: "invite" }, BOB);
      const between = await room.send(ALICE, "m.room.message", { body: "between" });
      await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
      expect(sees(room, BOB, invite.event_id), setting).toBe(expected);
      expect(sees(room, BOB, between.event_id), setting).toBe(expected);
    }
  });

  it("refuses the room to a never-member unless it is world-readable now", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "shared" });
    expect(new VisibilityChecker(room.store, EVE).mayReadRoom()).toBe(false);
    await room.send(ALICE, "m.room.history_visibility", { history_visibility: "world_readable" }, "");
    expect(new VisibilityChecker(room.store, EVE).mayReadRoom()).toBe(true);
  });
});

describe("history visibility: /event and /members readers", () => {
  it("serves /event only for visible events: 404 for hidden ones, 403 for a never-member", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    const hidden = await room.send(ALICE, "m.room.message", { body: "before" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const seen = await room.send(ALICE, "m.room.message", { body: "after" });
    expect(room.reader.event(BOB, hidden.event_id)).toMatchObject({ ok: false, errcode: "M_NOT_FOUND" });
    expect(room.reader.event(BOB, seen.event_id)).toMatchObject({ ok: true, value: { event_id: seen.event_id } });
    expect(room.reader.event(EVE, seen.event_id)).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });
  });

  it("gives a departed member the member list as of their leave, a stranger in a world-readable room the current one", async () => {
    const room = await makeTestRoom(ALICE, { historyVisibility: "joined" });
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    await room.send(BOB, "m.room.member", { membership: "leave" }, BOB);
    await room.send("@carol:a.test", "m.room.member", { membership: "join" }, "@carol:a.test");
    const members = new MemberReader(room.store, room.reader);
    const forBob = members.members(BOB, {});
    expect(forBob.ok && forBob.value.map((e) => `${e.state_key}=${e.content.membership}`).sort()).toEqual([`${ALICE}=join`, `${BOB}=leave`]);
    expect(members.members(EVE, {})).toMatchObject({ ok: false, errcode: "M_FORBIDDEN" });

    await room.send(ALICE, "m.room.history_visibility", { history_visibility: "world_readable" }, "");
    const forEve = members.members(EVE, {});
    expect(forEve.ok && forEve.value.map((e) => e.state_key).sort()).toEqual([ALICE, BOB, "@carol:a.test"].sort());
  });
});

describe("room store: single-key state lookups", () => {
  it("agrees with the fully loaded state group along a long delta chain", async () => {
    const room = await makeTestRoom(ALICE);
    for (let i = 0; i < 90; i++) {
      if (i % 3 === 0) await room.send(`@u${i}:a.test`, "m.room.member", { membership: "join" }, `@u${i}:a.test`);
      else await room.send(ALICE, "m.room.topic", { topic: `t${i}` }, "");
    }
    const groups = room.store.sql.all<{ id: number }>("SELECT id FROM state_groups").map((r) => r.id);
    expect(groups.length).toBeGreaterThan(64);
    for (const g of groups) {
      // A fresh store has no cached groups, so every lookup walks the chain in SQL.
      const fresh = new RoomStore(room.store.sql);
      const full = room.store.loadStateGroup(g);
      for (const [k, id] of full) {
        const [type, key] = splitStateKey(k);
        expect(fresh.stateEventIdAt(g, type, key)).toBe(id);
      }
      expect(fresh.stateEventIdAt(g, "m.room.member", "@nobody:a.test")).toBeUndefined();
    }
  });
});
