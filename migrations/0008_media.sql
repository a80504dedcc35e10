-- Local media (issue 6; spec: Client-Server § Content repository). The bytes live in R2 under
-- `media/{media_id}` (src/storage/r2/media.ts); this table is their metadata and the only record of
-- who uploaded what. A row exists from the moment an mxc:// URI is handed out: right after the bytes
-- are stored for POST /upload, or at POST /v1/create for an asynchronous upload, whose bytes come later.
CREATE TABLE media (
  media_id TEXT PRIMARY KEY,
  uploader TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  -- Asynchronous uploads: the id is refused (and may be deleted) once this passes without an upload.
  unused_expires_ts INTEGER,
  -- Set while one PUT streams the bytes, so a second PUT to the same id is refused instead of racing.
  upload_started_ts INTEGER,
  -- NULL until the bytes are in R2; then the item can be served.
  uploaded_ts INTEGER,
  content_type TEXT,
  size INTEGER,
  filename TEXT,
  -- A quarantined item is never served (404 like Synapse); set by a server admin.
  quarantined INTEGER NOT NULL DEFAULT 0,
  quarantined_by TEXT
);

-- Counting a user's pending asynchronous uploads (the per-user limit of POST /v1/create).
CREATE INDEX media_pending_by_uploader ON media (uploader, unused_expires_ts) WHERE uploaded_ts IS NULL;
