/** The user Durable Object's SQLite schema (docs/design/sync.md). Append-only numbered steps. */
import { runMigrations, type Sql } from "../sql";

const MIGRATIONS: string[] = [
  `
  -- One row per change for this user; a sync token is a position in this table.
  CREATE TABLE stream (
    pos INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    room_id TEXT,
    room_stream INTEGER,
    data TEXT
  );
  CREATE INDEX stream_room ON stream (room_id, pos);
  -- The user's rooms: membership and summary, as delivered by each room.
  CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    membership TEXT NOT NULL,
    membership_pos INTEGER NOT NULL,
    room_pos INTEGER NOT NULL DEFAULT 0,
    joined INTEGER NOT NULL DEFAULT 0,
    invited INTEGER NOT NULL DEFAULT 0,
    heroes TEXT NOT NULL DEFAULT '[]',
    stripped_state TEXT
  );
  -- The latest timeline events of each room (trimmed), in client format.
  CREATE TABLE room_events (
    room_id TEXT NOT NULL,
    room_stream INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    event TEXT NOT NULL,
    is_state INTEGER NOT NULL,
    txn_device TEXT,
    txn_id TEXT,
    PRIMARY KEY (room_id, room_stream)
  );
  -- Current room state as this user needs it: non-member state, own membership, recent senders.
  CREATE TABLE room_state (
    room_id TEXT NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    event TEXT NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (room_id, type, state_key)
  );
  `,
];

export function migrate(sql: Sql): void {
  runMigrations(sql, MIGRATIONS);
}
