/** Typing notifications — spec: Client-Server § Typing notifications. */
import type { Hono } from "hono";
import { z } from "zod";
import { setTyping } from "../../../services/typing";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

export function registerTypingRoutes(app: Hono<AppEnv>): void {
  // PUT /rooms/{roomId}/typing/{userId}
  route(app, {
    method: "PUT",
    paths: clientPaths("/rooms/:roomId/typing/:userId"),
    auth: "user",
    body: z.looseObject({
      typing: z.boolean(),
      timeout: z.number().int().min(0).optional(),
    }),
    handler: async ({ deps, params, session, body }) => {
      await setTyping(deps, session.userId, params.roomId!, params.userId!, body.typing, body.timeout);
      return {};
    },
  });
}
