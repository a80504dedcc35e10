/** Room tagging (spec: Client-Server § Room Tagging). Tags are the room's `m.tag` account data. */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import { assertOwnAccountData, getTags, removeTag, setTag } from "../../services/account-data";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/** definitions/tag.yaml: `order` is "a number in a range [0,1]"; other keys are kept as sent. */
const tagBody = z.looseObject({ order: z.number().min(0).max(1).optional() });

export function registerTagRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags
  route(app, {
    method: "GET",
    paths: clientPaths("/user/:userId/rooms/:roomId/tags"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertOwnAccountData(session.userId, params.userId!);
      return { tags: await getTags(deps, session.userId, params.roomId!) };
    },
  });

  // PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}
  route(app, {
    method: "PUT",
    paths: clientPaths("/user/:userId/rooms/:roomId/tags/:tag"),
    auth: "user",
    body: tagBody,
    handler: async ({ deps, params, session, body }) => {
      assertOwnAccountData(session.userId, params.userId!);
      await setTag(deps, session.userId, params.roomId!, params.tag!, body as JsonObject);
      return {};
    },
  });

  // DELETE /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}
  route(app, {
    method: "DELETE",
    paths: clientPaths("/user/:userId/rooms/:roomId/tags/:tag"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertOwnAccountData(session.userId, params.userId!);
      await removeTag(deps, session.userId, params.roomId!, params.tag!);
      return {};
    },
  });
}
