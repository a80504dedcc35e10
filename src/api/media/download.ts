/**
 * Downloads (spec: Client-Server § Content repository): the authenticated
 * /_matrix/client/v1/media/download paths (v1.11) and the deprecated unauthenticated
 * /_matrix/media/v3/download paths, which serve only when MEDIA_LEGACY_UNAUTHENTICATED is on
 * (otherwise they are "frozen": 404 M_NOT_FOUND, as the spec allows since v1.11).
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { MatrixError, notFound } from "../errors";
import { clientV1Paths, route } from "../route";
import type { Deps } from "../../services/deps";
import { DEFAULT_WAIT_MS, getServableMedia, readMediaBytes } from "../../services/media";
import { contentDisposition, mediaSecurityHeaders, servedContentType } from "./serving";

const boolParam = z.enum(["true", "false"]).optional();

export const downloadQuery = z.object({
  // Accepted; remote media is never fetched (no federation yet), so it changes nothing.
  allow_remote: boolParam,
  timeout_ms: z.coerce.number().int().min(0).default(DEFAULT_WAIT_MS),
  // Accepted; the bytes are always served directly, which the spec allows either way.
  allow_redirect: boolParam,
});

/** Sets the media security headers on the context, so error responses carry them too. */
export function setMediaHeaders(c: Context<AppEnv>): void {
  for (const [k, v] of Object.entries(mediaSecurityHeaders())) c.header(k, v);
}

/**
 * One `bytes=` range of a `size`-byte item (RFC 9110 § 14.1.2), or "unsatisfiable", or undefined
 * when the header is absent or not a single byte range (then the whole item is served).
 */
export function parseRange(header: string | undefined, size: number): { offset: number; length: number } | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { offset: start, length: end - start + 1 };
}

async function serveDownload(c: Context<AppEnv>, deps: Deps, params: Record<string, string>, timeoutMs: number): Promise<Response> {
  const media = await getServableMedia(deps, params.serverName!, params.mediaId!, timeoutMs);
  const headers = new Headers(mediaSecurityHeaders());
  headers.set("Content-Type", servedContentType(media.contentType));
  // Spec: the file name in the path replaces the uploaded one.
  headers.set("Content-Disposition", contentDisposition(media.contentType, params.fileName ?? media.filename));
  headers.set("Accept-Ranges", "bytes");
  // Authenticated media must not land in shared caches; the bytes themselves never change.
  headers.set("Cache-Control", "private, max-age=86400");
  const range = parseRange(c.req.header("range"), media.size);
  if (range === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${media.size}`);
    return new Response(null, { status: 416, headers });
  }
  const object = await readMediaBytes(deps, media.mediaId, range);
  if (!object) throw notFound("Not found");
  // A FixedLengthStream makes the length known, so the response carries Content-Length (clients show progress).
  const length = range ? range.length : media.size;
  const body = object.body.pipeThrough(new FixedLengthStream(length));
  headers.set("Content-Length", String(length));
  if (range) {
    headers.set("Content-Range", `bytes ${range.offset}-${range.offset + range.length - 1}/${media.size}`);
    return new Response(body, { status: 206, headers });
  }
  return new Response(body, { status: 200, headers });
}

export function registerMediaDownloadRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v1/media/download/{serverName}/{mediaId}[/{fileName}] — spec: § Content repository (v1.11).
  route(app, {
    method: "GET",
    paths: [...clientV1Paths("/media/download/:serverName/:mediaId"), ...clientV1Paths("/media/download/:serverName/:mediaId/:fileName")],
    auth: "user",
    query: downloadQuery,
    handler: async ({ c, deps, params, query }) => {
      setMediaHeaders(c);
      return serveDownload(c, deps, params, query.timeout_ms);
    },
  });

  // GET /_matrix/media/v3/download/{serverName}/{mediaId}[/{fileName}] — deprecated in v1.11, no auth.
  route(app, {
    method: "GET",
    paths: [
      "/_matrix/media/v3/download/:serverName/:mediaId",
      "/_matrix/media/v3/download/:serverName/:mediaId/:fileName",
      "/_matrix/media/r0/download/:serverName/:mediaId",
      "/_matrix/media/r0/download/:serverName/:mediaId/:fileName",
    ],
    auth: "none",
    query: downloadQuery,
    handler: async ({ c, deps, params, query }) => {
      setMediaHeaders(c);
      if (!deps.config.media.legacyUnauthenticated) throw legacyFrozen();
      return serveDownload(c, deps, params, query.timeout_ms);
    },
  });
}

/** The spec's answer for media behind the freeze of unauthenticated endpoints (v1.11). */
export function legacyFrozen(): MatrixError {
  return notFound("Unauthenticated media access is disabled on this server; use /_matrix/client/v1/media");
}
