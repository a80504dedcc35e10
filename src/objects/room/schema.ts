/**
 * The room Durable Object's SQLite schema. Numbered and append-only like D1 migrations: never
 * edit a step that has landed; add the next one.
 */
import { runMigrations, type Sql } from "../sql";

const MIGRATIONS: string[] = [
  // 1: the event graph.
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- Every event this room has seen. 'stream' is the room's own stream ordering: the order in
  -- which events were accepted here, used for sync positions and pagination.
  CREATE TABLE events (
    stream INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    state_key TEXT,
    sender TEXT NOT NULL,
    depth INTEGER NOT NULL,
    origin_server_ts INTEGER NOT NULL,
    json TEXT NOT NULL,
    -- state after this event; NULL for rejected events and outliers
    state_group INTEGER,
    rejected TEXT,
    soft_failed INTEGER NOT NULL DEFAULT 0,
    outlier INTEGER NOT NULL DEFAULT 0,
    redacted_by TEXT,
    txn_sender TEXT,
    txn_device TEXT,
    txn_id TEXT
  );
  CREATE INDEX events_ts ON events (origin_server_ts);
  CREATE UNIQUE INDEX events_txn ON events (txn_sender, txn_device, txn_id) WHERE txn_id IS NOT NULL;
  -- State groups are stored as deltas on a previous group; a full snapshot is taken when a chain
  -- grows long, so loading any group reads a bounded number of rows.
  CREATE TABLE state_groups (id INTEGER PRIMARY KEY AUTOINCREMENT, prev_group INTEGER, chain_length INTEGER NOT NULL);
  CREATE TABLE state_group_entries (
    group_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    state_key TEXT NOT NULL,
    -- NULL: the key is absent in this group although the previous one had it
    event_id TEXT,
    PRIMARY KEY (group_id, type, state_key)
  );
  -- membership is copied from m.room.member content so member lists and counts need no JSON parsing
  CREATE TABLE current_state (type TEXT NOT NULL, state_key TEXT NOT NULL, event_id TEXT NOT NULL, membership TEXT, PRIMARY KEY (type, state_key));
  CREATE INDEX current_state_membership ON current_state (type, membership);
  CREATE TABLE forward_extremities (event_id TEXT PRIMARY KEY);
  CREATE TABLE relations (
    event_id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL,
    rel_type TEXT NOT NULL,
    type TEXT NOT NULL,
    sender TEXT NOT NULL,
    aggregation_key TEXT,
    stream INTEGER NOT NULL
  );
  CREATE INDEX relations_parent ON relations (parent_id, rel_type, stream);
  `,
  // 2: the thread index. The thread list is ordered by each thread's latest reply (spec:
  // GET /rooms/{roomId}/threads); keeping that position per root makes a page an index range
  // instead of a scan of every thread reply in the room. Rows may name roots not (yet) in this
  // room; readers join with events.
  `
  CREATE TABLE threads (root_id TEXT PRIMARY KEY, latest_stream INTEGER NOT NULL);
  CREATE INDEX threads_latest ON threads (latest_stream);
  INSERT INTO threads (root_id, latest_stream)
    SELECT r.parent_id, MAX(r.stream) FROM relations r JOIN events e ON e.event_id = r.event_id
    WHERE r.rel_type = 'm.thread' AND e.redacted_by IS NULL
    GROUP BY r.parent_id;
  `,
  // 3: receipts (spec: § Receipts). The latest receipt of each (user, type, thread); '' is the
  // unthreaded category. 'stream' is the room's receipt stream position (meta.receipt_stream),
  // bumped on every change, so delivery to user objects can keep a cursor over it
  // (meta.receipts_delivered); 'event_stream' is the receipted event's position, so a receipt
  // for an older event than the one held is ignored. IF NOT EXISTS: a test re-runs step 2 on a
  // migrated database (relations.test.ts).
  `
  CREATE TABLE IF NOT EXISTS receipts (
    user_id TEXT NOT NULL,
    receipt_type TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_stream INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    PRIMARY KEY (user_id, receipt_type, thread_id)
  );
  CREATE INDEX IF NOT EXISTS receipts_stream ON receipts (stream);
  CREATE INDEX IF NOT EXISTS receipts_event_stream ON receipts (receipt_type, event_stream);
  `,
];

export function migrate(sql: Sql): void {
  runMigrations(sql, MIGRATIONS);
}
