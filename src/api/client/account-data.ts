/** Client config: global and per-room account data (spec: Client-Server § Client Config). */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import {
  assertOwnAccountData,
  getGlobalAccountData,
  getRoomAccountData,
  setGlobalAccountData,
  setRoomAccountData,
} from "../../services/account-data";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/** Any JSON object (the route wrapper refuses anything else with M_BAD_JSON / M_NOT_JSON). */
const content = z.looseObject({});

export function registerAccountDataRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/user/{userId}/account_data/{type}
  route(app, {
    method: "GET",
    paths: clientPaths("/user/:userId/account_data/:type"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertOwnAccountData(session.userId, params.userId!);
      return getGlobalAccountData(deps, session.userId, params.type!);
    },
  });

  // PUT /_matrix/client/v3/user/{userId}/account_data/{type}
  route(app, {
    method: "PUT",
    paths: clientPaths("/user/:userId/account_data/:type"),
    auth: "user",
    body: content,
    handler: async ({ deps, params, session, body }) => {
      assertOwnAccountData(session.userId, params.userId!);
      await setGlobalAccountData(deps, session.userId, params.type!, body as JsonObject);
      return {};
    },
  });

  // GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}
  route(app, {
    method: "GET",
    paths: clientPaths("/user/:userId/rooms/:roomId/account_data/:type"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertOwnAccountData(session.userId, params.userId!);
      return getRoomAccountData(deps, session.userId, params.roomId!, params.type!);
    },
  });

  // PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}
  route(app, {
    method: "PUT",
    paths: clientPaths("/user/:userId/rooms/:roomId/account_data/:type"),
    auth: "user",
    body: content,
    handler: async ({ deps, params, session, body }) => {
      assertOwnAccountData(session.userId, params.userId!);
      await setRoomAccountData(deps, session.userId, params.roomId!, params.type!, body as JsonObject);
      return {};
    },
  });
}
