/** Room endpoints (spec: Client-Server § Rooms). */
import type { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { registerCreateRoomRoutes } from "./create-room";
import { registerRoomEventRoutes } from "./events";
import { registerJoinedRoomsRoutes } from "./joined-rooms";
import { registerMembershipRoutes } from "./membership";

export function registerRoomRoutes(app: Hono<AppEnv>): void {
  registerCreateRoomRoutes(app);
  registerMembershipRoutes(app);
  registerRoomEventRoutes(app);
  registerJoinedRoomsRoutes(app);
}
