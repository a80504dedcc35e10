import { describe, expect, it } from "vitest";
import { TYPING_DEFAULT_TIMEOUT_MS, TYPING_MAX_TIMEOUT_MS, TypingSet, typingTimeout } from "./typing";

const ALICE = "@alice:a.test";
const BOB = "@bob:a.test";

function typingAt(start = 1_000_000) {
  const clock = { now: start };
  return { clock, typing: new TypingSet(() => clock.now) };
}

describe("typing set", () => {
  it("reports a change when someone starts or stops, not when they keep typing", () => {
    const { clock, typing } = typingAt();
    expect(typing.set(ALICE, true, 10_000)?.userIds).toEqual([ALICE]);
    clock.now += 1000;
    // Still typing: only the expiry moves; members need not hear it again.
    expect(typing.set(ALICE, true, 10_000)).toBeUndefined();
    expect(typing.set(BOB, true, 10_000)?.userIds).toEqual([ALICE, BOB]);
    expect(typing.set(ALICE, false, 0)?.userIds).toEqual([BOB]);
    // Stopping when not typing changes nothing.
    expect(typing.set(ALICE, false, 0)).toBeUndefined();
  });

  it("expires entries at their timeout, and a renewed one later", () => {
    const { clock, typing } = typingAt();
    typing.set(ALICE, true, 5000);
    typing.set(BOB, true, 8000);
    expect(typing.nextExpiry()).toBe(clock.now + 5000);
    clock.now += 3000;
    typing.set(ALICE, true, 5000); // renewed: now expires at +8000 from the start
    clock.now += 2500;
    expect(typing.expire()).toBeUndefined();
    clock.now += 2500; // start + 8000: both due
    const update = typing.expire();
    expect(update?.userIds).toEqual([]);
    expect(update?.expiresAt).toBe(0);
    expect(typing.isEmpty()).toBe(true);
    expect(typing.nextExpiry()).toBeUndefined();
  });

  it("a change also carries expiries that passed since the last one", () => {
    const { clock, typing } = typingAt();
    typing.set(ALICE, true, 1000);
    clock.now += 2000;
    // Bob starts after Alice's typing lapsed (before the alarm ran): the set is just Bob.
    expect(typing.set(BOB, true, 1000)?.userIds).toEqual([BOB]);
  });

  it("the update's expiry is the last typer's, and serials grow even within one millisecond", () => {
    const { clock, typing } = typingAt();
    const a = typing.set(ALICE, true, 5000)!;
    const b = typing.set(BOB, true, 9000)!;
    expect(b.expiresAt).toBe(clock.now + 9000);
    expect(b.serial).toBeGreaterThan(a.serial);
    // A fresh object (after a restart) starts from the clock, so its serials beat the old ones.
    const restarted = new TypingSet(() => clock.now + 1);
    expect(restarted.update().serial).toBeGreaterThan(a.serial);
  });

  it("remove() takes a user who left out of the set", () => {
    const { typing } = typingAt();
    typing.set(ALICE, true, 5000);
    expect(typing.remove(BOB)).toBeUndefined();
    expect(typing.remove(ALICE)?.userIds).toEqual([]);
  });

  it("timeouts: 30 s when absent, capped at 120 s", () => {
    expect(typingTimeout(undefined)).toBe(TYPING_DEFAULT_TIMEOUT_MS);
    expect(TYPING_DEFAULT_TIMEOUT_MS).toBe(30_000);
    expect(typingTimeout(5000)).toBe(5000);
    expect(typingTimeout(10_000_000)).toBe(TYPING_MAX_TIMEOUT_MS);
    expect(TYPING_MAX_TIMEOUT_MS).toBe(120_000);
    const { clock, typing } = typingAt();
    typing.set(ALICE, true, typingTimeout(10_000_000));
    expect(typing.nextExpiry()).toBe(clock.now + 120_000);
  });
});
