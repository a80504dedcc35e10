/** Pushers (spec: Client-Server § Push Notifications, GET /pushers and POST /pushers/set; pusher.yaml). */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import { pushersForClient, setPusher } from "../../services/pushers";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/** Types only: which fields are required depends on `kind`, and services/pushers.ts answers M_MISSING_PARAM. */
const pusherBody = z.looseObject({
  kind: z.string().nullable().optional(),
  app_id: z.string().optional(),
  pushkey: z.string().optional(),
  app_display_name: z.string().optional(),
  device_display_name: z.string().optional(),
  profile_tag: z.string().optional(),
  lang: z.string().optional(),
  data: z.looseObject({}).optional(),
  append: z.boolean().optional(),
});

export function registerPusherRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/pushers
  route(app, {
    method: "GET",
    paths: clientPaths("/pushers"),
    auth: "user",
    handler: async ({ deps, session }) => ({ pushers: await pushersForClient(deps, session.userId) }),
  });

  // POST /_matrix/client/v3/pushers/set
  route(app, {
    method: "POST",
    paths: clientPaths("/pushers/set"),
    auth: "user",
    body: pusherBody,
    handler: async ({ deps, session, body }) => {
      await setPusher(deps, session.userId, session.deviceId, { ...body, data: body.data as JsonObject | undefined });
      return {};
    },
  });
}
