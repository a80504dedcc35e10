/**
 * Reporting content (spec: Client-Server § Reporting content). Reports are stored for server
 * admins; nothing about them is sent to the room.
 */
import { notFound } from "../api/errors";
import { insertReport, insertUserReport } from "../storage/d1/reports";
import { getUser } from "../storage/d1/users";
import type { Deps } from "./deps";
import { assertRoomId, roomStub } from "./rooms";

const EVENT_NOT_FOUND = "The event was not found or you are not joined to the room";

/**
 * POST /rooms/{roomId}/report/{eventId}: the reporter must be joined (v1.8) and able to see the
 * event; otherwise the same 404, so the answer doesn't tell which of the two failed.
 */
export async function reportEvent(deps: Deps, reporter: string, roomId: string, eventId: string, reason?: string, score?: number): Promise<void> {
  assertRoomId(roomId);
  const stub = roomStub(deps, roomId);
  if ((await stub.membership(reporter)) !== "join") throw notFound(EVENT_NOT_FOUND);
  if (!(await stub.getEvent(reporter, eventId)).ok) throw notFound(EVENT_NOT_FOUND);
  await insertReport(deps.env.DB, { roomId, eventId, reporter, reason: reason ?? null, score: score ?? null, now: deps.now() });
}

/** POST /rooms/{roomId}/report (v1.13): the reporter need not be in the room, but the room must exist here. */
export async function reportRoom(deps: Deps, reporter: string, roomId: string, reason: string): Promise<void> {
  assertRoomId(roomId);
  if (!(await roomStub(deps, roomId).exists())) throw notFound("The room was not found");
  await insertReport(deps.env.DB, { roomId, eventId: null, reporter, reason, score: null, now: deps.now() });
}

/**
 * POST /users/{userId}/report (v1.14): the reporter need share no room with the user, who must be
 * a user of this server (404 otherwise, as the spec lists; remote users can't be checked here).
 */
export async function reportUser(deps: Deps, reporter: string, userId: string, reason: string): Promise<void> {
  const local = userId.startsWith("@") && userId.endsWith(`:${deps.config.serverName}`);
  if (!local || !(await getUser(deps.env.DB, userId))) throw notFound("The user does not exist or does not belong to this server");
  await insertUserReport(deps.env.DB, { target: userId, reporter, reason, now: deps.now() });
}
