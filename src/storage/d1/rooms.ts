/** SQL for the global room index: room summaries, memberships and aliases. */

export interface RoomSummaryRow {
  room_id: string;
  room_version: string;
  creator: string;
  created_ts: number;
  name: string | null;
  topic: string | null;
  avatar_url: string | null;
  canonical_alias: string | null;
  join_rule: string | null;
  history_visibility: string | null;
  guest_access: string | null;
  room_type: string | null;
  encryption: string | null;
  joined_members: number;
  is_public: number;
}

export type RoomSummaryUpdate = Partial<Omit<RoomSummaryRow, "room_id" | "room_version" | "creator" | "created_ts" | "is_public">>;

export function insertRoomStatement(db: D1Database, r: { roomId: string; version: string; creator: string; createdTs: number; isPublic: boolean }): D1PreparedStatement {
  return db
    .prepare("INSERT INTO rooms (room_id, room_version, creator, created_ts, is_public) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(r.roomId, r.version, r.creator, r.createdTs, r.isPublic ? 1 : 0);
}

const SUMMARY_COLUMNS = new Set([
  "name",
  "topic",
  "avatar_url",
  "canonical_alias",
  "join_rule",
  "history_visibility",
  "guest_access",
  "room_type",
  "encryption",
  "joined_members",
]);

export function updateRoomSummaryStatement(db: D1Database, roomId: string, update: RoomSummaryUpdate): D1PreparedStatement | undefined {
  const keys = Object.keys(update).filter((k) => SUMMARY_COLUMNS.has(k));
  if (keys.length === 0) return undefined;
  // Column names come from the fixed set above, never from input.
  const sets = keys.map((k) => `${k} = ?`).join(", ");
  const values = keys.map((k) => (update as Record<string, unknown>)[k] ?? null);
  return db.prepare(`UPDATE rooms SET ${sets} WHERE room_id = ?`).bind(...values, roomId);
}

export function getRoomSummary(db: D1Database, roomId: string): Promise<RoomSummaryRow | null> {
  return db.prepare("SELECT * FROM rooms WHERE room_id = ?").bind(roomId).first<RoomSummaryRow>();
}

export function setRoomPublic(db: D1Database, roomId: string, isPublic: boolean): D1PreparedStatement {
  return db.prepare("UPDATE rooms SET is_public = ? WHERE room_id = ?").bind(isPublic ? 1 : 0, roomId);
}

export function upsertMembershipStatement(
  db: D1Database,
  m: { roomId: string; userId: string; membership: string; eventId: string; sender: string; now: number; event: string | null },
): D1PreparedStatement {
  // A new membership event un-forgets the room (spec: POST /forget applies to the current membership).
  return db
    .prepare(
      `INSERT INTO room_memberships (room_id, user_id, membership, event_id, sender, updated_ts, forgotten, event) VALUES (?, ?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT (room_id, user_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id,
         sender = excluded.sender, updated_ts = excluded.updated_ts, forgotten = 0, event = excluded.event`,
    )
    .bind(m.roomId, m.userId, m.membership, m.eventId, m.sender, m.now, m.event);
}

/** A member event changed in place (redacted): its stored copy follows, if it is still the current one. */
export function updateMemberEventStatement(db: D1Database, roomId: string, eventId: string, event: string): D1PreparedStatement {
  return db.prepare("UPDATE room_memberships SET event = ? WHERE room_id = ? AND event_id = ?").bind(event, roomId, eventId);
}

/**
 * The member events (client format, as stored by the room object) of several rooms in one query.
 * A room is left out when any of its rows predates the stored events (migration 0012): the caller
 * asks that room's object instead.
 */
export async function memberEventsOfRooms(db: D1Database, roomIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (roomIds.length === 0) return out;
  const { results } = await db
    .prepare("SELECT room_id, event FROM room_memberships WHERE room_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(roomIds))
    .all<{ room_id: string; event: string | null }>();
  const incomplete = new Set<string>();
  for (const r of results) {
    if (r.event === null) incomplete.add(r.room_id);
    else out.set(r.room_id, [...(out.get(r.room_id) ?? []), r.event]);
  }
  for (const roomId of incomplete) out.delete(roomId);
  return out;
}

export async function roomsForUser(db: D1Database, userId: string, membership: string): Promise<string[]> {
  const { results } = await db
    .prepare("SELECT room_id FROM room_memberships WHERE user_id = ? AND membership = ? ORDER BY room_id")
    .bind(userId, membership)
    .all<{ room_id: string }>();
  return results.map((r) => r.room_id);
}

export function getMembership(db: D1Database, roomId: string, userId: string): Promise<{ membership: string; forgotten: number } | null> {
  return db.prepare("SELECT membership, forgotten FROM room_memberships WHERE room_id = ? AND user_id = ?").bind(roomId, userId).first();
}

export async function forgetRoom(db: D1Database, roomId: string, userId: string): Promise<void> {
  await db.prepare("UPDATE room_memberships SET forgotten = 1 WHERE room_id = ? AND user_id = ?").bind(roomId, userId).run();
}

export function getAlias(db: D1Database, alias: string): Promise<{ room_id: string; creator: string } | null> {
  return db.prepare("SELECT room_id, creator FROM room_aliases WHERE alias = ?").bind(alias).first();
}

/** Creates an alias unless it exists; the primary key decides between racing creators. */
export async function insertAlias(db: D1Database, a: { alias: string; roomId: string; creator: string; now: number }): Promise<boolean> {
  const r = await db
    .prepare("INSERT INTO room_aliases (alias, room_id, creator, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
    .bind(a.alias, a.roomId, a.creator, a.now)
    .run();
  return r.meta.changes === 1;
}

export async function deleteAlias(db: D1Database, alias: string): Promise<void> {
  await db.prepare("DELETE FROM room_aliases WHERE alias = ?").bind(alias).run();
}

export async function aliasesForRoom(db: D1Database, roomId: string): Promise<string[]> {
  const { results } = await db.prepare("SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias").bind(roomId).all<{ alias: string }>();
  return results.map((r) => r.alias);
}

/** Points every alias of one room at another (spec: § Room upgrades, "moves any local aliases"). */
export function moveAliasesStatement(db: D1Database, fromRoomId: string, toRoomId: string): D1PreparedStatement {
  return db.prepare("UPDATE room_aliases SET room_id = ? WHERE room_id = ?").bind(toRoomId, fromRoomId);
}

// Who shares a room with whom (presence visibility and fan-out): both joined, per the index.

export async function shareJoinedRoom(db: D1Database, a: string, b: string): Promise<boolean> {
  const row = await db
    .prepare(
      `SELECT 1 AS one FROM room_memberships x JOIN room_memberships y ON y.room_id = x.room_id
       WHERE x.user_id = ? AND x.membership = 'join' AND y.user_id = ? AND y.membership = 'join' LIMIT 1`,
    )
    .bind(a, b)
    .first();
  return row !== null;
}

/** Of `candidates`, those joined to a room `userId` is joined to. */
export async function joinedRoomSharers(db: D1Database, userId: string, candidates: string[]): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const { results } = await db
    .prepare(
      `SELECT DISTINCT y.user_id FROM room_memberships x JOIN room_memberships y ON y.room_id = x.room_id
       WHERE x.user_id = ? AND x.membership = 'join' AND y.membership = 'join' AND y.user_id IN (SELECT value FROM json_each(?))`,
    )
    .bind(userId, JSON.stringify(candidates))
    .all<{ user_id: string }>();
  return new Set(results.map((r) => r.user_id));
}

/**
 * Local users (their id ends with `:serverName`) joined to a room `userId` is joined to, other
 * than `userId`: at most `limit`, members of the smallest shared rooms first.
 */
export async function localJoinedRoomPeers(db: D1Database, userId: string, serverName: string, limit: number): Promise<string[]> {
  const suffix = `:${serverName}`;
  const { results } = await db
    .prepare(
      `SELECT y.user_id AS user_id, MIN(COALESCE(r.joined_members, 0)) AS size
       FROM room_memberships x
       JOIN room_memberships y ON y.room_id = x.room_id AND y.membership = 'join'
       LEFT JOIN rooms r ON r.room_id = x.room_id
       WHERE x.user_id = ? AND x.membership = 'join' AND y.user_id != ? AND substr(y.user_id, -length(?)) = ?
       GROUP BY y.user_id ORDER BY size, y.user_id LIMIT ?`,
    )
    .bind(userId, userId, suffix, suffix, limit)
    .all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}

/** Every local user joined to a room `userId` is joined to (device-list fan-out: nobody may be missed). */
export async function localJoinedRoomSharers(db: D1Database, userId: string, serverName: string): Promise<string[]> {
  const suffix = `:${serverName}`;
  const { results } = await db
    .prepare(
      `SELECT DISTINCT y.user_id AS user_id FROM room_memberships x
       JOIN room_memberships y ON y.room_id = x.room_id AND y.membership = 'join'
       WHERE x.user_id = ? AND x.membership = 'join' AND substr(y.user_id, -length(?)) = ?`,
    )
    .bind(userId, suffix, suffix)
    .all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}

/** The users joined to any of these rooms. */
export async function joinedMembersOfRooms(db: D1Database, roomIds: string[]): Promise<string[]> {
  if (roomIds.length === 0) return [];
  const { results } = await db
    .prepare("SELECT DISTINCT user_id FROM room_memberships WHERE room_id IN (SELECT value FROM json_each(?)) AND membership = 'join'")
    .bind(JSON.stringify(roomIds))
    .all<{ user_id: string }>();
  return results.map((r) => r.user_id);
}
