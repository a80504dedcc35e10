/** Media configuration (spec: Client-Server § Content repository, GET /media/config). */
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { route } from "../route";

export function registerMediaConfigRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v1/media/config (v1.11), and the deprecated /_matrix/media/v3/config.
  // Both need an access token; the limit is the one uploads enforce (services/media.ts).
  route(app, {
    method: "GET",
    paths: ["/_matrix/client/v1/media/config", "/_matrix/media/v3/config", "/_matrix/media/r0/config"],
    auth: "user",
    handler: ({ deps }) => ({ "m.upload.size": deps.config.media.maxUploadBytes }),
  });
}
