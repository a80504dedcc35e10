/**
 * Builds the Hono app: request id and logging, CORS, per-request dependencies, the error handler
 * and every API module (DESIGN §2).
 */
import { Hono } from "hono";
import { registerAccountRoutes } from "./api/client/account";
import { registerAccountDataRoutes } from "./api/client/account-data";
import { registerDeviceRoutes } from "./api/client/devices";
import { registerDehydratedDeviceRoutes } from "./api/client/dehydrated-device";
import { registerE2eeKeyRoutes } from "./api/client/e2ee-keys";
import { registerKeyBackupRoutes } from "./api/client/key-backup";
import { registerFilterRoutes } from "./api/client/filters";
import { registerLoginRoutes } from "./api/client/login";
import { registerPresenceRoutes } from "./api/client/presence";
import { registerProfileRoutes } from "./api/client/profile";
import { registerPushRuleRoutes } from "./api/client/push-rules";
import { registerNotificationRoutes } from "./api/client/notifications";
import { registerPusherRoutes } from "./api/client/pushers";
import { registerReadMarkerRoutes } from "./api/client/read-markers";
import { registerRoomRoutes } from "./api/client/rooms";
import { registerSyncRoutes } from "./api/client/sync";
import { registerSlidingSyncRoutes } from "./api/client/sliding-sync";
import { registerRegistrationRoutes } from "./api/client/register";
import { registerTagRoutes } from "./api/client/tags";
import { registerToDeviceRoutes } from "./api/client/to-device";
import { registerDiscoveryRoutes } from "./api/client/versions";
import { registerSharedSecretRoutes } from "./api/admin/shared-secret-register";
import type { AppEnv } from "./api/app-env";
import { MatrixError, unrecognized } from "./api/errors";
import { registerBenchFloorRoutes } from "./api/bench-floor";
import { registerHealthRoutes } from "./api/health";
import { registerServerKeyRoutes } from "./api/keys/server-keys";
import { registerMediaConfigRoutes } from "./api/media/config";
import { registerMediaDownloadRoutes } from "./api/media/download";
import { registerMediaQuarantineRoutes } from "./api/media/quarantine";
import { registerMediaUploadRoutes } from "./api/media/upload";
import { registerThumbnailRoutes } from "./api/media/thumbnail";
import { registerUrlPreviewRoutes } from "./api/media/preview-url";
import { knownPaths } from "./api/route";
import { getConfig, logs } from "./config";
import { makeDeps } from "./services/deps";
import { randomToken } from "./services/random";

/** Spec: Client-Server § Web Browser Clients — every response carries these. */
const CORS_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
  "Access-Control-Allow-Headers": "X-Requested-With, Content-Type, Authorization",
};

export function buildApp(): Hono<AppEnv> {
  // strict: false — clients send `/state/m.room.topic/` for empty state keys (shared/CLIENTS.md).
  const app = new Hono<AppEnv>({ strict: false });

  app.use("*", async (c, next) => {
    const started = Date.now();
    const requestId = c.req.header("cf-ray") ?? randomToken(9);
    c.set("requestId", requestId);
    const config = getConfig(c.env);
    c.set("deps", makeDeps(c.env, config));
    if (c.req.method === "OPTIONS") {
      c.res = new Response(null, { status: 204 });
    } else {
      await next();
    }
    for (const [k, v] of Object.entries(CORS_HEADERS)) c.res.headers.set(k, v);
    if (logs(config, "info")) {
      console.log(
        JSON.stringify({
          request_id: requestId,
          method: c.req.method,
          route: c.req.routePath === "*" ? "unmatched" : c.req.routePath,
          status: c.res.status,
          ms: Date.now() - started,
        }),
      );
    }
  });

  registerHealthRoutes(app);
  registerDiscoveryRoutes(app);
  registerLoginRoutes(app);
  registerRegistrationRoutes(app);
  registerAccountRoutes(app);
  registerDeviceRoutes(app);
  registerProfileRoutes(app);
  registerRoomRoutes(app);
  registerAccountDataRoutes(app);
  registerTagRoutes(app);
  registerReadMarkerRoutes(app);
  registerFilterRoutes(app);
  registerPushRuleRoutes(app);
  registerPusherRoutes(app);
  registerNotificationRoutes(app);
  registerSyncRoutes(app);
  registerSlidingSyncRoutes(app);
  registerToDeviceRoutes(app);
  registerE2eeKeyRoutes(app);
  registerKeyBackupRoutes(app);
  registerDehydratedDeviceRoutes(app);
  registerPresenceRoutes(app);
  registerServerKeyRoutes(app);
  registerMediaConfigRoutes(app);
  registerMediaUploadRoutes(app);
  registerMediaDownloadRoutes(app);
  registerMediaQuarantineRoutes(app);
  registerThumbnailRoutes(app);
  registerUrlPreviewRoutes(app);
  registerSharedSecretRoutes(app);
  registerBenchFloorRoutes(app);

  // A path that exists under another method answers 405; anything else 404 (spec: § API standards).
  const pathProbe = new Hono({ strict: false });
  for (const { path } of knownPaths) pathProbe.all(path, (c) => c.body(null, 200));
  app.notFound(async (c) => {
    const probe = await pathProbe.request(new URL(c.req.url).pathname);
    if (probe.status === 200) return c.json(unrecognized("Unrecognized request: method not allowed").toJSON(), 405);
    return c.json(unrecognized().toJSON(), 404);
  });

  app.onError((err, c) => {
    // An error thrown by the middleware above (e.g. bad configuration) skips its CORS step.
    for (const [k, v] of Object.entries(CORS_HEADERS)) c.header(k, v);
    if (err instanceof MatrixError) {
      return c.json(err.toJSON(), err.status);
    }
    // Anything else is our fault: log it with the request id, tell the client nothing internal.
    const deps = c.get("deps") as ReturnType<typeof makeDeps> | undefined;
    if (!deps || logs(deps.config, "error")) console.error(JSON.stringify({ request_id: c.get("requestId"), error: String(err), stack: err instanceof Error ? err.stack : undefined }));
    return c.json({ errcode: "M_UNKNOWN", error: "Internal server error" }, 500);
  });

  return app;
}
