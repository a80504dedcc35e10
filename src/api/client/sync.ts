/** GET /_matrix/client/v3/sync — spec: Client-Server § Syncing. */
import type { Hono } from "hono";
import { z } from "zod";
import { sync } from "../../services/sync";
import type { SyncFilter } from "../../objects/user/sync-engine";
import type { AppEnv } from "../app-env";
import { invalidParam } from "../errors";
import { clientPaths, route } from "../route";
import { parseRoomEventFilterParam } from "./rooms/filter-param";

/** Until stored filters land, the inline form of the filter's room section. */
function parseFilter(raw: string | undefined): SyncFilter {
  if (raw === undefined || raw === "") return {};
  if (!raw.trim().startsWith("{")) throw invalidParam("Stored filters are not supported yet; send the filter inline");
  let json: { room?: { timeline?: unknown; state?: unknown; rooms?: unknown; not_rooms?: unknown; include_leave?: unknown } };
  try {
    json = JSON.parse(raw);
  } catch {
    throw invalidParam("filter is not valid JSON");
  }
  const room = json.room ?? {};
  return {
    timeline: parseRoomEventFilterParam(room.timeline ? JSON.stringify(room.timeline) : undefined),
    state: parseRoomEventFilterParam(room.state ? JSON.stringify(room.state) : undefined),
    rooms: parseRoomEventFilterParam(JSON.stringify({ rooms: room.rooms, not_rooms: room.not_rooms })),
    includeLeave: room.include_leave === true,
  };
}

export function registerSyncRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: clientPaths("/sync"),
    auth: "user",
    query: z.object({
      since: z.string().optional(),
      timeout: z.coerce.number().int().min(0).default(0),
      full_state: z.enum(["true", "false"]).default("false"),
      set_presence: z.enum(["online", "offline", "unavailable"]).optional(),
      filter: z.string().optional(),
    }),
    handler: ({ deps, session, query }) =>
      sync(deps, {
        userId: session.userId,
        deviceId: session.deviceId,
        since: query.since,
        timeoutMs: query.timeout,
        fullState: query.full_state === "true",
        filter: parseFilter(query.filter),
      }),
  });
}
