/** Login, refresh and logout (spec: Client-Server § Login, § Refreshing access tokens, § Logout). */
import type { Hono } from "hono";
import { z } from "zod";
import { passwordLogin, startDeviceSession } from "../../services/accounts";
import { enforceRateLimit } from "../../services/rate-limit";
import { refreshSession, sessionsRevoked } from "../../services/sessions";
import { deleteDevicesStatements, listDevices } from "../../storage/d1/devices";
import { devicesDeleted } from "../../services/device-lists";
import type { AppEnv } from "../app-env";
import { MatrixError } from "../errors";
import { clientPaths, route } from "../route";

const identifier = z.looseObject({ type: z.string() });

const loginBody = z.looseObject({
  type: z.string(),
  identifier: identifier.optional(),
  /** Deprecated top-level user field, still sent by older clients. */
  user: z.string().optional(),
  password: z.string().optional(),
  device_id: z.string().min(1).max(255).optional(),
  initial_device_display_name: z.string().max(1000).optional(),
  refresh_token: z.boolean().optional(),
});

export function registerLoginRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/login — the login types that work here.
  route(app, {
    method: "GET",
    paths: clientPaths("/login"),
    auth: "none",
    handler: () => ({ flows: [{ type: "m.login.password" }] }),
  });

  // POST /_matrix/client/v3/login
  route(app, {
    method: "POST",
    paths: clientPaths("/login"),
    auth: "none",
    body: loginBody,
    handler: async ({ deps, body, ip }) => {
      await enforceRateLimit(deps, "login-ip", ip, deps.config.rateLimits.loginPerIp);
      if (body.type !== "m.login.password") throw new MatrixError("M_UNKNOWN", `Unknown login type ${body.type}`);
      const id = body.identifier ?? (body.user !== undefined ? { type: "m.id.user", user: body.user } : undefined);
      if (!id) throw new MatrixError("M_MISSING_PARAM", "Missing identifier");
      if (id.type !== "m.id.user") throw new MatrixError("M_UNKNOWN", `Unsupported identifier type ${id.type}`);
      if (typeof id.user !== "string" || id.user === "") throw new MatrixError("M_BAD_JSON", "identifier.user must be a string");
      if (typeof body.password !== "string") throw new MatrixError("M_MISSING_PARAM", "Missing password");
      const userId = await passwordLogin(deps, id.user, body.password);
      return startDeviceSession(deps, {
        userId,
        deviceId: body.device_id,
        initialDisplayName: body.initial_device_display_name,
        refreshToken: body.refresh_token === true,
        ip,
      });
    },
  });

  // POST /_matrix/client/v3/refresh (v1.3)
  route(app, {
    method: "POST",
    paths: clientPaths("/refresh"),
    auth: "none",
    body: z.looseObject({ refresh_token: z.string().min(1) }),
    handler: ({ deps, body }) => refreshSession(deps, body.refresh_token),
  });

  // POST /_matrix/client/v3/logout — invalidates this device's tokens and deletes the device.
  route(app, {
    method: "POST",
    paths: clientPaths("/logout"),
    auth: "user",
    handler: async ({ deps, session }) => {
      await deps.env.DB.batch(deleteDevicesStatements(deps.env.DB, session.userId, [session.deviceId]));
      await sessionsRevoked(deps, session.userId);
      await devicesDeleted(deps, session.userId, [session.deviceId]);
      return {};
    },
  });

  // POST /_matrix/client/v3/logout/all
  route(app, {
    method: "POST",
    paths: clientPaths("/logout/all"),
    auth: "user",
    handler: async ({ deps, session }) => {
      const db = deps.env.DB;
      const devices = (await listDevices(db, session.userId)).map((d) => d.device_id);
      await db.batch([
        ...deleteDevicesStatements(db, session.userId, devices),
        db.prepare("DELETE FROM access_tokens WHERE user_id = ?").bind(session.userId),
        db.prepare("DELETE FROM refresh_tokens WHERE user_id = ?").bind(session.userId),
      ]);
      await sessionsRevoked(deps, session.userId);
      await devicesDeleted(deps, session.userId, devices);
      return {};
    },
  });
}
