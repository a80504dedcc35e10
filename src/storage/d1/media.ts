/** SQL for local media metadata (migrations/0008_media.sql). No rules here: see services/media.ts. */

export interface MediaRow {
  media_id: string;
  uploader: string;
  created_ts: number;
  unused_expires_ts: number | null;
  upload_started_ts: number | null;
  uploaded_ts: number | null;
  content_type: string | null;
  size: number | null;
  filename: string | null;
  quarantined: number;
  quarantined_by: string | null;
}

export async function getMediaRow(db: D1Database, mediaId: string): Promise<MediaRow | undefined> {
  const row = await db.prepare("SELECT * FROM media WHERE media_id = ?").bind(mediaId).first<MediaRow>();
  return row ?? undefined;
}

/** Records an item whose bytes are already in R2 (POST /upload). */
export async function insertUploadedMedia(
  db: D1Database,
  row: { mediaId: string; uploader: string; contentType: string; size: number; filename: string | null; now: number },
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO media (media_id, uploader, created_ts, uploaded_ts, content_type, size, filename)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(row.mediaId, row.uploader, row.now, row.now, row.contentType, row.size, row.filename)
    .run();
}

/**
 * Reserves an id for an asynchronous upload unless the user already has `maxPending` unexpired
 * ones. The count and the insert are one statement, so concurrent requests can't both slip under
 * the limit. The user's expired, never-started reservations are dropped first. Returns whether
 * the id was reserved.
 */
export async function reservePendingMedia(
  db: D1Database,
  row: { mediaId: string; uploader: string; now: number; expiresTs: number; maxPending: number },
): Promise<boolean> {
  const [, inserted] = await db.batch([
    db
      .prepare("DELETE FROM media WHERE uploader = ? AND uploaded_ts IS NULL AND upload_started_ts IS NULL AND unused_expires_ts <= ?")
      .bind(row.uploader, row.now),
    db
      .prepare(
        `INSERT INTO media (media_id, uploader, created_ts, unused_expires_ts)
         SELECT ?1, ?2, ?3, ?4
         WHERE (SELECT COUNT(*) FROM media WHERE uploader = ?2 AND uploaded_ts IS NULL AND unused_expires_ts > ?3) < ?5`,
      )
      .bind(row.mediaId, row.uploader, row.now, row.expiresTs, row.maxPending),
  ]);
  return (inserted?.meta.changes ?? 0) === 1;
}

/** When the user's earliest pending reservation expires (to tell a refused client when to retry). */
export async function earliestPendingExpiry(db: D1Database, uploader: string, now: number): Promise<number | undefined> {
  const row = await db
    .prepare("SELECT MIN(unused_expires_ts) AS ts FROM media WHERE uploader = ? AND uploaded_ts IS NULL AND unused_expires_ts > ?")
    .bind(uploader, now)
    .first<{ ts: number | null }>();
  return row?.ts ?? undefined;
}

/**
 * Claims a reserved id for one PUT: only its creator, only before it expires, only if no other
 * upload has started or finished. Returns whether this request holds the claim.
 */
export async function claimPendingUpload(db: D1Database, mediaId: string, uploader: string, now: number): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE media SET upload_started_ts = ?3
       WHERE media_id = ?1 AND uploader = ?2 AND uploaded_ts IS NULL AND upload_started_ts IS NULL AND unused_expires_ts > ?3`,
    )
    .bind(mediaId, uploader, now)
    .run();
  return res.meta.changes === 1;
}

/** Gives a claim back after a failed upload, so the client may try again before the id expires. */
export async function releaseUploadClaim(db: D1Database, mediaId: string): Promise<void> {
  await db.prepare("UPDATE media SET upload_started_ts = NULL WHERE media_id = ? AND uploaded_ts IS NULL").bind(mediaId).run();
}

/** Marks a claimed id as uploaded, with what the PUT said about its bytes. */
export async function completePendingUpload(
  db: D1Database,
  row: { mediaId: string; contentType: string; size: number; filename: string | null; now: number },
): Promise<void> {
  await db
    .prepare(
      `UPDATE media SET uploaded_ts = ?, content_type = ?, size = ?, filename = ?, unused_expires_ts = NULL
       WHERE media_id = ? AND uploaded_ts IS NULL`,
    )
    .bind(row.now, row.contentType, row.size, row.filename, row.mediaId)
    .run();
}

/** Sets or clears the quarantine flag; returns whether the item exists. */
export async function setQuarantined(db: D1Database, mediaId: string, quarantinedBy: string | null): Promise<boolean> {
  const res = await db
    .prepare("UPDATE media SET quarantined = ?, quarantined_by = ? WHERE media_id = ?")
    .bind(quarantinedBy === null ? 0 : 1, quarantinedBy, mediaId)
    .run();
  return res.meta.changes === 1;
}
