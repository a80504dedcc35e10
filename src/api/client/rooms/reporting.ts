/** Reporting content — spec: Client-Server § Reporting content. */
import type { Hono } from "hono";
import { z } from "zod";
import { reportEvent, reportRoom, reportUser } from "../../../services/reports";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

export function registerReportingRoutes(app: Hono<AppEnv>): void {
  // POST /rooms/{roomId}/report/{eventId}. `score` left the spec in v1.18; older clients still send it.
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/report/:eventId"),
    auth: "user",
    body: z.looseObject({
      reason: z.string().max(4096).optional(),
      score: z.number().int().min(-100).max(0).optional(),
    }),
    handler: async ({ deps, params, session, body }) => {
      await reportEvent(deps, session.userId, params.roomId!, params.eventId!, body.reason, body.score);
      return {};
    },
  });

  // POST /rooms/{roomId}/report (v1.13)
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/report"),
    auth: "user",
    body: z.looseObject({ reason: z.string().max(4096) }),
    handler: async ({ deps, params, session, body }) => {
      await reportRoom(deps, session.userId, params.roomId!, body.reason);
      return {};
    },
  });

  // POST /users/{userId}/report (v1.14)
  route(app, {
    method: "POST",
    paths: clientPaths("/users/:userId/report"),
    auth: "user",
    body: z.looseObject({ reason: z.string().max(4096) }),
    handler: async ({ deps, params, session, body }) => {
      await reportUser(deps, session.userId, params.userId!, body.reason);
      return {};
    },
  });
}
