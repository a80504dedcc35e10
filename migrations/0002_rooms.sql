-- Global room data (issue: rooms). The room Durable Objects own the event graphs; these tables
-- are indexes they keep up to date, for queries across rooms and users.

-- One row per room: its summary for the directory, written by the room's Durable Object.
CREATE TABLE rooms (
  room_id TEXT PRIMARY KEY,
  room_version TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  name TEXT,
  topic TEXT,
  avatar_url TEXT,
  canonical_alias TEXT,
  join_rule TEXT,
  history_visibility TEXT,
  guest_access TEXT,
  room_type TEXT,
  encryption TEXT,
  joined_members INTEGER NOT NULL DEFAULT 0,
  -- published in the public room directory (spec: § Listing rooms)
  is_public INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX rooms_public ON rooms (is_public, joined_members DESC, room_id);

-- The membership index: (room, user) → membership, as of the room's current state.
CREATE TABLE room_memberships (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  updated_ts INTEGER NOT NULL,
  forgotten INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_memberships_user ON room_memberships (user_id, membership);

CREATE TABLE room_aliases (
  alias TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);

CREATE TABLE event_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id TEXT NOT NULL,
  event_id TEXT,
  reporter TEXT NOT NULL,
  reason TEXT,
  score INTEGER,
  received_ts INTEGER NOT NULL
);
