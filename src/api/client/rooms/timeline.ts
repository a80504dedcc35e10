/**
 * Reading a room's timeline (spec: Client-Server § Getting events for a room,
 * § Retrieving events around a given event, GET /rooms/{roomId}/timestamp_to_event).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { assertRoomId } from "../../../services/rooms";
import { eventAtTimestamp, eventContext, roomMessages } from "../../../services/room-timeline";
import type { AppEnv } from "../../app-env";
import { clientPaths, clientV1Paths, route } from "../../route";
import { parseRoomEventFilterParam } from "../../../services/filters";

/** A non-negative integer query parameter (bounded so it stays a safe integer). */
const count = z
  .string()
  .regex(/^\d{1,15}$/, "must be a non-negative integer")
  .transform(Number);

export function registerTimelineRoutes(app: Hono<AppEnv>): void {
  // GET /rooms/{roomId}/messages (spec: § Getting events for a room)
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/messages"),
    auth: "user",
    query: z.object({
      dir: z.enum(["b", "f"]),
      from: z.string().optional(),
      to: z.string().optional(),
      limit: count.optional(),
      filter: z.string().optional(),
    }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      return roomMessages(deps, params.roomId!, session, {
        dir: query.dir,
        from: query.from,
        to: query.to,
        limit: query.limit,
        filter: parseRoomEventFilterParam(query.filter),
      });
    },
  });

  // GET /rooms/{roomId}/context/{eventId} (spec: § Retrieving events around a given event)
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/context/:eventId"),
    auth: "user",
    query: z.object({ limit: count.optional(), filter: z.string().optional() }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      return eventContext(deps, params.roomId!, session, params.eventId!, {
        limit: query.limit,
        filter: parseRoomEventFilterParam(query.filter),
      });
    },
  });

  // GET /rooms/{roomId}/timestamp_to_event (spec: v1.6, GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event)
  route(app, {
    method: "GET",
    paths: clientV1Paths("/rooms/:roomId/timestamp_to_event"),
    auth: "user",
    query: z.object({ ts: count, dir: z.enum(["b", "f"]) }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      return eventAtTimestamp(deps, params.roomId!, session.userId, query.ts, query.dir);
    },
  });
}
