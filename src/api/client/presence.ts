/** Presence (spec: Client-Server § Presence). */
import type { Hono } from "hono";
import { z } from "zod";
import { getPresence, setPresence } from "../../services/presence";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerPresenceRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/presence/{userId}/status
  route(app, {
    method: "GET",
    paths: clientPaths("/presence/:userId/status"),
    auth: "user",
    handler: ({ deps, session, params }) => getPresence(deps, session.userId, params.userId!),
  });

  // PUT /_matrix/client/v3/presence/{userId}/status
  route(app, {
    method: "PUT",
    paths: clientPaths("/presence/:userId/status"),
    auth: "user",
    // A null or absent status_msg clears it, as in Synapse.
    body: z.looseObject({ presence: z.enum(["online", "unavailable", "offline"]), status_msg: z.string().nullable().optional() }),
    handler: async ({ deps, session, params, body }) => {
      await setPresence(deps, session.userId, params.userId!, body.presence, body.status_msg ?? null);
      return {};
    },
  });
}
