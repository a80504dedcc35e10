/** Filters (spec: Client-Server § Filtering, API endpoints). */
import type { Hono } from "hono";
import { filterWireSchema } from "../../matrix/filters";
import { assertOwnFilters, createFilter, downloadFilter } from "../../services/filters";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerFilterRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/client/v3/user/{userId}/filter (spec: § Filtering, defineFilter)
  route(app, {
    method: "POST",
    paths: clientPaths("/user/:userId/filter"),
    auth: "user",
    body: filterWireSchema,
    handler: async ({ deps, params, session, body }) => {
      assertOwnFilters(deps, session.userId, params.userId!);
      return { filter_id: await createFilter(deps, session.userId, body) };
    },
  });

  // GET /_matrix/client/v3/user/{userId}/filter/{filterId} (spec: § Filtering, getFilter)
  route(app, {
    method: "GET",
    paths: clientPaths("/user/:userId/filter/:filterId"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertOwnFilters(deps, session.userId, params.userId!);
      return downloadFilter(deps, session.userId, params.filterId!);
    },
  });
}
