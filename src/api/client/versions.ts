/** Discovery: /versions, .well-known and /capabilities. */
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/**
 * Spec versions whose client-facing behaviour this server implements. matrix-js-sdk needs one of
 * v1.1–v1.13 to be present (shared/CLIENTS.md). v1.11 makes clients use authenticated media
 * (/_matrix/client/v1/media); what v1.7–v1.11 added is built (async uploads, room version 11,
 * relation recursion, room type filters, authenticated media, cross-signing setup without UIA).
 * Unstable features are listed only once they work.
 */
export const SUPPORTED_VERSIONS = ["r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11"];
export const UNSTABLE_FEATURES: Record<string, boolean> = {
  // Simplified sliding sync (MSC4186, docs/design/sliding-sync.md): matrix-rust-sdk and Element X need it.
  "org.matrix.simplified_msc3575": true,
};

export function registerDiscoveryRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/versions — spec: Client-Server § API standards (optional auth).
  route(app, {
    method: "GET",
    paths: ["/_matrix/client/versions"],
    auth: "none",
    handler: () => ({ versions: SUPPORTED_VERSIONS, unstable_features: UNSTABLE_FEATURES }),
  });

  // GET /.well-known/matrix/client — spec: Client-Server § Server discovery.
  route(app, {
    method: "GET",
    paths: ["/.well-known/matrix/client"],
    auth: "none",
    handler: ({ deps }) => ({ "m.homeserver": { base_url: deps.config.publicBaseUrl } }),
  });

  // GET /.well-known/matrix/server — spec: Server-Server § Server discovery.
  route(app, {
    method: "GET",
    paths: ["/.well-known/matrix/server"],
    auth: "none",
    handler: ({ deps }) => ({ "m.server": deps.config.serverName.includes(":") ? deps.config.serverName : `${deps.config.serverName}:443` }),
  });

  // GET /_matrix/client/v3/capabilities — spec: Client-Server § Capabilities negotiation.
  route(app, {
    method: "GET",
    paths: clientPaths("/capabilities"),
    auth: "user",
    handler: ({ deps }) => ({
      capabilities: {
        "m.change_password": { enabled: true },
        // Only the versions this server creates rooms in; the rest need federation to be joined.
        "m.room_versions": { default: deps.config.defaultRoomVersion, available: { "10": "stable", "11": "stable", "12": "stable" } },
        "m.set_displayname": { enabled: true },
        "m.set_avatar_url": { enabled: true },
        "m.3pid_changes": { enabled: false },
        "m.get_login_token": { enabled: false },
        "m.profile_fields": { enabled: true, allowed: ["displayname", "avatar_url"] },
      },
    }),
  });
}
