/**
 * Room aliases and the published room directory (spec: Client-Server § Room aliases,
 * § Published room directory).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { createAlias, localAliases, removeAlias, resolveAlias } from "../../../services/aliases";
import { directoryVisibility, publicRooms, setDirectoryVisibility } from "../../../services/public-rooms";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

const nonNegativeInt = z
  .string()
  .regex(/^\d{1,9}$/, "must be a non-negative integer")
  .transform(Number);

export function registerDirectoryRoutes(app: Hono<AppEnv>): void {
  // PUT /directory/room/{roomAlias}
  route(app, {
    method: "PUT",
    paths: clientPaths("/directory/room/:roomAlias"),
    auth: "user",
    body: z.looseObject({ room_id: z.string().min(1) }),
    handler: async ({ deps, params, session, body }) => {
      await createAlias(deps, session.userId, params.roomAlias!, body.room_id);
      return {};
    },
  });

  // GET /directory/room/{roomAlias} — no authentication (spec).
  route(app, {
    method: "GET",
    paths: clientPaths("/directory/room/:roomAlias"),
    auth: "none",
    handler: async ({ deps, params }) => resolveAlias(deps, params.roomAlias!),
  });

  // DELETE /directory/room/{roomAlias}
  route(app, {
    method: "DELETE",
    paths: clientPaths("/directory/room/:roomAlias"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      await removeAlias(deps, session, params.roomAlias!);
      return {};
    },
  });

  // GET /rooms/{roomId}/aliases
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/aliases"),
    auth: "user",
    handler: async ({ deps, params, session }) => ({ aliases: await localAliases(deps, session, params.roomId!) }),
  });

  // GET /directory/list/room/{roomId} — no authentication (spec).
  route(app, {
    method: "GET",
    paths: clientPaths("/directory/list/room/:roomId"),
    auth: "none",
    handler: async ({ deps, params }) => ({ visibility: await directoryVisibility(deps, params.roomId!) }),
  });

  // PUT /directory/list/room/{roomId}
  route(app, {
    method: "PUT",
    paths: clientPaths("/directory/list/room/:roomId"),
    auth: "user",
    body: z.looseObject({ visibility: z.enum(["public", "private"]).default("public") }),
    handler: async ({ deps, params, session, body }) => {
      await setDirectoryVisibility(deps, session, params.roomId!, body.visibility);
      return {};
    },
  });

  // GET /publicRooms — authentication optional (spec: no security requirement).
  route(app, {
    method: "GET",
    paths: clientPaths("/publicRooms"),
    auth: "optional",
    query: z.object({ limit: nonNegativeInt.optional(), since: z.string().optional(), server: z.string().optional() }),
    handler: async ({ deps, query }) => publicRooms(deps, { limit: query.limit, since: query.since, server: query.server }),
  });

  // POST /publicRooms
  route(app, {
    method: "POST",
    paths: clientPaths("/publicRooms"),
    auth: "user",
    query: z.object({ server: z.string().optional() }),
    body: z.looseObject({
      limit: z.number().int().min(0).optional(),
      since: z.string().optional(),
      filter: z
        .looseObject({
          generic_search_term: z.string().max(1024).optional(),
          room_types: z.array(z.string().nullable()).max(100).optional(),
        })
        .nullable()
        .optional(),
      include_all_networks: z.boolean().optional(),
      third_party_instance_id: z.string().optional(),
    }),
    handler: async ({ deps, query, body }) =>
      publicRooms(deps, {
        limit: body.limit,
        since: body.since,
        server: query.server,
        filter: body.filter ? { searchTerm: body.filter.generic_search_term || undefined, roomTypes: body.filter.room_types } : undefined,
        includeAllNetworks: body.include_all_networks,
        thirdPartyInstanceId: body.third_party_instance_id,
      }),
  });
}
