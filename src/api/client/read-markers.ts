/** Read markers (spec: Client-Server § Read Markers). */
import type { Hono } from "hono";
import { z } from "zod";
import { setReadMarkers } from "../../services/read-markers";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerReadMarkerRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/client/v3/rooms/{roomId}/read_markers
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/read_markers"),
    auth: "user",
    body: z.looseObject({
      "m.fully_read": z.string().min(1).optional(),
      "m.read": z.string().min(1).optional(),
      "m.read.private": z.string().min(1).optional(),
    }),
    handler: async ({ deps, params, session, body }) => {
      await setReadMarkers(deps, session.userId, params.roomId!, {
        fullyRead: body["m.fully_read"],
        read: body["m.read"],
        readPrivate: body["m.read.private"],
      });
      return {};
    },
  });
}
