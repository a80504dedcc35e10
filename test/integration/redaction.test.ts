/** Redactions (spec: Client-Server § Redactions, PUT /rooms/{roomId}/redact/{eventId}/{txnId}). */
import { describe, expect, it } from "vitest";
import { call, createRoom, getEvent, joinOk, putState, registerUser, roomPath, sendOk, setPowerLevel, stateContent, type TestUser } from "./room-helpers";

const redact = (user: TestUser, roomId: string, eventId: string, txnId: string, body: Record<string, unknown> = {}) =>
  call("PUT", roomPath(roomId, `/redact/${encodeURIComponent(eventId)}/${encodeURIComponent(txnId)}`), { token: user.access_token, body });

function expectError(res: { status: number; body: any }, status: number, errcode: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.errcode).toBe(errcode);
}

async function publicRoom(version: string) {
  const alice = await registerUser();
  const bob = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat", room_version: version });
  await joinOk(bob, roomId);
  return { alice, bob, roomId };
}

describe("redacting events", () => {
  for (const version of ["10", "11", "12"]) {
    it(`a sender redacts their own message: /event serves it pruned with redacted_because (v${version})`, async () => {
      const { alice, bob, roomId } = await publicRoom(version);
      const eventId = await sendOk(bob, roomId, "oops");
      const res = await redact(bob, roomId, eventId, "r1", { reason: "typo" });
      expect(res.status).toBe(200);
      const redactionId = res.body.event_id as string;
      expect(redactionId).toMatch(/^\$/);

      for (const viewer of [alice, bob]) {
        const ev = await getEvent(viewer, roomId, eventId);
        expect(ev.status).toBe(200);
        expect(ev.body.content).toEqual({});
        expect(ev.body.type).toBe("m.room.message");
        expect(ev.body.sender).toBe(bob.user_id);
        const because = ev.body.unsigned.redacted_because;
        expect(because.event_id).toBe(redactionId);
        expect(because.type).toBe("m.room.redaction");
        expect(because.sender).toBe(bob.user_id);
        expect(because.content.reason).toBe("typo");
        expect(because.redacts).toBe(eventId);
      }

      // The redaction itself is an event; from v11 `redacts` is in its content, and clients also get it at the top level.
      const redaction = await getEvent(alice, roomId, redactionId);
      expect(redaction.body.redacts).toBe(eventId);
      if (Number(version) >= 11) expect(redaction.body.content.redacts).toBe(eventId);
      else expect(redaction.body.content.redacts).toBeUndefined();
    });
  }

  it("is idempotent per transaction id", async () => {
    const { bob, roomId } = await publicRoom("11");
    const eventId = await sendOk(bob, roomId, "x");
    const first = await redact(bob, roomId, eventId, "same");
    const again = await redact(bob, roomId, eventId, "same");
    expect(first.status).toBe(200);
    expect(again.body.event_id).toBe(first.body.event_id);
  });

  it("refuses to redact someone else's event without the redact level", async () => {
    const { alice, bob, roomId } = await publicRoom("11");
    const alicesEvent = await sendOk(alice, roomId, "admin speaks");
    expectError(await redact(bob, roomId, alicesEvent, "r1"), 403, "M_FORBIDDEN");
    const ev = await getEvent(bob, roomId, alicesEvent);
    expect(ev.body.content.body).toBe("admin speaks");
    expect(ev.body.unsigned.redacted_because).toBeUndefined();
  });

  it("refuses in v10 too, where redacts is a top-level key", async () => {
    const { alice, bob, roomId } = await publicRoom("10");
    const alicesEvent = await sendOk(alice, roomId, "admin speaks");
    expectError(await redact(bob, roomId, alicesEvent, "r1"), 403, "M_FORBIDDEN");
    expect((await getEvent(alice, roomId, alicesEvent)).body.content.body).toBe("admin speaks");
  });

  it("a moderator redacts someone else's event", async () => {
    const { alice, bob, roomId } = await publicRoom("11");
    const bobsEvent = await sendOk(bob, roomId, "spam");
    const res = await redact(alice, roomId, bobsEvent, "mod1", { reason: "spam" });
    expect(res.status).toBe(200);
    const ev = await getEvent(bob, roomId, bobsEvent);
    expect(ev.body.content).toEqual({});
    expect(ev.body.unsigned.redacted_because.sender).toBe(alice.user_id);
  });

  it("follows the redact level when it changes", async () => {
    const { alice, bob, roomId } = await publicRoom("11");
    const alicesEvent = await sendOk(alice, roomId, "mine");
    await setPowerLevel(alice, roomId, bob.user_id, 50);
    expect((await redact(bob, roomId, alicesEvent, "r1")).status).toBe(200);
    expect((await getEvent(alice, roomId, alicesEvent)).body.content).toEqual({});
  });

  it("prunes redacted state by the room version's rules", async () => {
    const { alice, roomId } = await publicRoom("11");
    const topic = await putState(alice, roomId, "m.room.topic", { topic: "secret plan" });
    const joinRules = await stateContent(alice, roomId, "m.room.join_rules");
    expect((await redact(alice, roomId, topic.body.event_id, "t1")).status).toBe(200);
    expect(await stateContent(alice, roomId, "m.room.topic")).toEqual({});
    // Power levels keep their levels when redacted (v11 keeps `invite` too).
    const pl = await call("GET", roomPath(roomId, "/state/m.room.power_levels/?format=event"), { token: alice.access_token });
    expect((await redact(alice, roomId, pl.body.event_id, "p1")).status).toBe(200);
    const pruned = await stateContent(alice, roomId, "m.room.power_levels");
    expect(pruned.users).toEqual(pl.body.content.users);
    expect(pruned.invite).toBe(pl.body.content.invite);
    expect(pruned.notifications).toBeUndefined();
    expect(joinRules).toEqual({ join_rule: "public" });
  });

  it("refuses non-members, and needs a body object", async () => {
    const { alice, roomId } = await publicRoom("11");
    const eve = await registerUser();
    const eventId = await sendOk(alice, roomId, "x");
    expectError(await redact(eve, roomId, eventId, "r1"), 403, "M_FORBIDDEN");
    const bad = await call("PUT", roomPath(roomId, `/redact/${encodeURIComponent(eventId)}/r2`), { token: alice.access_token, body: { reason: 5 } });
    expectError(bad, 400, "M_BAD_JSON");
    expect((await getEvent(alice, roomId, eventId)).body.content.body).toBe("x");
  });
});
