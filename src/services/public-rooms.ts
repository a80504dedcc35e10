/**
 * The published room directory (spec: Client-Server § Published room directory). Read from the
 * D1 room summaries that each room object keeps current; ordered by joined members, largest
 * first, then room id, and paged by position so pages stay stable while rooms come and go.
 */
import { MatrixError, forbidden, invalidParam, notFound } from "../api/errors";
import { decodeBase64, encodeBase64Url } from "../matrix/base64";
import { countPublicRooms, getRoomVisibility, listPublicRooms, type DirectoryPosition, type PublicRoomRow, type PublicRoomsFilter } from "../storage/d1/directory";
import { setRoomPublic } from "../storage/d1/rooms";
import type { Deps } from "./deps";
import { assertRoomId, roomStub } from "./rooms";
import type { Session } from "./sessions";

export const DEFAULT_PUBLIC_ROOMS_LIMIT = 100;
export const MAX_PUBLIC_ROOMS_LIMIT = 500;

export interface PublicRoomsChunk {
  room_id: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule?: string;
  room_type?: string;
}

export interface PublicRoomsResponse {
  chunk: PublicRoomsChunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

export interface PublicRoomsRequest {
  limit?: number;
  since?: string;
  server?: string;
  filter?: PublicRoomsFilter;
  includeAllNetworks?: boolean;
  thirdPartyInstanceId?: string;
}

/** Before the first room / after the last one: where an empty page's way back (or on) starts. */
const START: Omit<DirectoryPosition, "dir"> = { members: Number.MAX_SAFE_INTEGER, roomId: "" };
const END: Omit<DirectoryPosition, "dir"> = { members: -1, roomId: "" };

function encodeToken(p: DirectoryPosition): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify([p.dir, p.members, p.roomId])));
}

function decodeToken(token: string): DirectoryPosition {
  try {
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(decodeBase64(token)));
    if (Array.isArray(v) && v.length === 3 && (v[0] === "f" || v[0] === "b") && Number.isSafeInteger(v[1]) && typeof v[2] === "string") {
      return { dir: v[0], members: v[1] as number, roomId: v[2] };
    }
  } catch {
    // fall through: any malformed token gets the same answer
  }
  throw invalidParam("Invalid pagination token");
}

function toChunk(row: PublicRoomRow): PublicRoomsChunk {
  const chunk: PublicRoomsChunk = {
    room_id: row.room_id,
    num_joined_members: row.joined_members,
    world_readable: row.history_visibility === "world_readable",
    guest_can_join: row.guest_access === "can_join",
  };
  if (row.name) chunk.name = row.name;
  if (row.topic) chunk.topic = row.topic;
  if (row.canonical_alias) chunk.canonical_alias = row.canonical_alias;
  if (row.avatar_url) chunk.avatar_url = row.avatar_url;
  if (row.join_rule) chunk.join_rule = row.join_rule;
  if (row.room_type) chunk.room_type = row.room_type;
  return chunk;
}

const position = (dir: "f" | "b", row: PublicRoomRow): DirectoryPosition => ({ dir, members: row.joined_members, roomId: row.room_id });

/** GET/POST /publicRooms */
export async function publicRooms(deps: Deps, req: PublicRoomsRequest): Promise<PublicRoomsResponse> {
  if (req.server !== undefined && req.server !== deps.config.serverName) {
    throw forbidden("Federation is not supported yet: the directories of other servers cannot be listed");
  }
  if (req.thirdPartyInstanceId !== undefined) {
    if (req.includeAllNetworks) throw invalidParam("third_party_instance_id can only be used when include_all_networks is false");
    // No application services bridge networks into this server, so no room belongs to one.
    return { chunk: [], total_room_count_estimate: 0 };
  }
  // include_all_networks: the only network here is Matrix itself.
  const filter = req.filter ?? {};
  const limit = Math.min(req.limit ?? DEFAULT_PUBLIC_ROOMS_LIMIT, MAX_PUBLIC_ROOMS_LIMIT);
  let from = req.since !== undefined ? decodeToken(req.since) : undefined;
  // The way back to the first page is the first page itself: it has no prev_batch.
  if (from?.dir === "f" && from.members === START.members && from.roomId === START.roomId) from = undefined;
  const total = await countPublicRooms(deps.env.DB, filter);
  if (limit === 0) return { chunk: [], total_room_count_estimate: total };

  const rows = await listPublicRooms(deps.env.DB, filter, limit, from);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const out: PublicRoomsResponse = { chunk: [], total_room_count_estimate: total };
  if (from?.dir === "b") {
    page.reverse();
    if (more) out.prev_batch = encodeToken(position("b", page[0]!));
    out.next_batch = encodeToken(page.length ? position("f", page[page.length - 1]!) : { dir: "f", ...START });
  } else {
    if (more) out.next_batch = encodeToken(position("f", page[page.length - 1]!));
    if (from) out.prev_batch = encodeToken(page.length ? position("b", page[0]!) : { dir: "b", ...END });
  }
  out.chunk = page.map(toChunk);
  return out;
}

/** GET /directory/list/room/{roomId} */
export async function directoryVisibility(deps: Deps, roomId: string): Promise<"public" | "private"> {
  assertRoomId(roomId);
  const row = await getRoomVisibility(deps.env.DB, roomId);
  if (!row) throw notFound("Room not found");
  return row.is_public === 1 ? "public" : "private";
}

/**
 * PUT /directory/list/room/{roomId}: a server admin, or a member with the power to change the
 * room's canonical alias (the check Synapse makes).
 */
export async function setDirectoryVisibility(deps: Deps, session: Session, roomId: string, visibility: "public" | "private"): Promise<void> {
  assertRoomId(roomId);
  if (!(await getRoomVisibility(deps.env.DB, roomId))) throw notFound("Room not found");
  if (!session.isAdmin && !(await roomStub(deps, roomId).maySendState(session.userId, "m.room.canonical_alias"))) {
    throw new MatrixError("M_FORBIDDEN", "You do not have the power to change this room's directory visibility");
  }
  await setRoomPublic(deps.env.DB, roomId, visibility === "public").run();
}
