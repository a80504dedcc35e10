/**
 * SQL for sliding-sync connection state and room recency in a user's object
 * (docs/design/sliding-sync.md). No rules here.
 */
import { first, type Sql } from "../sql";

/** Room state as one position of a connection recorded it. */
export interface ConnRoomRow {
  room_id: string;
  pos_id: number;
  /** 1: the client has every change of the room up to the position's stream position. */
  live: number;
  /** When not live: the stream position up to which the client has the room. */
  sent_pos: number;
  membership: string;
  /** JSON of the RoomConfig the room was last sent with. */
  config: string;
}

export interface PositionRow {
  pos_id: number;
  conn: number;
  stream_pos: number;
  list_counts: string;
}

export interface BumpRow {
  room_id: string;
  membership: string;
  membership_pos: number;
  bump_pos: number | null;
}

export class SlidingSyncStore {
  constructor(readonly sql: Sql) {}

  /** The connection's key, creating it; `reset` drops everything it held (a request without `pos`). */
  connection(deviceId: string, connId: string, now: number, reset: boolean): number {
    const held = first<{ conn: number }>(this.sql, "SELECT conn FROM sliding_connections WHERE device_id = ? AND conn_id = ?", deviceId, connId);
    if (held && !reset) {
      this.sql.run("UPDATE sliding_connections SET last_used_ts = ? WHERE conn = ?", now, held.conn);
      return held.conn;
    }
    if (held) this.dropConnections([held.conn]);
    this.sql.run("INSERT INTO sliding_connections (device_id, conn_id, last_used_ts) VALUES (?, ?, ?)", deviceId, connId, now);
    return first<{ id: number }>(this.sql, "SELECT last_insert_rowid() AS id")!.id;
  }

  findConnection(deviceId: string, connId: string): number | undefined {
    return first<{ conn: number }>(this.sql, "SELECT conn FROM sliding_connections WHERE device_id = ? AND conn_id = ?", deviceId, connId)?.conn;
  }

  connectionExists(conn: number): boolean {
    return first(this.sql, "SELECT 1 AS one FROM sliding_connections WHERE conn = ?", conn) !== undefined;
  }

  /** Connections not used since `before` go, with everything they held. */
  expire(before: number): void {
    const old = this.sql.all<{ conn: number }>("SELECT conn FROM sliding_connections WHERE last_used_ts < ?", before);
    if (old.length) this.dropConnections(old.map((r) => r.conn));
  }

  private dropConnections(conns: number[]): void {
    for (const conn of conns) {
      this.sql.run("DELETE FROM sliding_rooms WHERE conn = ?", conn);
      this.sql.run("DELETE FROM sliding_positions WHERE conn = ?", conn);
      this.sql.run("DELETE FROM sliding_connections WHERE conn = ?", conn);
    }
  }

  position(conn: number, posId: number): PositionRow | undefined {
    return first<PositionRow>(this.sql, "SELECT * FROM sliding_positions WHERE conn = ? AND pos_id = ?", conn, posId);
  }

  /**
   * The client continues from `posId`: responses it never acknowledged (later positions) and the
   * positions before it can't be used any more, and each room keeps only its latest row as of
   * `posId`. A retried `pos` therefore sees the same state as the first try.
   */
  settleOn(conn: number, posId: number): void {
    this.sql.run("DELETE FROM sliding_positions WHERE conn = ? AND pos_id != ?", conn, posId);
    this.sql.run("DELETE FROM sliding_rooms WHERE conn = ? AND pos_id > ?", conn, posId);
    this.sql.run(
      `DELETE FROM sliding_rooms WHERE conn = ?1 AND pos_id < (
         SELECT MAX(r.pos_id) FROM sliding_rooms r WHERE r.conn = ?1 AND r.room_id = sliding_rooms.room_id)`,
      conn,
    );
  }

  /** Each room's latest row as of `posId`. */
  rooms(conn: number, posId: number): Map<string, ConnRoomRow> {
    const rows = this.sql.all<ConnRoomRow>(
      "SELECT room_id, pos_id, live, sent_pos, membership, config FROM sliding_rooms WHERE conn = ? AND pos_id <= ? ORDER BY pos_id",
      conn,
      posId,
    );
    return new Map(rows.map((r) => [r.room_id, r]));
  }

  addPosition(conn: number, streamPos: number, listCounts: string): number {
    this.sql.run("INSERT INTO sliding_positions (conn, stream_pos, list_counts) VALUES (?, ?, ?)", conn, streamPos, listCounts);
    return first<{ id: number }>(this.sql, "SELECT last_insert_rowid() AS id")!.id;
  }

  putRoom(conn: number, posId: number, roomId: string, live: boolean, sentPos: number, membership: string, config: string): void {
    this.sql.run(
      `INSERT INTO sliding_rooms (conn, room_id, pos_id, live, sent_pos, membership, config) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (conn, room_id, pos_id) DO UPDATE SET live = excluded.live, sent_pos = excluded.sent_pos,
         membership = excluded.membership, config = excluded.config`,
      conn,
      roomId,
      posId,
      live ? 1 : 0,
      sentPos,
      membership,
      config,
    );
  }

  /** Records the stream positions of a room's newly held events of a bump type (by room stream position). */
  recordBumps(roomId: string, roomStreams: number[]): void {
    if (roomStreams.length === 0) return;
    this.sql.run(
      `INSERT INTO sliding_bumps (room_id, bump_pos)
       SELECT room_id, MAX(pos) FROM room_events WHERE room_id = ? AND room_stream IN (SELECT value FROM json_each(?)) GROUP BY room_id
       ON CONFLICT (room_id) DO UPDATE SET bump_pos = MAX(bump_pos, excluded.bump_pos)`,
      roomId,
      JSON.stringify(roomStreams),
    );
  }

  /** Every room of the user with what ordering needs, in one query. */
  roomsWithBumps(): BumpRow[] {
    return this.sql.all<BumpRow>(
      "SELECT r.room_id, r.membership, r.membership_pos, b.bump_pos FROM rooms r LEFT JOIN sliding_bumps b ON b.room_id = r.room_id",
    );
  }

  /** Room ids with a state event of this type (and non-empty content), among all the user's rooms. */
  roomsWithState(type: string): Set<string> {
    return new Set(
      this.sql.all<{ room_id: string }>("SELECT room_id FROM room_state WHERE type = ? AND json_extract(event, '$.content') != '{}'", type).map((r) => r.room_id),
    );
  }

  /** The create event's `type` of each joined (or left) room whose object holds it. */
  roomTypes(): Map<string, string | null> {
    const rows = this.sql.all<{ room_id: string; t: unknown }>(
      "SELECT room_id, json_extract(event, '$.content.type') AS t FROM room_state WHERE type = 'm.room.create' AND state_key = ''",
    );
    return new Map(rows.map((r) => [r.room_id, typeof r.t === "string" ? r.t : null]));
  }

  /** State keys of `m.space.child` events with a non-empty `via` in these spaces (spec: § Spaces). */
  spaceChildren(spaces: string[]): Set<string> {
    const rows = this.sql.all<{ state_key: string }>(
      `SELECT state_key FROM room_state WHERE type = 'm.space.child' AND room_id IN (SELECT value FROM json_each(?))
       AND json_type(event, '$.content.via') = 'array' AND json_array_length(event, '$.content.via') > 0`,
      JSON.stringify(spaces),
    );
    return new Set(rows.map((r) => r.state_key));
  }

  /** Whether the stream holds more than `n` rows after `pos`. */
  rowsAfterExceed(pos: number, n: number): boolean {
    return first(this.sql, "SELECT 1 AS one FROM stream WHERE pos > ? ORDER BY pos LIMIT 1 OFFSET ?", pos, n) !== undefined;
  }

  /** Timeline events of the room after stream position `pos` (uncapped count, for gap detection). */
  countEventsAfter(roomId: string, pos: number): number {
    return first<{ n: number }>(this.sql, "SELECT COUNT(*) AS n FROM stream WHERE room_id = ? AND pos > ? AND kind IN ('event', 'snapshot')", roomId, pos)?.n ?? 0;
  }

  /** Whether the user's own read receipt in the room changed after `pos` (their unread counts may have). */
  ownReceiptAfter(roomId: string, userId: string, pos: number): boolean {
    return first(this.sql, "SELECT 1 AS one FROM receipts WHERE room_id = ? AND user_id = ? AND pos > ? LIMIT 1", roomId, userId, pos) !== undefined;
  }
}
