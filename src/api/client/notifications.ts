/** GET /notifications (spec: Client-Server § Push Notifications, § Listing Notifications; notifications.yaml). */
import type { Hono } from "hono";
import { z } from "zod";
import { listNotifications } from "../../services/notifications";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerNotificationRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/notifications?from=&limit=&only=highlight
  route(app, {
    method: "GET",
    paths: clientPaths("/notifications"),
    auth: "user",
    query: z.object({
      from: z.string().optional(),
      limit: z.string().regex(/^\d{1,15}$/, "must be a non-negative integer").transform(Number).optional(),
      // "Supply highlight to return only events where the notification had the highlight tweak set"; other values filter nothing.
      only: z.string().optional(),
    }),
    handler: ({ deps, session, query }) => listNotifications(deps, session.userId, query),
  });
}
