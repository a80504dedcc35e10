/** POST /_matrix/client/v3/rooms/{roomId}/upgrade — spec: Client-Server § Room upgrades. */
import type { Hono } from "hono";
import { z } from "zod";
import { assertRoomId } from "../../../services/rooms";
import { upgradeRoom } from "../../../services/room-upgrade";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

const body = z.looseObject({
  new_version: z.string().min(1),
  // v1.16: creators besides the upgrader, for room versions that have them.
  additional_creators: z.array(z.string().regex(/^@[^:]+:.+$/, "must be a user id")).max(100).optional(),
});

export function registerRoomUpgradeRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/upgrade"),
    auth: "user",
    body,
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      const replacement = await upgradeRoom(deps, {
        roomId: params.roomId!,
        userId: session.userId,
        newVersion: body.new_version,
        additionalCreators: body.additional_creators,
      });
      return { replacement_room: replacement };
    },
  });
}
