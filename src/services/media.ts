/**
 * The content repository (spec: Client-Server § Content repository; docs/design/media.md).
 * D1 holds each item's metadata (storage/d1/media.ts), R2 its bytes (storage/r2/media.ts). Uploads
 * stream into R2 and are cut off with 413 `M_TOO_LARGE` as soon as they pass the configured limit:
 * no more than one multipart part (or, with a Content-Length, nothing at all) is ever held in memory.
 *
 * For the thumbnail and URL-preview code: `lookupMedia` / `getServableMedia` give an item's
 * metadata, `readMediaBytes` its bytes, `mediaKey` the R2 key of the original.
 */
import { MatrixError, notFound } from "../api/errors";
import {
  claimPendingUpload,
  completePendingUpload,
  earliestPendingExpiry,
  getMediaRow,
  insertUploadedMedia,
  releaseUploadClaim,
  reservePendingMedia,
  setQuarantined,
  type MediaRow,
} from "../storage/d1/media";
import { originalKey } from "../storage/r2/media";
import type { Deps } from "./deps";
import { randomToken } from "./random";

/** An uploaded local item, as the download, thumbnail and preview code see it. */
export interface MediaInfo {
  serverName: string;
  mediaId: string;
  uploader: string;
  contentType: string;
  size: number;
  /** The `filename` given at upload, if any. */
  filename: string | null;
  quarantined: boolean;
  createdTs: number;
  uploadedTs: number;
}

/** A lookup's outcome: an uploaded item, a reserved id whose bytes have not arrived, or nothing. */
export type MediaLookup =
  | { kind: "uploaded"; media: MediaInfo }
  | { kind: "pending"; uploader: string; expiresTs: number }
  | { kind: "not_found" };

/** Spec § Content repository, Security considerations: media ids are `[A-Za-z0-9_-]` only. */
const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export function isValidMediaId(mediaId: string): boolean {
  return MEDIA_ID.test(mediaId);
}

/** Whether an mxc server name is this server. Federation does not exist yet, so nothing else is served. */
export function isLocalServerName(deps: Deps, serverName: string): boolean {
  return serverName === deps.config.serverName;
}

export function mxcUri(deps: Deps, mediaId: string): string {
  return `mxc://${deps.config.serverName}/${mediaId}`;
}

/** The R2 key of an item's original bytes. */
export function mediaKey(mediaId: string): string {
  return originalKey(mediaId);
}

function toInfo(serverName: string, row: MediaRow): MediaInfo {
  return {
    serverName,
    mediaId: row.media_id,
    uploader: row.uploader,
    contentType: row.content_type ?? "application/octet-stream",
    size: row.size ?? 0,
    filename: row.filename,
    quarantined: row.quarantined === 1,
    createdTs: row.created_ts,
    uploadedTs: row.uploaded_ts ?? row.created_ts,
  };
}

/**
 * What is known about `mxc://serverName/mediaId`, quarantined items included. Remote names and
 * malformed ids are `not_found`: this server neither fetches nor caches remote media yet.
 */
export async function lookupMedia(deps: Deps, serverName: string, mediaId: string): Promise<MediaLookup> {
  if (!isLocalServerName(deps, serverName) || !isValidMediaId(mediaId)) return { kind: "not_found" };
  const row = await getMediaRow(deps.env.DB, mediaId);
  if (!row) return { kind: "not_found" };
  if (row.uploaded_ts !== null) return { kind: "uploaded", media: toInfo(serverName, row) };
  if (row.unused_expires_ts !== null && row.unused_expires_ts > deps.now()) {
    return { kind: "pending", uploader: row.uploader, expiresTs: row.unused_expires_ts };
  }
  return { kind: "not_found" };
}

/** The spec's default wait for content that is not uploaded yet, and the most we grant. */
export const DEFAULT_WAIT_MS = 20_000;
export const MAX_WAIT_MS = 60_000;
const POLL_MS = 500;

/**
 * An item that may be served: uploaded and not quarantined. A reserved id is waited for up to
 * `timeoutMs` (spec: `timeout_ms`, 504 `M_NOT_YET_UPLOADED` after it); anything else, a
 * quarantined item included, is 404 `M_NOT_FOUND` as in Synapse.
 */
export async function getServableMedia(deps: Deps, serverName: string, mediaId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<MediaInfo> {
  const deadline = deps.now() + Math.min(Math.max(timeoutMs, 0), MAX_WAIT_MS);
  for (;;) {
    const found = await lookupMedia(deps, serverName, mediaId);
    switch (found.kind) {
      case "uploaded":
        if (found.media.quarantined) throw notFound("Not found");
        return found.media;
      case "not_found":
        throw notFound("Not found");
      case "pending": {
        const left = deadline - deps.now();
        if (left <= 0) throw new MatrixError("M_NOT_YET_UPLOADED", "Content has not yet been uploaded");
        await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
      }
    }
  }
}

/** An item's bytes from R2, whole or one range; null when the object is missing. */
export async function readMediaBytes(
  deps: Deps,
  mediaId: string,
  range?: { offset: number; length: number },
): Promise<R2ObjectBody | null> {
  return deps.env.MEDIA.get(originalKey(mediaId), range ? { range } : undefined);
}

export interface UploadInput {
  /** As sent; `application/octet-stream` when absent (spec v1.12). */
  contentType: string | undefined;
  filename: string | undefined;
  body: ReadableStream<Uint8Array> | null;
  /** The Content-Length header, when the client sent one. */
  contentLength: string | undefined;
}

const MAX_CONTENT_TYPE = 255;
const MAX_FILENAME = 1024;

function uploadMetadata(input: UploadInput): { contentType: string; filename: string | null } {
  const contentType = input.contentType?.trim() || "application/octet-stream";
  if (contentType.length > MAX_CONTENT_TYPE) throw new MatrixError("M_INVALID_PARAM", "Content-Type is too long");
  const filename = input.filename || null;
  if (filename !== null && filename.length > MAX_FILENAME) throw new MatrixError("M_INVALID_PARAM", "filename is too long");
  return { contentType, filename };
}

function tooLarge(deps: Deps): MatrixError {
  return new MatrixError("M_TOO_LARGE", `Cannot upload files larger than ${deps.config.media.maxUploadBytes} bytes`);
}

/** R2 multipart parts must all have one size (except the last) of at least 5 MiB. */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * Streams an upload body into R2 under `key` and returns its size, refusing it with 413 as soon as
 * it passes the limit. With a Content-Length the body goes straight through a FixedLengthStream
 * (a declared length over the limit is refused before a byte is read; the stream refuses a body
 * that differs from it). Without one, the body is cut into parts: a body that fits in one part is
 * a single put, a larger one a multipart upload, aborted when the limit is passed.
 */
async function streamIntoR2(deps: Deps, key: string, input: UploadInput, contentType: string): Promise<number> {
  const limit = deps.config.media.maxUploadBytes;
  const bucket = deps.env.MEDIA;
  const httpMetadata = { contentType };
  let declared: number | undefined;
  if (input.contentLength !== undefined) {
    declared = /^\d{1,15}$/.test(input.contentLength.trim()) ? Number(input.contentLength.trim()) : NaN;
    if (Number.isNaN(declared)) throw new MatrixError("M_INVALID_PARAM", "Invalid Content-Length");
    if (declared > limit) throw tooLarge(deps);
  }
  if (!input.body || declared === 0) {
    if (input.body) await input.body.cancel();
    await bucket.put(key, new Uint8Array(0), { httpMetadata });
    return 0;
  }
  if (declared !== undefined) {
    const fixed = new FixedLengthStream(declared);
    let seen = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const [stored] = await Promise.allSettled([bucket.put(key, fixed.readable, { httpMetadata }), input.body.pipeThrough(counter).pipeTo(fixed.writable)]);
    // A body that breaks off or differs from its Content-Length is the client's fault, not ours.
    if (seen !== declared) throw new MatrixError("M_UNKNOWN", "The upload did not match its Content-Length");
    if (stored.status === "rejected") throw stored.reason;
    return declared;
  }
  return streamChunked(deps, key, input.body, httpMetadata, limit);
}

async function streamChunked(
  deps: Deps,
  key: string,
  body: ReadableStream<Uint8Array>,
  httpMetadata: R2HTTPMetadata,
  limit: number,
): Promise<number> {
  const bucket = deps.env.MEDIA;
  const reader = body.getReader();
  // The part buffer grows as bytes arrive (small uploads stay small), up to one part.
  const partCap = Math.min(PART_BYTES, limit + 1);
  let part = new Uint8Array(Math.min(64 * 1024, partCap));
  let filled = 0;
  let total = 0;
  let multipart: R2MultipartUpload | undefined;
  const parts: R2UploadedPart[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge(deps);
      }
      let offset = 0;
      while (offset < value.byteLength) {
        if (filled === partCap) {
          // A full part: send it and start the next, so memory holds at most one part.
          multipart ??= await bucket.createMultipartUpload(key, { httpMetadata });
          parts.push(await multipart.uploadPart(parts.length + 1, part));
          filled = 0;
        } else if (filled === part.byteLength) {
          const grown = new Uint8Array(Math.min(partCap, part.byteLength * 2));
          grown.set(part);
          part = grown;
        }
        const n = Math.min(value.byteLength - offset, part.byteLength - filled);
        part.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
      }
    }
    if (!multipart) {
      await bucket.put(key, part.subarray(0, filled), { httpMetadata });
    } else {
      if (filled > 0) parts.push(await multipart.uploadPart(parts.length + 1, part.subarray(0, filled)));
      await multipart.complete(parts);
    }
    return total;
  } catch (err) {
    if (multipart) await multipart.abort().catch(() => undefined);
    throw err;
  }
}

/** POST /_matrix/media/v3/upload: stores the bytes, then records them; returns the mxc URI. */
export async function uploadMedia(deps: Deps, uploader: string, input: UploadInput): Promise<string> {
  const { contentType, filename } = uploadMetadata(input);
  const mediaId = randomToken(18);
  const key = originalKey(mediaId);
  const size = await streamIntoR2(deps, key, input, contentType);
  try {
    await insertUploadedMedia(deps.env.DB, { mediaId, uploader, contentType, size, filename, now: deps.now() });
  } catch (err) {
    // No row, no item: don't leave bytes nobody can reach.
    await deps.env.MEDIA.delete(key).catch(() => undefined);
    throw err;
  }
  return mxcUri(deps, mediaId);
}

/**
 * POST /_matrix/media/v1/create: reserves an id for a later PUT. Past the per-user limit of
 * pending ids, 429 `M_LIMIT_EXCEEDED` until the earliest one expires (spec; Synapse's default of 5).
 */
export async function createMediaId(deps: Deps, uploader: string): Promise<{ content_uri: string; unused_expires_at: number }> {
  const now = deps.now();
  const expiresTs = now + deps.config.media.unusedExpiryMs;
  const mediaId = randomToken(18);
  const reserved = await reservePendingMedia(deps.env.DB, {
    mediaId,
    uploader,
    now,
    expiresTs,
    maxPending: deps.config.media.maxPendingUploads,
  });
  if (!reserved) {
    const earliest = await earliestPendingExpiry(deps.env.DB, uploader, now);
    throw new MatrixError("M_LIMIT_EXCEEDED", "Too many pending media uploads", { retry_after_ms: Math.max((earliest ?? now) - now, 0) });
  }
  return { content_uri: mxcUri(deps, mediaId), unused_expires_at: expiresTs };
}

/**
 * PUT /_matrix/media/v3/upload/{serverName}/{mediaId}: the bytes of a reserved id. Only its
 * creator may upload, once, before it expires; a failed upload gives the id back for a retry.
 */
export async function uploadToReservedId(deps: Deps, uploader: string, serverName: string, mediaId: string, input: UploadInput): Promise<void> {
  // Synapse answers a non-local server name with 404 M_NOT_FOUND; so does an id we never made.
  if (!isLocalServerName(deps, serverName) || !isValidMediaId(mediaId)) throw notFound("Unknown media ID");
  const { contentType, filename } = uploadMetadata(input);
  const now = deps.now();
  if (!(await claimPendingUpload(deps.env.DB, mediaId, uploader, now))) {
    const row = await getMediaRow(deps.env.DB, mediaId);
    if (!row) throw notFound("Unknown media ID");
    if (row.uploader !== uploader) throw new MatrixError("M_FORBIDDEN", "You did not create this media ID");
    if (row.uploaded_ts !== null || row.upload_started_ts !== null) {
      throw new MatrixError("M_CANNOT_OVERWRITE_MEDIA", "Media ID already has content");
    }
    throw notFound("Media ID has expired");
  }
  let size: number;
  try {
    size = await streamIntoR2(deps, originalKey(mediaId), input, contentType);
  } catch (err) {
    await releaseUploadClaim(deps.env.DB, mediaId);
    throw err;
  }
  await completePendingUpload(deps.env.DB, { mediaId, contentType, size, filename, now: deps.now() });
}

/**
 * Quarantines (or releases) a local item: a quarantined item is not served by any endpoint.
 * Throws 404 for remote names and unknown ids.
 */
export async function setMediaQuarantine(deps: Deps, serverName: string, mediaId: string, by: string | null): Promise<void> {
  if (!isLocalServerName(deps, serverName) || !isValidMediaId(mediaId)) throw notFound("Unknown media");
  if (!(await setQuarantined(deps.env.DB, mediaId, by))) throw notFound("Unknown media");
}
