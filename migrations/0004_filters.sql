-- Filters (issue: sync; spec: Client-Server § Filtering, POST /user/{userId}/filter).
-- A user's stored filters, by a per-user id counting up from 0 as in Synapse. The JSON is the
-- filter as the client uploaded it, validated, unknown keys included; an identical upload gets
-- the existing id back, so clients that upload their filter at every start don't pile up rows.
CREATE TABLE filters (
  user_id TEXT NOT NULL,
  filter_id INTEGER NOT NULL,
  json TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, filter_id)
);
