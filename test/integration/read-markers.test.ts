/**
 * Read markers (spec: Client-Server § Read Markers): POST /rooms/{roomId}/read_markers. The
 * fully-read marker is the room's m.fully_read account data; m.read and m.read.private are
 * receipts, stored by the room object.
 */
import { describe, expect, it } from "vitest";
import { accountDataChangesSince, roomDataPath, streamPosition } from "./account-data-helpers";
import { receiptsIn, SyncSession } from "./ephemeral-helpers";
import { call, registerUser } from "./helpers";
import { createRoom, joinOk, roomPath, sendOk, targetAction, type TestUser } from "./room-helpers";

function readMarkers(user: TestUser, roomId: string, body: unknown, prefix = "v3") {
  return call("POST", roomPath(roomId, "/read_markers").replace("/v3/", `/${prefix}/`), { token: user.access_token, body });
}

function fullyRead(user: TestUser, roomId: string) {
  return call("GET", roomDataPath(user.user_id, roomId, "m.fully_read"), { token: user.access_token });
}

async function roomWithMessages(): Promise<{ alice: TestUser; roomId: string; first: string; second: string }> {
  const alice = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat" });
  const first = await sendOk(alice, roomId, "one");
  const second = await sendOk(alice, roomId, "two");
  return { alice, roomId, first, second };
}

describe("the fully-read marker", () => {
  it("is stored as the room's m.fully_read account data and moves with each request", async () => {
    const { alice, roomId, first, second } = await roomWithMessages();
    expect((await fullyRead(alice, roomId)).status).toBe(404);

    const res = await readMarkers(alice, roomId, { "m.fully_read": second });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: second });

    expect((await readMarkers(alice, roomId, { "m.fully_read": first }, "r0")).status).toBe(200);
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: first });
  });

  it("is per user", async () => {
    const { alice, roomId, first, second } = await roomWithMessages();
    const bob = await registerUser();
    await joinOk(bob, roomId);
    await readMarkers(alice, roomId, { "m.fully_read": first });
    await readMarkers(bob, roomId, { "m.fully_read": second });
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: first });
    expect((await fullyRead(bob, roomId)).body).toEqual({ event_id: second });
  });

  it("is recorded in the user's sync stream as an m.fully_read change of the room", async () => {
    const { alice, roomId, second } = await roomWithMessages();
    const since = await streamPosition(alice.user_id, alice.device_id);
    await readMarkers(alice, roomId, { "m.fully_read": second });
    const changes = await accountDataChangesSince(alice.user_id, alice.device_id, since);
    expect(changes?.rooms[roomId]).toEqual(["m.fully_read"]);
    expect(changes?.global).toEqual([]);
  });

  it("an empty request changes nothing (m.fully_read is optional since v1.4)", async () => {
    const { alice, roomId, first } = await roomWithMessages();
    await readMarkers(alice, roomId, { "m.fully_read": first });
    const res = await readMarkers(alice, roomId, {});
    expect(res.status).toBe(200);
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: first });
  });
});

describe("refusals", () => {
  it("403 M_FORBIDDEN for a user who is not joined: never in the room, invited, or left", async () => {
    const { alice, roomId, first } = await roomWithMessages();
    const stranger = await registerUser();
    const invited = await registerUser();
    const leaver = await registerUser();
    await targetAction(alice, roomId, "invite", invited.user_id);
    await joinOk(leaver, roomId);
    expect((await call("POST", roomPath(roomId, "/leave"), { token: leaver.access_token, body: {} })).status).toBe(200);
    for (const user of [stranger, invited, leaver]) {
      const res = await readMarkers(user, roomId, { "m.fully_read": first });
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
      expect((await fullyRead(user, roomId)).status).toBe(404);
    }
  });

  it("403 M_FORBIDDEN for a room that doesn't exist", async () => {
    const alice = await registerUser();
    const res = await readMarkers(alice, "!nonexistent:test.local", { "m.fully_read": "$whatever" });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });

  it("404 M_NOT_FOUND for an event that is not in the room, leaving the marker where it was", async () => {
    const { alice, roomId, first } = await roomWithMessages();
    const otherRoom = await createRoom(alice);
    const elsewhere = await sendOk(alice, otherRoom, "elsewhere");
    await readMarkers(alice, roomId, { "m.fully_read": first });
    for (const eventId of [elsewhere, "$doesnotexist", "not-an-event-id"]) {
      const res = await readMarkers(alice, roomId, { "m.fully_read": eventId });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: first });
  });

  it("404 M_NOT_FOUND for an event the user may not see", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "joined" } }] });
    const before = await sendOk(alice, roomId, "before bob joined");
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const after = await sendOk(alice, roomId, "after bob joined");
    const hidden = await readMarkers(bob, roomId, { "m.fully_read": before });
    expect(hidden.status).toBe(404);
    expect(hidden.body.errcode).toBe("M_NOT_FOUND");
    expect((await fullyRead(bob, roomId)).status).toBe(404);
    expect((await readMarkers(bob, roomId, { "m.fully_read": after })).status).toBe(200);
  });

  it("400 M_BAD_JSON for markers that are not strings, or a body that is not an object", async () => {
    const { alice, roomId } = await roomWithMessages();
    for (const body of [{ "m.fully_read": 5 }, { "m.read": ["$a"] }, { "m.read.private": {} }, { "m.fully_read": "" }, ["m.fully_read"], "x"]) {
      const res = await readMarkers(alice, roomId, body);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await fullyRead(alice, roomId)).status).toBe(404);
  });

  it("400 M_INVALID_PARAM for an invalid room id", async () => {
    const alice = await registerUser();
    const res = await call("POST", "/_matrix/client/v3/rooms/not-a-room/read_markers", { token: alice.access_token, body: { "m.fully_read": "$x" } });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });

  it("needs an access token", async () => {
    const { roomId, first } = await roomWithMessages();
    const res = await call("POST", roomPath(roomId, "/read_markers"), { body: { "m.fully_read": first } });
    expect(res.status).toBe(401);
  });
});

describe("receipts in the same request", () => {
  // m.read and m.read.private are receipts, stored by the room object (test/integration/receipts.test.ts).
  it("m.read reaches the room's members and m.read.private only the user, with the marker moved too", async () => {
    const { alice, roomId, first, second } = await roomWithMessages();
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const aliceSync = await new SyncSession(alice.access_token).start(roomId);
    const bobSync = await new SyncSession(bob.access_token).start(roomId);
    expect((await readMarkers(alice, roomId, { "m.fully_read": second, "m.read.private": second, "m.read": first })).status).toBe(200);
    expect((await fullyRead(alice, roomId)).body).toEqual({ event_id: second });
    const mine = await aliceSync.until((b) => receiptsIn(b, roomId).filter((r) => r.userId === alice.user_id).length === 2);
    expect(receiptsIn(mine, roomId).map((r) => `${r.type} ${r.eventId}`).sort()).toEqual([`m.read ${first}`, `m.read.private ${second}`].sort());
    await bobSync.until((b) => receiptsIn(b, roomId).some((r) => r.userId === alice.user_id && r.type === "m.read" && r.eventId === first));
    expect(JSON.stringify(bobSync.seen)).not.toContain("m.read.private");
  });

  it("a receipt for an event that is not in the room is 404 M_NOT_FOUND", async () => {
    const { alice, roomId, first } = await roomWithMessages();
    for (const key of ["m.read", "m.read.private"]) {
      const res = await readMarkers(alice, roomId, { "m.fully_read": first, [key]: "$doesnotexist" });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
    expect((await fullyRead(alice, roomId)).status).toBe(404);
  });
});
