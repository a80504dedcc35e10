/** SQL for room discovery: the published room directory and space-hierarchy pagination sessions. */
import type { RoomSummaryRow } from "./rooms";

export type PublicRoomRow = Pick<
  RoomSummaryRow,
  "room_id" | "name" | "topic" | "avatar_url" | "canonical_alias" | "join_rule" | "history_visibility" | "guest_access" | "room_type" | "joined_members"
>;

export interface PublicRoomsFilter {
  /** Matched case-insensitively against name, topic and canonical alias, or exactly against the room id. */
  searchTerm?: string;
  /** Room types to include; `null` stands for rooms without a type. */
  roomTypes?: (string | null)[];
}

/** A position in directory order (joined members descending, then room id); pages start strictly after or before it. */
export interface DirectoryPosition {
  dir: "f" | "b";
  members: number;
  roomId: string;
}

function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function filterClause(filter: PublicRoomsFilter): { where: string[]; binds: (string | number)[] } {
  // Published rooms a stranger can join, knock on or read: a published invite-only room stays hidden.
  const where = ["is_public = 1", "(join_rule IN ('public', 'knock', 'knock_restricted') OR history_visibility = 'world_readable')"];
  const binds: (string | number)[] = [];
  if (filter.searchTerm) {
    const like = `%${escapeLike(filter.searchTerm.toLowerCase())}%`;
    where.push("(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(topic) LIKE ? ESCAPE '\\' OR LOWER(canonical_alias) LIKE ? ESCAPE '\\' OR room_id = ?)");
    binds.push(like, like, like, filter.searchTerm);
  }
  if (filter.roomTypes && filter.roomTypes.length > 0) {
    const types = filter.roomTypes.filter((t): t is string => t !== null);
    const parts: string[] = [];
    if (types.length) {
      parts.push(`room_type IN (${types.map(() => "?").join(", ")})`);
      binds.push(...types);
    }
    if (filter.roomTypes.includes(null)) parts.push("room_type IS NULL");
    where.push(`(${parts.join(" OR ")})`);
  }
  return { where, binds };
}

/**
 * One page of the directory plus one row, so the caller knows whether more follow. Keyset
 * pagination: a room that joins or leaves the directory between pages doesn't shift the others.
 */
export async function listPublicRooms(db: D1Database, filter: PublicRoomsFilter, limit: number, from?: DirectoryPosition): Promise<PublicRoomRow[]> {
  const { where, binds } = filterClause(filter);
  const backwards = from?.dir === "b";
  if (from) {
    where.push(backwards ? "(joined_members > ? OR (joined_members = ? AND room_id < ?))" : "(joined_members < ? OR (joined_members = ? AND room_id > ?))");
    binds.push(from.members, from.members, from.roomId);
  }
  const order = backwards ? "joined_members ASC, room_id DESC" : "joined_members DESC, room_id ASC";
  const { results } = await db
    .prepare(
      `SELECT room_id, name, topic, avatar_url, canonical_alias, join_rule, history_visibility, guest_access, room_type, joined_members
       FROM rooms WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT ?`,
    )
    .bind(...binds, limit + 1)
    .all<PublicRoomRow>();
  return results;
}

export async function countPublicRooms(db: D1Database, filter: PublicRoomsFilter): Promise<number> {
  const { where, binds } = filterClause(filter);
  const row = await db
    .prepare(`SELECT COUNT(*) AS n FROM rooms WHERE ${where.join(" AND ")}`)
    .bind(...binds)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export function getRoomVisibility(db: D1Database, roomId: string): Promise<{ is_public: number } | null> {
  return db.prepare("SELECT is_public FROM rooms WHERE room_id = ?").bind(roomId).first();
}

export interface HierarchySession {
  userId: string;
  roomId: string;
  suggestedOnly: boolean;
  maxDepth: number;
  /** Rooms still to visit, the next one last. */
  queue: { room_id: string; depth: number }[];
  processed: string[];
}

export async function insertHierarchySession(db: D1Database, token: string, s: HierarchySession, now: number): Promise<void> {
  await db
    .prepare(
      "INSERT INTO hierarchy_pagination (token, user_id, room_id, suggested_only, max_depth, queue, processed, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(token, s.userId, s.roomId, s.suggestedOnly ? 1 : 0, s.maxDepth, JSON.stringify(s.queue), JSON.stringify(s.processed), now)
    .run();
}

export async function getHierarchySession(db: D1Database, token: string, notBefore: number): Promise<HierarchySession | undefined> {
  const row = await db
    .prepare("SELECT user_id, room_id, suggested_only, max_depth, queue, processed FROM hierarchy_pagination WHERE token = ? AND created_ts >= ?")
    .bind(token, notBefore)
    .first<{ user_id: string; room_id: string; suggested_only: number; max_depth: number; queue: string; processed: string }>();
  if (!row) return undefined;
  return {
    userId: row.user_id,
    roomId: row.room_id,
    suggestedOnly: row.suggested_only === 1,
    maxDepth: row.max_depth,
    queue: JSON.parse(row.queue) as HierarchySession["queue"],
    processed: JSON.parse(row.processed) as string[],
  };
}

export async function deleteHierarchySessionsBefore(db: D1Database, before: number): Promise<void> {
  await db.prepare("DELETE FROM hierarchy_pagination WHERE created_ts < ?").bind(before).run();
}
