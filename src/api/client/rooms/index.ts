/** Room endpoints (spec: Client-Server § Rooms). */
import type { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { registerCreateRoomRoutes } from "./create-room";
import { registerDirectoryRoutes } from "./directory";
import { registerRoomEventRoutes } from "./events";
import { registerHierarchyRoutes } from "./hierarchy";
import { registerJoinedRoomsRoutes } from "./joined-rooms";
import { registerMembershipRoutes } from "./membership";
import { registerRelationRoutes } from "./relations";
import { registerReceiptRoutes } from "./receipts";
import { registerThreadRoutes } from "./threads";
import { registerTimelineRoutes } from "./timeline";
import { registerTypingRoutes } from "./typing";
import { registerReportingRoutes } from "./reporting";
import { registerRoomUpgradeRoutes } from "./upgrade";

export function registerRoomRoutes(app: Hono<AppEnv>): void {
  registerCreateRoomRoutes(app);
  registerMembershipRoutes(app);
  registerRoomEventRoutes(app);
  registerJoinedRoomsRoutes(app);
  registerTimelineRoutes(app);
  registerDirectoryRoutes(app);
  registerHierarchyRoutes(app);
  registerReportingRoutes(app);
  registerRoomUpgradeRoutes(app);
  registerRelationRoutes(app);
  registerThreadRoutes(app);
  registerTypingRoutes(app);
  registerReceiptRoutes(app);
}
