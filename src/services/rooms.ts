/**
 * Rooms: creation, membership and sending (spec: Client-Server § Rooms). The service validates
 * what the client asked for, addresses the room's Durable Object and maps its results to
 * Matrix errors; the room object decides everything about the event graph.
 */
import { MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { signEvent } from "../matrix/event-signing";
import type { Pdu } from "../matrix/events";
import { getSigningKey } from "./server-keys";
import { getRoomVersion, type RoomVersion } from "../matrix/room-versions";
import { buildCreateEvent } from "../objects/room/create-event";
import type { AppendResult, LocalEventInput } from "../objects/room/room-engine";
import type { ReadResult } from "../objects/room/room-reader";
import { getAlias, insertAlias, insertRoomStatement } from "../storage/d1/rooms";
import { getUser } from "../storage/d1/users";
import type { DurableObject } from "cloudflare:workers";
import type { RoomDurableObject } from "../objects/room/room-object";
import { typedStub, type RpcApi } from "../objects/rpc";
import type { Deps } from "./deps";
import { randomToken } from "./random";

/** Room versions this server creates rooms in. Others can be joined and stored but not created. */
export const CREATABLE_ROOM_VERSIONS = ["10", "11", "12"] as const;

export type RoomApi = RpcApi<RoomDurableObject, Exclude<keyof RoomDurableObject, keyof DurableObject | "fetch" | "alarm">>;

export function roomStub(deps: Deps, roomId: string): RoomApi {
  return typedStub<RoomDurableObject, Exclude<keyof RoomDurableObject, keyof DurableObject | "fetch" | "alarm">>(deps.env.ROOMS.getByName(roomId));
}

export function defaultRoomVersion(deps: Deps): RoomVersion {
  return getRoomVersion(deps.config.defaultRoomVersion)!;
}

/** Turns a refused append into the error the client sees. */
export function unwrapAppend(result: AppendResult): Extract<AppendResult, { ok: true }> {
  if (result.ok) return result;
  throw new MatrixError(result.errcode, result.error);
}

export function unwrapRead<T>(result: ReadResult<T>): T {
  if (result.ok) return result.value;
  throw new MatrixError(result.errcode, result.error);
}

const ROOM_ID = /^![^\s]+$/;
const ALIAS = /^#[^:\s]+:[^\s]+$/;

export function assertRoomId(roomId: string): void {
  if (!ROOM_ID.test(roomId) || roomId.length > 255) throw new MatrixError("M_INVALID_PARAM", "Invalid room id");
}

export function assertAlias(alias: string): void {
  if (!ALIAS.test(alias) || new TextEncoder().encode(alias).length > 255) throw new MatrixError("M_INVALID_PARAM", "Invalid room alias");
}

/** Resolves a room id or alias to a room id; aliases of other servers need federation, which isn't built. */
export async function resolveRoomIdOrAlias(deps: Deps, idOrAlias: string): Promise<string> {
  if (idOrAlias.startsWith("!")) {
    assertRoomId(idOrAlias);
    return idOrAlias;
  }
  if (idOrAlias.startsWith("#")) {
    assertAlias(idOrAlias);
    const row = await getAlias(deps.env.DB, idOrAlias);
    if (!row) throw new MatrixError("M_NOT_FOUND", "Room alias not found");
    return row.room_id;
  }
  throw new MatrixError("M_INVALID_PARAM", "Expected a room id or alias");
}

/** The member event content a user joins with: their current profile (spec: § m.room.member). */
export async function profileMemberContent(deps: Deps, userId: string): Promise<JsonObject> {
  const user = await getUser(deps.env.DB, userId);
  const content: JsonObject = {};
  if (user?.displayname) content.displayname = user.displayname;
  if (user?.avatar_url) content.avatar_url = user.avatar_url;
  return content;
}

/**
 * One call to the room's object: `send` itself answers M_NOT_FOUND for a room that doesn't exist,
 * so asking `exists()` first would only add a second Durable Object round trip to every send
 * (measured in BENCHMARKS.md).
 */
export async function sendToRoom(deps: Deps, roomId: string, input: LocalEventInput): Promise<Extract<AppendResult, { ok: true }>> {
  return unwrapAppend(await roomStub(deps, roomId).send(input));
}

export interface CreateRoomRequest {
  creator: string;
  version: RoomVersion;
  creationContent: JsonObject;
  isPublic: boolean;
  aliasLocalpart?: string;
  /** State events after the creator's join, in order. */
  initial: (userId: string) => Promise<LocalEventInput[]>;
}

/** Creates a room: its create event, its D1 index row, then every initial event in its object. */
export async function createRoom(deps: Deps, req: CreateRoomRequest): Promise<{ roomId: string; alias?: string }> {
  const sign = async (pdu: Pdu, v: RoomVersion) => signEvent(pdu, await getSigningKey(deps), v);
  const alias = req.aliasLocalpart !== undefined ? `#${req.aliasLocalpart}:${deps.config.serverName}` : undefined;
  if (alias) {
    assertAlias(alias);
    if (await getAlias(deps.env.DB, alias)) throw new MatrixError("M_ROOM_IN_USE", "Room alias already taken");
  }
  const { event: create, roomId } = await buildCreateEvent({
    version: req.version,
    creator: req.creator,
    content: req.creationContent,
    serverName: deps.config.serverName,
    now: deps.now(),
    randomId: () => randomToken(18),
    sign,
  });
  await insertRoomStatement(deps.env.DB, { roomId, version: req.version.id, creator: req.creator, createdTs: deps.now(), isPublic: req.isPublic }).run();
  if (alias && !(await insertAlias(deps.env.DB, { alias, roomId, creator: req.creator, now: deps.now() }))) {
    throw new MatrixError("M_ROOM_IN_USE", "Room alias already taken");
  }
  const results = await roomStub(deps, roomId).create(create, roomId, req.version.id, await req.initial(roomId));
  for (const r of results) unwrapAppend(r);
  return { roomId, alias };
}
