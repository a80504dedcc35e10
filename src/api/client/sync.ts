/** GET /_matrix/client/v3/sync — spec: Client-Server § Syncing. */
import type { Hono } from "hono";
import { z } from "zod";
import { sync } from "../../services/sync";
import type { SyncFilter } from "../../objects/user/sync-engine";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";
import { resolveFilter } from "../../services/filters";
import type { Filter } from "../../matrix/filters";

/** The parts of a client's Filter that the user object applies (spec: § Filtering). */
function toSyncFilter(filter: Filter): SyncFilter {
  const room = filter.room ?? {};
  return { timeline: room.timeline, state: room.state, rooms: { rooms: room.rooms, notRooms: room.notRooms }, includeLeave: room.includeLeave === true };
}

export function registerSyncRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: clientPaths("/sync"),
    auth: "user-object",
    query: z.object({
      since: z.string().optional(),
      timeout: z.coerce.number().int().min(0).default(0),
      full_state: z.enum(["true", "false"]).default("false"),
      set_presence: z.enum(["online", "offline", "unavailable"]).optional(),
      filter: z.string().optional(),
    }),
    handler: async ({ deps, session: auth, query }) => {
      const filter = await resolveFilter(deps, auth.userId, query.filter);
      return sync(deps, {
        auth,
        since: query.since,
        timeoutMs: query.timeout,
        fullState: query.full_state === "true",
        filter: toSyncFilter(filter),
        clientFilter: filter,
        setPresence: query.set_presence,
      });
    },
  });
}
