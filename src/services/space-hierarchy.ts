/**
 * GET /rooms/{roomId}/hierarchy (spec: Client-Server § Spaces). A depth-first walk over the
 * m.space.child events of the rooms this server holds, listing each room the user may see.
 * Children held only by other servers would need federation, which is not built: they are
 * left out. Pagination keeps the walk's queue in D1, so any Worker can continue it.
 */
import { forbidden, invalidParam } from "../api/errors";
import type { RoomSummaryInfo, SpaceSummary, StrippedChildState } from "../objects/room/room-summary";
import { deleteHierarchySessionsBefore, getHierarchySession, insertHierarchySession, type HierarchySession } from "../storage/d1/directory";
import { getRoomSummary, roomsForUser } from "../storage/d1/rooms";
import type { Deps } from "./deps";
import { randomToken } from "./random";
import { assertRoomId, roomStub } from "./rooms";

export const DEFAULT_HIERARCHY_LIMIT = 50;
export const MAX_HIERARCHY_LIMIT = 100;
export const DEFAULT_MAX_DEPTH = 10;
export const MAX_MAX_DEPTH = 10;
/** Pagination tokens live this long, as Synapse's do. */
export const HIERARCHY_SESSION_TTL_MS = 5 * 60 * 1000;

export interface HierarchyRequest {
  suggestedOnly: boolean;
  limit?: number;
  maxDepth?: number;
  from?: string;
}

export type HierarchyRoom = RoomSummaryInfo & { children_state: StrippedChildState[] };

export interface HierarchyResponse {
  rooms: HierarchyRoom[];
  next_batch?: string;
}

/**
 * Spec: the rooms listed are those the user is joined to or invited to, may join (public, or
 * restricted with a room they are in), may knock on, or may read (world-readable).
 */
async function isAccessible(info: SpaceSummary, joinedRooms: () => Promise<Set<string>>): Promise<boolean> {
  if (info.membership === "join" || info.membership === "invite") return true;
  if (info.summary.world_readable) return true;
  if (info.membership === "ban" || !info.joinRuleSupported) return false;
  switch (info.summary.join_rule) {
    case "public":
    case "knock":
    case "knock_restricted":
      return true;
    case "restricted": {
      const joined = await joinedRooms();
      return (info.summary.allowed_room_ids ?? []).some((r) => joined.has(r));
    }
    default:
      return false;
  }
}

const isSuggested = (child: StrippedChildState) => child.content.suggested === true;

export async function roomHierarchy(deps: Deps, userId: string, rootId: string, req: HierarchyRequest): Promise<HierarchyResponse> {
  assertRoomId(rootId);
  const limit = Math.min(req.limit ?? DEFAULT_HIERARCHY_LIMIT, MAX_HIERARCHY_LIMIT);
  const maxDepth = Math.min(req.maxDepth ?? DEFAULT_MAX_DEPTH, MAX_MAX_DEPTH);
  const now = deps.now();

  let joinedCache: Set<string> | undefined;
  const joinedRooms = async () => (joinedCache ??= new Set(await roomsForUser(deps.env.DB, userId, "join")));

  // The root is checked on every page: a user who lost access mid-walk stops seeing it.
  const root = await roomStub(deps, rootId).spaceSummary(userId);
  if (!root || !(await isAccessible(root, joinedRooms))) throw forbidden("You are not allowed to view this room");

  let session: HierarchySession;
  if (req.from !== undefined) {
    const stored = await getHierarchySession(deps.env.DB, req.from, now - HIERARCHY_SESSION_TTL_MS);
    if (!stored || stored.userId !== userId || stored.roomId !== rootId) throw invalidParam("Unknown or expired pagination token");
    if (stored.suggestedOnly !== req.suggestedOnly || stored.maxDepth !== maxDepth) {
      throw invalidParam("suggested_only and max_depth cannot change on paginated requests");
    }
    session = stored;
  } else {
    session = { userId, roomId: rootId, suggestedOnly: req.suggestedOnly, maxDepth, queue: [{ room_id: rootId, depth: 0 }], processed: [] };
  }

  const queue = [...session.queue];
  const processed = new Set(session.processed);
  const rooms: HierarchyRoom[] = [];
  // Rooms the user can't see cost a lookup too: bound the work of one page.
  let budget = limit * 4;
  while (queue.length > 0 && rooms.length < limit && budget > 0) {
    const entry = queue.pop()!;
    if (processed.has(entry.room_id)) continue;
    processed.add(entry.room_id);
    budget -= 1;
    let info: SpaceSummary | undefined;
    if (entry.room_id === rootId) info = root;
    // Only rooms this server holds; the D1 check keeps a stray child id from addressing a room object.
    else if (await getRoomSummary(deps.env.DB, entry.room_id)) info = await roomStub(deps, entry.room_id).spaceSummary(userId);
    if (!info || !(await isAccessible(info, joinedRooms))) continue;
    const children = session.suggestedOnly ? info.children.filter(isSuggested) : info.children;
    rooms.push({ ...info.summary, children_state: children });
    if (entry.depth < maxDepth) {
      // Reversed, so that the first child in the spec's order is the next popped.
      for (const child of [...children].reverse()) {
        if (!processed.has(child.state_key)) queue.push({ room_id: child.state_key, depth: entry.depth + 1 });
      }
    }
  }

  const remaining = queue.filter((e) => !processed.has(e.room_id));
  const out: HierarchyResponse = { rooms };
  if (remaining.length > 0) {
    const token = randomToken(18);
    await deleteHierarchySessionsBefore(deps.env.DB, now - HIERARCHY_SESSION_TTL_MS);
    await insertHierarchySession(deps.env.DB, token, { ...session, queue: remaining, processed: [...processed] }, now);
    out.next_batch = token;
  }
  return out;
}
