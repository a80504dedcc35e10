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
  // Push notifications (notifications.ts, docs/design/push-notifications.md): the events the
  // user's push rules said notify them, the user's own read receipts as room stream positions
  // per thread ('' = unthreaded), and the queue of notifications owed to push gateways.
  `
  CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL,
    room_stream INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    highlight INTEGER NOT NULL,
    actions TEXT NOT NULL,
    event TEXT NOT NULL,
    ts INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX notifications_event ON notifications (room_id, room_stream);
  CREATE INDEX notifications_thread ON notifications (room_id, thread_id, room_stream);
  CREATE TABLE notification_receipts (
    room_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    stream INTEGER NOT NULL,
    PRIMARY KEY (room_id, thread_id)
  );
  CREATE TABLE push_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    pushkey TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    created_ts INTEGER NOT NULL
  );
  CREATE INDEX push_outbox_next ON push_outbox (next_at);
  `,
  // Sliding sync (sliding-sync.ts, docs/design/sliding-sync.md): connections per (device,
  // conn_id), the positions handed out, what each position says the client holds of each room,
  // and each room's recency (the position of its newest "bump" event, sliding-sync-lists.ts),
  // recorded as rooms deliver events and filled here once from the events already held.
  `
  CREATE TABLE sliding_connections (
    conn INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id TEXT NOT NULL,
    conn_id TEXT NOT NULL,
    last_used_ts INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX sliding_connections_key ON sliding_connections (device_id, conn_id);
  CREATE TABLE sliding_positions (
    pos_id INTEGER PRIMARY KEY AUTOINCREMENT,
    conn INTEGER NOT NULL,
    stream_pos INTEGER NOT NULL,
    list_counts TEXT NOT NULL
  );
  CREATE INDEX sliding_positions_conn ON sliding_positions (conn, pos_id);
  CREATE TABLE sliding_rooms (
    conn INTEGER NOT NULL,
    room_id TEXT NOT NULL,
    pos_id INTEGER NOT NULL,
    live INTEGER NOT NULL,
    sent_pos INTEGER NOT NULL,
    membership TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (conn, room_id, pos_id)
  );
  CREATE TABLE sliding_bumps (
    room_id TEXT PRIMARY KEY,
    bump_pos INTEGER NOT NULL
  );
  INSERT INTO sliding_bumps (room_id, bump_pos)
    SELECT room_id, MAX(pos) FROM room_events
    WHERE json_extract(event, '$.type') IN ('m.room.create', 'm.room.message', 'm.room.encrypted', 'm.sticker', 'm.call.invite', 'm.poll.start', 'm.beacon_info')
    GROUP BY room_id
  `,
];

export function migrate(sql: Sql): void {
  runMigrations(sql, MIGRATIONS);
}
