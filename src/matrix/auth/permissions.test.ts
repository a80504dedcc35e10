import { describe, expect, it } from "vitest";
import { notificationPowerLevel } from "./power-levels";
import { actionPowerLevel, canUserDo, joinRuleOf, mayApplyRedaction, membershipOf } from "./permissions";
import { ALICE, BOB, CAROL, DAVE, standardRoom, TestRoom } from "./test-room";

describe("engine helpers", () => {
  it("membershipOf and joinRuleOf read the state", () => {
    const room = standardRoom("10", "knock");
    expect(membershipOf(ALICE, room.lookup())).toBe("join");
    expect(membershipOf(BOB, room.lookup())).toBeUndefined();
    expect(joinRuleOf(room.lookup())).toBe("knock");
    expect(joinRuleOf(new TestRoom("10").lookup())).toBe("invite");
  });

  it("actionPowerLevel uses the defaults without power levels", () => {
    const room = new TestRoom("10");
    expect(actionPowerLevel("invite", room.lookup(), room.version)).toBe(0);
    expect(actionPowerLevel("kick", room.lookup(), room.version)).toBe(50);
    expect(actionPowerLevel("ban", room.lookup(), room.version)).toBe(50);
    expect(actionPowerLevel("redact", room.lookup(), room.version)).toBe(50);
  });

  it("canUserDo compares with the action's level and, for kick and ban, the target", () => {
    const room = standardRoom("10", "public", { users: { [CAROL]: 50, [DAVE]: 50 }, pl: { invite: 10 } });
    const s = room.lookup();
    expect(canUserDo(BOB, "invite", s, room.version)).toBe(false);
    expect(canUserDo(CAROL, "invite", s, room.version)).toBe(true);
    expect(canUserDo(CAROL, "kick", s, room.version, BOB)).toBe(true);
    expect(canUserDo(CAROL, "kick", s, room.version, DAVE)).toBe(false);
    expect(canUserDo(CAROL, "ban", s, room.version, ALICE)).toBe(false);
    expect(canUserDo(ALICE, "ban", s, room.version, CAROL)).toBe(true);
    expect(canUserDo(CAROL, "redact", s, room.version)).toBe(true);
    expect(canUserDo(BOB, "redact", s, room.version)).toBe(false);
  });

  it("canUserDo: v12 creators can do anything to non-creators", () => {
    const room = standardRoom("12", "public", { users: { [CAROL]: 100 } });
    expect(canUserDo(ALICE, "ban", room.lookup(), room.version, CAROL)).toBe(true);
    expect(canUserDo(CAROL, "ban", room.lookup(), room.version, ALICE)).toBe(false);
  });

  it("mayApplyRedaction: redact level, or same server as the original sender", () => {
    const room = standardRoom("11");
    expect(mayApplyRedaction(ALICE, BOB, room.lookup(), room.version)).toBe(true);
    expect(mayApplyRedaction(CAROL, ALICE, room.lookup(), room.version)).toBe(true);
    expect(mayApplyRedaction(BOB, ALICE, room.lookup(), room.version)).toBe(false);
    expect(mayApplyRedaction(BOB, BOB, room.lookup(), room.version)).toBe(true);
  });

  it("notificationPowerLevel: room defaults to 50, explicit values win", () => {
    const bare = standardRoom("10");
    expect(notificationPowerLevel("room", bare.lookup(), bare.version)).toBe(50);
    const room = standardRoom("10", "public", { pl: { notifications: { room: 20 } } });
    expect(notificationPowerLevel("room", room.lookup(), room.version)).toBe(20);
  });
});
