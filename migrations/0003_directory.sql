-- Room discovery (issue: rooms). Pagination sessions of GET /rooms/{roomId}/hierarchy: the walk's
-- queue and the rooms already seen, so the next page continues where this one stopped even in
-- another Worker. Kept for a few minutes, like Synapse's.
CREATE TABLE hierarchy_pagination (
  token TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  suggested_only INTEGER NOT NULL,
  max_depth INTEGER NOT NULL,
  -- JSON: [{room_id, depth}], the next room to visit last
  queue TEXT NOT NULL,
  -- JSON: [room_id], rooms already visited
  processed TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE INDEX hierarchy_pagination_created ON hierarchy_pagination (created_ts);

