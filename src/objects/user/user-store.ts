/** SQL for a user's sync stream and per-room summaries (docs/design/sync.md), and the client form of a held event. */
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import { first, type Sql } from "../sql";

/** Timeline events kept per room: enough for any sync timeline limit we serve. */
export const TIMELINE_KEEP = 50;

export interface StreamRow {
  pos: number;
  kind: string;
  room_id: string | null;
  room_stream: number | null;
  data: string | null;
}

export interface RoomRow {
  room_id: string;
  membership: string;
  membership_pos: number;
  room_pos: number;
  joined: number;
  invited: number;
  heroes: string;
  stripped_state: string | null;
}

export interface RoomEventRow {
  room_id: string;
  room_stream: number;
  pos: number;
  event: string;
  is_state: number;
  txn_device: string | null;
  txn_id: string | null;
}

export interface RoomStateRow {
  room_id: string;
  type: string;
  state_key: string;
  event: string;
  pos: number;
}

/**
 * A held timeline row as a client sees it: `age` from now, and the transaction id only for the
 * device that sent it (spec: § Transaction identifiers).
 */
export function clientTimelineEvent(row: RoomEventRow, deviceId: string, now: number): ClientEvent {
  const ev = JSON.parse(row.event) as ClientEvent;
  const unsigned: JsonObject = { ...(ev.unsigned ?? {}), age: Math.max(0, now - ev.origin_server_ts) };
  delete unsigned.transaction_id;
  if (row.txn_device === deviceId && row.txn_id) unsigned.transaction_id = row.txn_id;
  return { ...ev, unsigned };
}

export class UserStore {
  /**
   * Rows inserted per room since its last trim. Trimming is a DELETE with a subquery, so it runs
   * once per TIMELINE_KEEP new rows rather than on every delivery; a room missing here (after a
   * restart) is trimmed at its next delivery. Readers only ever see the newest TIMELINE_KEEP rows.
   */
  private untrimmed = new Map<string, number>();

  constructor(readonly sql: Sql) {}

  appendStream(kind: string, roomId: string | null, roomStream: number | null, data: JsonObject | null): number {
    this.sql.run("INSERT INTO stream (kind, room_id, room_stream, data) VALUES (?, ?, ?, ?)", kind, roomId, roomStream, data ? JSON.stringify(data) : null);
    return first<{ id: number }>(this.sql, "SELECT last_insert_rowid() AS id")!.id;
  }

  maxPos(): number {
    return first<{ p: number | null }>(this.sql, "SELECT MAX(pos) AS p FROM stream")?.p ?? 0;
  }

  streamAfter(pos: number, limit: number): StreamRow[] {
    return this.sql.all<StreamRow>("SELECT pos, kind, room_id, room_stream, data FROM stream WHERE pos > ? ORDER BY pos LIMIT ?", pos, limit);
  }

  getRoom(roomId: string): RoomRow | undefined {
    return first<RoomRow>(this.sql, "SELECT * FROM rooms WHERE room_id = ?", roomId);
  }

  allRooms(): RoomRow[] {
    return this.sql.all<RoomRow>("SELECT * FROM rooms ORDER BY room_id");
  }

  upsertRoom(row: RoomRow): void {
    this.sql.run(
      `INSERT INTO rooms (room_id, membership, membership_pos, room_pos, joined, invited, heroes, stripped_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id) DO UPDATE SET membership = excluded.membership, membership_pos = excluded.membership_pos, room_pos = excluded.room_pos,
         joined = excluded.joined, invited = excluded.invited, heroes = excluded.heroes, stripped_state = excluded.stripped_state`,
      row.room_id,
      row.membership,
      row.membership_pos,
      row.room_pos,
      row.joined,
      row.invited,
      row.heroes,
      row.stripped_state,
    );
  }

  insertEvent(roomId: string, roomStream: number, pos: number, event: ClientEvent, txn?: { deviceId: string; txnId: string }): void {
    const n = this.untrimmed.get(roomId);
    if (n !== undefined) this.untrimmed.set(roomId, n + 1);
    this.sql.run(
      `INSERT INTO room_events (room_id, room_stream, pos, event, is_state, txn_device, txn_id) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id, room_stream) DO NOTHING`,
      roomId,
      roomStream,
      pos,
      JSON.stringify(event),
      typeof event.state_key === "string" ? 1 : 0,
      txn?.deviceId ?? null,
      txn?.txnId ?? null,
    );
  }

  /** Keeps only the newest TIMELINE_KEEP events of a room (at most 2 × TIMELINE_KEEP rows in between trims). */
  trimEvents(roomId: string): void {
    const pending = this.untrimmed.get(roomId);
    if (pending !== undefined && pending < TIMELINE_KEEP) return;
    this.untrimmed.set(roomId, 0);
    this.sql.run(
      `DELETE FROM room_events WHERE room_id = ? AND room_stream < (
         SELECT MIN(room_stream) FROM (SELECT room_stream FROM room_events WHERE room_id = ? ORDER BY room_stream DESC LIMIT ?))`,
      roomId,
      roomId,
      TIMELINE_KEEP,
    );
  }

  latestEvents(roomId: string, limit: number): RoomEventRow[] {
    return this.sql.all<RoomEventRow>("SELECT * FROM room_events WHERE room_id = ? ORDER BY room_stream DESC LIMIT ?", roomId, limit).reverse();
  }

  /** Events after `pos` among the room's newest TIMELINE_KEEP (rows past that wait for the next trim). */
  eventsSince(roomId: string, pos: number): RoomEventRow[] {
    return this.sql
      .all<RoomEventRow>("SELECT * FROM room_events WHERE room_id = ? AND pos > ? ORDER BY room_stream DESC LIMIT ?", roomId, pos, TIMELINE_KEEP)
      .reverse();
  }

  countEvents(roomId: string): number {
    return first<{ n: number }>(this.sql, "SELECT COUNT(*) AS n FROM room_events WHERE room_id = ?", roomId)?.n ?? 0;
  }

  setState(roomId: string, event: ClientEvent, pos: number): void {
    this.sql.run(
      `INSERT INTO room_state (room_id, type, state_key, event, pos) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (room_id, type, state_key) DO UPDATE SET event = excluded.event, pos = excluded.pos`,
      roomId,
      event.type,
      event.state_key ?? "",
      JSON.stringify(event),
      pos,
    );
  }

  state(roomId: string): RoomStateRow[] {
    return this.sql.all<RoomStateRow>("SELECT * FROM room_state WHERE room_id = ?", roomId);
  }

  stateSince(roomId: string, pos: number): RoomStateRow[] {
    return this.sql.all<RoomStateRow>("SELECT * FROM room_state WHERE room_id = ? AND pos > ?", roomId, pos);
  }

  getState(roomId: string, type: string, stateKey: string): RoomStateRow | undefined {
    return first<RoomStateRow>(this.sql, "SELECT * FROM room_state WHERE room_id = ? AND type = ? AND state_key = ?", roomId, type, stateKey);
  }

  /** Whether the stream has a row after `pos` of another kind than `ignoredKind`. */
  hasRowsAfter(pos: number, ignoredKind: string): boolean {
    return first(this.sql, "SELECT 1 AS one FROM stream WHERE pos > ? AND kind != ? LIMIT 1", pos, ignoredKind) !== undefined;
  }
}
