/** Reporting content (spec: Client-Server § Reporting content): POST /rooms/{roomId}/report[/{eventId}] and /users/{userId}/report. */
import { describe, expect, it } from "vitest";
import { call, registerUser, testEnv, uniqueName } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

const room = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
const reportPath = (roomId: string, eventId: string) => `${room(roomId)}/report/${encodeURIComponent(eventId)}`;

async function createRoom(user: User, body: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body });
  if (res.status !== 200) throw new Error(`createRoom: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: User, roomId: string): Promise<void> {
  const res = await call("POST", `${room(roomId)}/join`, { token: user.access_token, body: {} });
  if (res.status !== 200) throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
}

async function send(user: User, roomId: string, body: string): Promise<string> {
  const res = await call("PUT", `${room(roomId)}/send/m.room.message/${uniqueName("txn")}`, { token: user.access_token, body: { msgtype: "m.text", body } });
  if (res.status !== 200) throw new Error(`send: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.event_id as string;
}

interface ReportRow {
  room_id: string;
  event_id: string | null;
  reporter: string;
  reason: string | null;
  score: number | null;
}

async function reportsBy(userId: string): Promise<ReportRow[]> {
  const { results } = await testEnv.DB.prepare("SELECT room_id, event_id, reporter, reason, score FROM event_reports WHERE reporter = ? ORDER BY id")
    .bind(userId)
    .all<ReportRow>();
  return results;
}

describe("reporting events", () => {
  it("stores a member's report of an event they can see", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await join(bob, roomId);
    const eventId = await send(alice, roomId, "something nasty");

    const res = await call("POST", reportPath(roomId, eventId), { token: bob.access_token, body: { reason: "this makes me sad", score: -100 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    // reason and score are optional.
    expect((await call("POST", reportPath(roomId, eventId), { token: bob.access_token, body: {} })).status).toBe(200);
    expect(await reportsBy(bob.user_id)).toEqual([
      { room_id: roomId, event_id: eventId, reporter: bob.user_id, reason: "this makes me sad", score: -100 },
      { room_id: roomId, event_id: eventId, reporter: bob.user_id, reason: null, score: null },
    ]);
  });

  it("answers 404 for unknown events, non-members and events the reporter can't see", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await call("PUT", `${room(roomId)}/state/m.room.history_visibility/`, { token: alice.access_token, body: { history_visibility: "joined" } });
    const before = await send(alice, roomId, "before bob joined");
    await join(bob, roomId);
    const after = await send(alice, roomId, "after bob joined");

    const cases: [User, string, string][] = [
      [bob, roomId, before], // sent while Bob wasn't joined, with history visibility "joined"
      [bob, roomId, `$${uniqueName()}`], // no such event
      [eve, roomId, after], // Eve isn't in the room
      [eve, `!${uniqueName()}:test.local`, after], // no such room
    ];
    for (const [user, r, e] of cases) {
      const res = await call("POST", reportPath(r, e), { token: user.access_token, body: { reason: "x" } });
      expect(res.status, `${user.user_id} ${e}`).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
    expect(await reportsBy(bob.user_id)).toEqual([]);
    expect(await reportsBy(eve.user_id)).toEqual([]);

    // A member who left can't report any more.
    expect((await call("POST", reportPath(roomId, after), { token: bob.access_token, body: { reason: "x" } })).status).toBe(200);
    await call("POST", `${room(roomId)}/leave`, { token: bob.access_token, body: {} });
    expect((await call("POST", reportPath(roomId, after), { token: bob.access_token, body: { reason: "x" } })).status).toBe(404);
    expect(await reportsBy(bob.user_id)).toHaveLength(1);
  });

  it("validates the body and requires authentication", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const eventId = await send(alice, roomId, "hello");
    for (const body of [{ score: 5 }, { score: -101 }, { score: "bad" }, { reason: 42 }]) {
      const res = await call("POST", reportPath(roomId, eventId), { token: alice.access_token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await call("POST", reportPath(roomId, eventId), { body: { reason: "x" } })).status).toBe(401);
    expect(await reportsBy(alice.user_id)).toEqual([]);
  });
});

describe("reporting rooms", () => {
  it("stores a report about a room from anyone, member or not", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice);
    const res = await call("POST", `${room(roomId)}/report`, { token: eve.access_token, body: { reason: "spam room" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    // The reason may be blank.
    expect((await call("POST", `${room(roomId)}/report`, { token: eve.access_token, body: { reason: "" } })).status).toBe(200);
    expect(await reportsBy(eve.user_id)).toEqual([
      { room_id: roomId, event_id: null, reporter: eve.user_id, reason: "spam room", score: null },
      { room_id: roomId, event_id: null, reporter: eve.user_id, reason: "", score: null },
    ]);
  });

  it("answers 404 for unknown rooms and requires a reason", async () => {
    const eve = await registerUser();
    const unknown = await call("POST", `${room(`!${uniqueName()}:test.local`)}/report`, { token: eve.access_token, body: { reason: "x" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const missing = await call("POST", `${room(roomId)}/report`, { token: eve.access_token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_BAD_JSON");
    const badId = await call("POST", `${room("not-a-room")}/report`, { token: eve.access_token, body: { reason: "x" } });
    expect(badId.status).toBe(400);
    expect(badId.body.errcode).toBe("M_INVALID_PARAM");
    expect(await reportsBy(eve.user_id)).toEqual([]);
  });
});

describe("reporting users", () => {
  const userReportPath = (userId: string) => `/_matrix/client/v3/users/${encodeURIComponent(userId)}/report`;
  const userReportsBy = async (userId: string) =>
    (await testEnv.DB.prepare("SELECT target_user_id, reason FROM user_reports WHERE reporter = ? ORDER BY id").bind(userId).all()).results;

  it("stores a report about a local user from anyone", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const res = await call("POST", userReportPath(eve.user_id), { token: alice.access_token, body: { reason: "harassment" } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await userReportsBy(alice.user_id)).toEqual([{ target_user_id: eve.user_id, reason: "harassment" }]);
  });

  it("answers 404 for unknown and remote users, 400 without a reason, 401 without a token", async () => {
    const alice = await registerUser();
    for (const target of [`@${uniqueName()}:test.local`, "@someone:elsewhere.example"]) {
      const res = await call("POST", userReportPath(target), { token: alice.access_token, body: { reason: "x" } });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
    const eve = await registerUser();
    const missing = await call("POST", userReportPath(eve.user_id), { token: alice.access_token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_BAD_JSON");
    expect((await call("POST", userReportPath(eve.user_id), { body: { reason: "x" } })).status).toBe(401);
    expect(await userReportsBy(alice.user_id)).toEqual([]);
  });
});
