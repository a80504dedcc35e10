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
  // Receipts the user may see, latest per (room, user, type, thread; '' = unthreaded), with the
  // stream position of the change that brought each one (docs/design/sync.md § Ephemeral events).
  `
  CREATE TABLE receipts (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    receipt_type TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    room_receipt_stream INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
  );
  CREATE INDEX receipts_pos ON receipts (room_id, pos);
  `,
  // To-device inboxes, one queue per device (to-device.ts), the transaction ids of this user's own
  // sends, the user's own presence and the latest presence of users sharing a room (presence.ts).
  `
  CREATE TABLE to_device (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    sender_device TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    type TEXT NOT NULL,
    content TEXT NOT NULL,
    delivered_pos INTEGER
  );
  CREATE UNIQUE INDEX to_device_txn ON to_device (device_id, sender, sender_device, txn_id);
  CREATE INDEX to_device_device ON to_device (device_id, seq);
  CREATE TABLE to_device_txns (
    device_id TEXT NOT NULL,
    txn_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    PRIMARY KEY (device_id, txn_id)
  );
  CREATE INDEX to_device_txns_ts ON to_device_txns (ts);
  CREATE TABLE presence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    presence TEXT NOT NULL,
    status_msg TEXT,
    last_active_ts INTEGER,
    pushed_ts INTEGER NOT NULL,
    seq INTEGER NOT NULL
  );
  CREATE TABLE presence_peers (
    user_id TEXT PRIMARY KEY,
    presence TEXT NOT NULL,
    status_msg TEXT,
    last_active_ts INTEGER,
    seq INTEGER NOT NULL,
    pos INTEGER NOT NULL
  );
  CREATE INDEX presence_peers_pos ON presence_peers (pos);
  `,
];

export function migrate(sql: Sql): void {
  runMigrations(sql, MIGRATIONS);
}
