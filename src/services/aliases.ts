/**
 * Room aliases (spec: Client-Server § Room aliases). The alias table in D1 is the directory;
 * the room's own state decides who may manage it. Aliases of other servers would need
 * federation, which is not built: they are refused rather than guessed at.
 */
import { MatrixError, forbidden, notFound } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { aliasesForRoom, deleteAlias, getAlias, insertAlias } from "../storage/d1/rooms";
import type { Deps } from "./deps";
import { assertAlias, assertRoomId, roomStub } from "./rooms";
import type { Session } from "./sessions";

function serverOf(alias: string): string {
  return alias.slice(alias.indexOf(":") + 1);
}

function assertLocalAlias(deps: Deps, alias: string): void {
  assertAlias(alias);
  if (serverOf(alias) !== deps.config.serverName) throw new MatrixError("M_INVALID_PARAM", "Room alias must be on this server");
}

/** PUT /directory/room/{roomAlias}: only a member of the room may point an alias at it. */
export async function createAlias(deps: Deps, userId: string, alias: string, roomId: string): Promise<void> {
  assertLocalAlias(deps, alias);
  assertRoomId(roomId);
  const stub = roomStub(deps, roomId);
  if (!(await stub.exists())) throw notFound("Unknown room");
  if ((await stub.membership(userId)) !== "join") throw forbidden("You must be joined to the room to give it an alias");
  // The primary key decides between racing creators; the loser gets the spec's 409.
  if (!(await insertAlias(deps.env.DB, { alias, roomId, creator: userId, now: deps.now() }))) {
    throw new MatrixError("M_UNKNOWN", `Room alias ${alias} already exists`, {}, 409);
  }
}

/** GET /directory/room/{roomAlias} */
export async function resolveAlias(deps: Deps, alias: string): Promise<{ room_id: string; servers: string[] }> {
  assertAlias(alias);
  if (serverOf(alias) !== deps.config.serverName) {
    throw notFound("Room alias not found: resolving aliases of other servers is not supported yet");
  }
  const row = await getAlias(deps.env.DB, alias);
  if (!row) throw notFound(`Room alias ${alias} not found`);
  const servers = await roomStub(deps, row.room_id).joinedServers();
  // This server knows the alias even when none of its users is still in the room.
  if (!servers.includes(deps.config.serverName)) servers.unshift(deps.config.serverName);
  return { room_id: row.room_id, servers };
}

/**
 * DELETE /directory/room/{roomAlias}: the alias's creator, a member with the power to change the
 * room's canonical alias, or a server admin (as Synapse does).
 */
export async function removeAlias(deps: Deps, session: Session, alias: string): Promise<void> {
  assertLocalAlias(deps, alias);
  const row = await getAlias(deps.env.DB, alias);
  if (!row) throw notFound(`Room alias ${alias} not found`);
  const stub = roomStub(deps, row.room_id);
  const allowed = row.creator === session.userId || session.isAdmin || (await stub.maySendState(session.userId, "m.room.canonical_alias"));
  if (!allowed) throw forbidden("You may not delete this alias");
  await deleteAlias(deps.env.DB, alias);
  await dropFromCanonicalAlias(deps, row.room_id, session.userId, alias);
}

/**
 * Keeps m.room.canonical_alias from naming a deleted alias, as Synapse does: the deleting user
 * sends the updated event. Without the power to do so the alias is still deleted and the event
 * left as it is (spec: DELETE /directory/room, note).
 */
async function dropFromCanonicalAlias(deps: Deps, roomId: string, userId: string, alias: string): Promise<void> {
  const stub = roomStub(deps, roomId);
  const current = await stub.stateContent("m.room.canonical_alias", "");
  if (!current) return;
  const content: JsonObject = { ...current };
  let changed = false;
  if (content.alias === alias) {
    delete content.alias;
    changed = true;
  }
  if (Array.isArray(content.alt_aliases) && content.alt_aliases.includes(alias)) {
    content.alt_aliases = content.alt_aliases.filter((a) => a !== alias);
    changed = true;
  }
  if (!changed) return;
  // A refusal (no power, not joined) leaves the event as it is: the alias is gone either way.
  await stub.send({ sender: userId, type: "m.room.canonical_alias", stateKey: "", content });
}

/**
 * GET /rooms/{roomId}/aliases: for members, anyone when the room is world-readable, and server
 * admins (the spec allows the last).
 */
export async function localAliases(deps: Deps, session: Session, roomId: string): Promise<string[]> {
  assertRoomId(roomId);
  if (!session.isAdmin) {
    const stub = roomStub(deps, roomId);
    if ((await stub.membership(session.userId)) !== "join") {
      const visibility = await stub.stateContent("m.room.history_visibility", "");
      if (visibility?.history_visibility !== "world_readable") throw forbidden("You are not a member of the room");
    }
  }
  return aliasesForRoom(deps.env.DB, roomId);
}
