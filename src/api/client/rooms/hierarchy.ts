/** GET /_matrix/client/v1/rooms/{roomId}/hierarchy — spec: Client-Server § Spaces (v1.2). */
import type { Hono } from "hono";
import { z } from "zod";
import { roomHierarchy } from "../../../services/space-hierarchy";
import type { AppEnv } from "../../app-env";
import { clientV1Paths, route } from "../../route";

const int = (min: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, "must be an integer")
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}`);

export function registerHierarchyRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: clientV1Paths("/rooms/:roomId/hierarchy"),
    auth: "user",
    query: z.object({
      suggested_only: z.enum(["true", "false"]).optional(),
      limit: int(1).optional(),
      max_depth: int(0).optional(),
      from: z.string().min(1).optional(),
    }),
    handler: async ({ deps, params, session, query }) =>
      roomHierarchy(deps, session.userId, params.roomId!, {
        suggestedOnly: query.suggested_only === "true",
        limit: query.limit,
        maxDepth: query.max_depth,
        from: query.from,
      }),
  });
}
