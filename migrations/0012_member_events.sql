-- The member event itself, in client format, beside each membership index row: a client that
-- doesn't lazy-load members gets every joined room's member list from one D1 query on its initial
-- sync, instead of one room-object call per room (docs/design/sync.md § Member lists). Written by
-- the room object with the row (and again when a redaction changes the event); NULL in rows
-- written before, which are read from the room object instead.
ALTER TABLE room_memberships ADD COLUMN event TEXT;
