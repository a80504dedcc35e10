/**
 * Event relationships (spec: Client-Server § Relationships API, v1.3; `dir` v1.4, `recurse`
 * v1.10): GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].
 */
import type { Hono } from "hono";
import { z } from "zod";
import { relatedEvents } from "../../../services/room-relations";
import { assertRoomId } from "../../../services/rooms";
import type { AppEnv } from "../../app-env";
import { clientV1Paths, route } from "../../route";

/** A positive integer query parameter (bounded so it stays a safe integer). */
const positive = z
  .string()
  .regex(/^\d{1,15}$/, "must be a positive integer")
  .transform(Number)
  .refine((n) => n > 0, "must be a positive integer");

export function registerRelationRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: [
      ...clientV1Paths("/rooms/:roomId/relations/:eventId"),
      ...clientV1Paths("/rooms/:roomId/relations/:eventId/:relType"),
      ...clientV1Paths("/rooms/:roomId/relations/:eventId/:relType/:eventType"),
    ],
    auth: "user",
    query: z.object({
      from: z.string().optional(),
      to: z.string().optional(),
      limit: positive.optional(),
      dir: z.enum(["b", "f"]).default("b"),
      recurse: z
        .enum(["true", "false"])
        .transform((v) => v === "true")
        .optional(),
    }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      return relatedEvents(deps, params.roomId!, session, params.eventId!, {
        relType: params.relType,
        eventType: params.eventType,
        from: query.from,
        to: query.to,
        limit: query.limit,
        dir: query.dir,
        recurse: query.recurse,
      });
    },
  });
}
