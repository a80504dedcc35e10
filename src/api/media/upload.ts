/**
 * Uploads (spec: Client-Server § Content repository): POST /upload, and the asynchronous pair
 * POST /v1/create then PUT /upload/{serverName}/{mediaId} (v1.7). The body is not read by the route
 * wrapper (no JSON limit applies): services/media.ts streams it into R2 under the media limit.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { MatrixError } from "../errors";
import { route } from "../route";
import type { Session } from "../../services/sessions";
import { createMediaId, uploadMedia, uploadToReservedId, type UploadInput } from "../../services/media";

const uploadQuery = z.object({ filename: z.string().optional() });

function uploadInput(c: Context<AppEnv>, filename: string | undefined): UploadInput {
  return {
    contentType: c.req.header("content-type"),
    filename,
    body: c.req.raw.body,
    contentLength: c.req.header("content-length"),
  };
}

/** Synapse refuses uploads from guest accounts; so do we. */
function requireNonGuest(session: Session): void {
  if (session.isGuest) throw new MatrixError("M_GUEST_ACCESS_FORBIDDEN", "Guests may not upload media");
}

export function registerMediaUploadRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/media/v3/upload — spec: § Content repository. Returns the new mxc:// URI.
  route(app, {
    method: "POST",
    paths: ["/_matrix/media/v3/upload", "/_matrix/media/r0/upload"],
    auth: "user",
    query: uploadQuery,
    handler: async ({ c, deps, session, query }) => {
      requireNonGuest(session);
      return { content_uri: await uploadMedia(deps, session.userId, uploadInput(c, query.filename)) };
    },
  });

  // POST /_matrix/media/v1/create — spec: § Content repository (v1.7). Reserves an id for a later PUT.
  route(app, {
    method: "POST",
    paths: ["/_matrix/media/v1/create"],
    auth: "user",
    handler: async ({ deps, session }) => {
      requireNonGuest(session);
      return createMediaId(deps, session.userId);
    },
  });

  // PUT /_matrix/media/v3/upload/{serverName}/{mediaId} — spec: § Content repository (v1.7).
  route(app, {
    method: "PUT",
    paths: ["/_matrix/media/v3/upload/:serverName/:mediaId"],
    auth: "user",
    query: uploadQuery,
    handler: async ({ c, deps, session, query, params }) => {
      requireNonGuest(session);
      await uploadToReservedId(deps, session.userId, params.serverName!, params.mediaId!, uploadInput(c, query.filename));
      return {};
    },
  });
}
