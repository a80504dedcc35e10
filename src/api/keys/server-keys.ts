/** GET /_matrix/key/v2/server — spec: Server-Server § Publishing keys. */
import type { Hono } from "hono";
import { serverKeysResponse } from "../../services/server-keys";
import type { AppEnv } from "../app-env";
import { route } from "../route";

export function registerServerKeyRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: ["/_matrix/key/v2/server", "/_matrix/key/v2/server/:keyId"],
    auth: "none",
    handler: ({ deps }) => serverKeysResponse(deps),
  });
}
