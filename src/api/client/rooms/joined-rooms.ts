/** GET /_matrix/client/v3/joined_rooms — spec: § Room membership, from the D1 membership index. */
import type { Hono } from "hono";
import { roomsForUser } from "../../../storage/d1/rooms";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

export function registerJoinedRoomsRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: clientPaths("/joined_rooms"),
    auth: "user",
    handler: async ({ deps, session }) => ({ joined_rooms: await roomsForUser(deps.env.DB, session.userId, "join") }),
  });
}
