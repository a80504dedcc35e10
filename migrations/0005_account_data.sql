-- Account data (issue: sync; spec: Client-Server § Client Config, § Room Tagging, § Read Markers).
-- Global and per-room key/value config a user's clients share. Tags are the room account data
-- type `m.tag` and the read marker the type `m.fully_read`, as /sync shows them.
--
-- No stream column: the order in which changes reach a client is the user's own sync stream
-- (UserDurableObject), which every write notifies; /sync reads the current value from here.
CREATE TABLE account_data (
  user_id TEXT NOT NULL,
  -- '' for global account data
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  -- the event content, a JSON object
  content TEXT NOT NULL,
  updated_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
