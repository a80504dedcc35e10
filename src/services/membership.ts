/**
 * Membership changes (spec: Client-Server § Room membership). Each is one m.room.member event;
 * the room's authorization rules decide whether it is allowed. Targets on other servers need
 * federation, which is not built: those requests are refused rather than half-done.
 */
import { MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { getMembership, forgetRoom, roomsForUser } from "../storage/d1/rooms";
import { getUser } from "../storage/d1/users";
import type { Deps } from "./deps";
import { profileMemberContent, roomStub, sendToRoom } from "./rooms";

function isLocal(deps: Deps, userId: string): boolean {
  return userId.endsWith(`:${deps.config.serverName}`) && userId.startsWith("@");
}

export async function requireLocalUser(deps: Deps, userId: string): Promise<void> {
  if (!/^@[^:]+:.+$/.test(userId)) throw new MatrixError("M_INVALID_PARAM", "Invalid user id");
  if (!isLocal(deps, userId)) throw new MatrixError("M_FORBIDDEN", "Federation is not supported yet: users on other servers cannot be invited");
  const user = await getUser(deps.env.DB, userId);
  if (!user || user.deactivated) throw new MatrixError("M_NOT_FOUND", "Unknown user");
}

async function requireRoom(deps: Deps, roomId: string): Promise<void> {
  if (!(await roomStub(deps, roomId).exists())) {
    // A room this server has never seen could only be joined over federation.
    throw new MatrixError("M_NOT_FOUND", "Unknown room: joining rooms on other servers is not supported yet");
  }
}

function withReason(content: JsonObject, reason: string | undefined): JsonObject {
  if (reason !== undefined) content.reason = reason;
  return content;
}

/**
 * For restricted rooms (v8+), a join by a user who is not invited must be vouched for by a local
 * member with invite power, and the user must be in one of the rooms the join rule allows.
 */
async function restrictedJoinFields(deps: Deps, roomId: string, userId: string): Promise<JsonObject> {
  const stub = roomStub(deps, roomId);
  const rules = await stub.stateContent("m.room.join_rules", "");
  const rule = rules?.join_rule;
  if (rule !== "restricted" && rule !== "knock_restricted") return {};
  const current = await stub.membership(userId);
  if (current === "join" || current === "invite") return {};
  const allow = Array.isArray(rules?.allow) ? rules.allow : [];
  const allowedRooms = allow.flatMap((a) =>
    a && typeof a === "object" && !Array.isArray(a) && a.type === "m.room_membership" && typeof a.room_id === "string" ? [a.room_id] : [],
  );
  const joined = new Set(await roomsForUser(deps.env.DB, userId, "join"));
  if (!allowedRooms.some((r) => joined.has(r))) return {};
  const authoriser = await stub.joinAuthoriser(deps.config.serverName);
  if (!authoriser) throw new MatrixError("M_UNABLE_TO_GRANT_JOIN", "No member of this room can authorise the join");
  return { join_authorised_via_users_server: authoriser };
}

export async function joinRoom(deps: Deps, roomId: string, userId: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  const content: JsonObject = { ...(await profileMemberContent(deps, userId)), membership: "join" };
  Object.assign(content, await restrictedJoinFields(deps, roomId, userId));
  await sendToRoom(deps, roomId, { sender: userId, type: "m.room.member", stateKey: userId, content: withReason(content, reason) });
}

export async function knockRoom(deps: Deps, roomId: string, userId: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  const content: JsonObject = { ...(await profileMemberContent(deps, userId)), membership: "knock" };
  await sendToRoom(deps, roomId, { sender: userId, type: "m.room.member", stateKey: userId, content: withReason(content, reason) });
}

export async function leaveRoom(deps: Deps, roomId: string, userId: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  await sendToRoom(deps, roomId, { sender: userId, type: "m.room.member", stateKey: userId, content: withReason({ membership: "leave" }, reason) });
}

export async function inviteUser(deps: Deps, roomId: string, sender: string, target: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  await requireLocalUser(deps, target);
  await sendToRoom(deps, roomId, { sender, type: "m.room.member", stateKey: target, content: withReason({ membership: "invite" }, reason) });
}

export async function kickUser(deps: Deps, roomId: string, sender: string, target: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  const current = await roomStub(deps, roomId).membership(target);
  // Kicking someone who isn't there would record a leave for a stranger; the spec wants a 403.
  if (current !== "join" && current !== "invite" && current !== "knock") throw new MatrixError("M_FORBIDDEN", "The user is not in the room");
  await sendToRoom(deps, roomId, { sender, type: "m.room.member", stateKey: target, content: withReason({ membership: "leave" }, reason) });
}

export async function banUser(deps: Deps, roomId: string, sender: string, target: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  if (!/^@[^:]+:.+$/.test(target)) throw new MatrixError("M_INVALID_PARAM", "Invalid user id");
  await sendToRoom(deps, roomId, { sender, type: "m.room.member", stateKey: target, content: withReason({ membership: "ban" }, reason) });
}

export async function unbanUser(deps: Deps, roomId: string, sender: string, target: string, reason?: string): Promise<void> {
  await requireRoom(deps, roomId);
  if ((await roomStub(deps, roomId).membership(target)) !== "ban") throw new MatrixError("M_FORBIDDEN", "The user is not banned");
  await sendToRoom(deps, roomId, { sender, type: "m.room.member", stateKey: target, content: withReason({ membership: "leave" }, reason) });
}

/** POST /forget: only once the user has left (spec: "the user must have left the room"). */
export async function forget(deps: Deps, roomId: string, userId: string): Promise<void> {
  const row = await getMembership(deps.env.DB, roomId, userId);
  if (!row) throw new MatrixError("M_NOT_FOUND", "You have never been in this room");
  if (row.membership === "join" || row.membership === "invite" || row.membership === "knock") {
    throw new MatrixError("M_UNKNOWN", "You must leave the room before forgetting it", {}, 400);
  }
  await forgetRoom(deps.env.DB, roomId, userId);
}
