/**
 * Thumbnails (spec: Client-Server § Content repository § Thumbnails): the authenticated
 * GET /_matrix/client/v1/media/thumbnail (v1.11) and the deprecated unauthenticated
 * /_matrix/media/v3/thumbnail, which serves only while MEDIA_LEGACY_UNAUTHENTICATED is on
 * (the spec's media freeze, as for downloads).
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { clientV1Paths, route } from "../route";
import type { Deps } from "../../services/deps";
import { getThumbnail } from "../../services/thumbnails";
import { legacyFrozen, setMediaHeaders } from "./download";
import { mediaSecurityHeaders } from "./serving";

const dimension = z
  .string()
  .regex(/^\d{1,6}$/, "must be a positive integer")
  .transform(Number)
  .refine((n) => n > 0, "must be a positive integer");

const thumbnailQuery = z.object({
  width: dimension,
  height: dimension,
  // Spec: optional; Synapse treats a missing method as `scale`.
  method: z.enum(["crop", "scale"]).default("scale"),
  // Stratus makes no animated thumbnails; `true` is treated as `false`, as the spec allows.
  animated: z.enum(["true", "false"]).optional(),
  timeout_ms: z.string().regex(/^\d{1,9}$/, "must be a non-negative integer").transform(Number).optional(),
});

type ThumbnailQuery = z.output<typeof thumbnailQuery>;

async function thumbnailResponse(deps: Deps, params: Record<string, string>, query: ThumbnailQuery): Promise<Response> {
  const thumbnail = await getThumbnail(deps, params.serverName ?? "", params.mediaId ?? "", {
    width: query.width,
    height: query.height,
    method: query.method,
    timeoutMs: query.timeout_ms,
  });
  const extension = thumbnail.contentType === "image/jpeg" ? "jpg" : "png";
  return new Response(thumbnail.body, {
    headers: {
      "Content-Type": thumbnail.contentType,
      "Content-Length": String(thumbnail.size),
      // Spec v1.12: thumbnails are always inline, with a file name.
      "Content-Disposition": `inline; filename="thumbnail.${extension}"`,
      // As for downloads: authenticated media stays out of shared caches.
      "Cache-Control": "private, max-age=86400",
      ...mediaSecurityHeaders(),
    },
  });
}

export function registerThumbnailRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v1/media/thumbnail/{serverName}/{mediaId} — spec: § Content repository (v1.11).
  route(app, {
    method: "GET",
    paths: clientV1Paths("/media/thumbnail/:serverName/:mediaId"),
    auth: "user",
    query: thumbnailQuery,
    handler: ({ c, deps, params, query }) => {
      // Errors carry the media security headers too.
      setMediaHeaders(c);
      return thumbnailResponse(deps, params, query);
    },
  });

  // GET /_matrix/media/v3/thumbnail/{serverName}/{mediaId} — deprecated in v1.11. Every item of
  // this server is "new" media under the freeze, so with the switch off it answers as downloads
  // do: 404 M_NOT_FOUND.
  route(app, {
    method: "GET",
    paths: ["/_matrix/media/v3/thumbnail/:serverName/:mediaId", "/_matrix/media/r0/thumbnail/:serverName/:mediaId"],
    auth: "none",
    query: thumbnailQuery,
    handler: ({ c, deps, params, query }) => {
      setMediaHeaders(c);
      if (!deps.config.media.legacyUnauthenticated) throw legacyFrozen();
      return thumbnailResponse(deps, params, query);
    },
  });
}
