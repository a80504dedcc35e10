/**
 * Quarantine, in the shape of Synapse's admin API (`/_synapse/admin/v1/media/quarantine/…`), so
 * synadm and synapse-admin work: a quarantined item is served by no endpoint (404 M_NOT_FOUND).
 * Server admins only.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { route } from "../route";
import { setMediaQuarantine } from "../../services/media";

export function registerMediaQuarantineRoutes(app: Hono<AppEnv>): void {
  // POST /_synapse/admin/v1/media/quarantine/{serverName}/{mediaId} — Synapse admin API.
  route(app, {
    method: "POST",
    paths: ["/_synapse/admin/v1/media/quarantine/:serverName/:mediaId"],
    auth: "admin",
    handler: async ({ deps, session, params }) => {
      await setMediaQuarantine(deps, params.serverName!, params.mediaId!, session.userId);
      return {};
    },
  });

  // POST /_synapse/admin/v1/media/unquarantine/{serverName}/{mediaId} — Synapse admin API.
  route(app, {
    method: "POST",
    paths: ["/_synapse/admin/v1/media/unquarantine/:serverName/:mediaId"],
    auth: "admin",
    handler: async ({ deps, params }) => {
      await setMediaQuarantine(deps, params.serverName!, params.mediaId!, null);
      return {};
    },
  });
}
