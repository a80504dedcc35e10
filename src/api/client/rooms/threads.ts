/** Thread roots of a room (spec: Client-Server § Querying threads in a room, v1.4): GET /_matrix/client/v1/rooms/{roomId}/threads. */
import type { Hono } from "hono";
import { z } from "zod";
import { threadRoots } from "../../../services/room-relations";
import { assertRoomId } from "../../../services/rooms";
import type { AppEnv } from "../../app-env";
import { clientV1Paths, route } from "../../route";

export function registerThreadRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: clientV1Paths("/rooms/:roomId/threads"),
    auth: "user",
    query: z.object({
      include: z.enum(["all", "participated"]).default("all"),
      from: z.string().optional(),
      // Spec: an integer greater than zero.
      limit: z
        .string()
        .regex(/^\d{1,15}$/, "must be a positive integer")
        .transform(Number)
        .refine((n) => n > 0, "must be a positive integer")
        .optional(),
    }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      return threadRoots(deps, params.roomId!, session, { include: query.include, from: query.from, limit: query.limit });
    },
  });
}
