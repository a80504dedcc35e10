/**
 * URL previews (spec: Client-Server § Content repository, GET /preview_url): the authenticated
 * /_matrix/client/v1/media/preview_url (v1.11) and the deprecated /_matrix/media/v3/preview_url,
 * which answers only while MEDIA_LEGACY_UNAUTHENTICATED is on (like the other legacy media paths;
 * it always required an access token). With URL_PREVIEW_ENABLED off both are not served:
 * 404 M_UNRECOGNIZED, as Synapse answers when previews are disabled.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { unrecognized } from "../errors";
import { clientV1Paths, route } from "../route";
import type { Deps } from "../../services/deps";
import { previewUrl } from "../../services/url-preview";

const previewQuery = z.object({
  url: z.string().min(1, "is required").max(2048, "is too long"),
  ts: z.string().regex(/^\d{1,16}$/, "must be a timestamp in milliseconds").transform(Number).optional(),
});

function requireEnabled(deps: Deps): void {
  if (!deps.config.urlPreview.enabled) throw unrecognized("URL previews are disabled on this server");
}

export function registerUrlPreviewRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v1/media/preview_url — spec: § Content repository (v1.11).
  route(app, {
    method: "GET",
    paths: clientV1Paths("/media/preview_url"),
    auth: "user",
    query: previewQuery,
    handler: async ({ deps, session, query }) => {
      requireEnabled(deps);
      return previewUrl(deps, session.userId, query.url, query.ts);
    },
  });

  // GET /_matrix/media/v3/preview_url — deprecated in v1.11.
  route(app, {
    method: "GET",
    paths: ["/_matrix/media/v3/preview_url", "/_matrix/media/r0/preview_url"],
    auth: "user",
    query: previewQuery,
    handler: async ({ deps, session, query }) => {
      requireEnabled(deps);
      if (!deps.config.media.legacyUnauthenticated) throw unrecognized("Use /_matrix/client/v1/media/preview_url");
      return previewUrl(deps, session.userId, query.url, query.ts);
    },
  });
}
