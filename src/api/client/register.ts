/** Registration (spec: Client-Server § Account registration and management). */
import type { Hono } from "hono";
import { z } from "zod";
import { createAccount, isUsernameAvailable, precheckRegistration, startDeviceSession } from "../../services/accounts";
import { enforceRateLimit } from "../../services/rate-limit";
import { checkRegistrationToken } from "../../services/registration-tokens";
import { requireUia, type UiaStage } from "../../services/uia";
import type { AppEnv } from "../app-env";
import { MatrixError } from "../errors";
import { clientPaths, clientV1Paths, route } from "../route";

const registerBody = z.looseObject({
  auth: z.unknown().optional(),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  device_id: z.string().min(1).max(255).optional(),
  initial_device_display_name: z.string().max(1000).optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
});

export function registerRegistrationRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/client/v3/register
  route(app, {
    method: "POST",
    paths: clientPaths("/register"),
    auth: "none",
    body: registerBody,
    query: z.object({ kind: z.enum(["user", "guest"]).default("user") }),
    handler: async ({ deps, body, query, ip }) => {
      const mode = deps.config.registrationMode;
      if (query.kind === "guest") throw new MatrixError("M_FORBIDDEN", "Guest access is disabled");
      if (mode === "closed") throw new MatrixError("M_FORBIDDEN", "Registration has been disabled");
      await precheckRegistration(deps, body.username);
      const stage: UiaStage = mode === "token" ? "m.login.registration_token" : "m.login.dummy";
      // Count only requests that try to finish a stage, so the first probe of an open server isn't charged twice.
      if (body.auth !== undefined) {
        await enforceRateLimit(deps, "register-ip", ip, deps.config.rateLimits.registerPerIp);
        // Refuse a request that could never succeed before it spends the UIA session.
        if (body.password === undefined) throw new MatrixError("M_MISSING_PARAM", "Missing password");
      }
      const uia = await requireUia(deps, { endpoint: "POST /register", flows: [[stage]] }, body.auth);
      if (body.password === undefined) throw new MatrixError("M_MISSING_PARAM", "Missing password");
      const userId = await createAccount(deps, {
        username: body.username,
        password: body.password,
        registrationToken: uia.data.registration_token,
      });
      if (body.inhibit_login) return { user_id: userId, home_server: deps.config.serverName };
      const login = await startDeviceSession(deps, {
        userId,
        deviceId: body.device_id,
        initialDisplayName: body.initial_device_display_name,
        refreshToken: body.refresh_token === true,
        ip,
      });
      return login;
    },
  });

  // GET /_matrix/client/v3/register/available
  route(app, {
    method: "GET",
    paths: clientPaths("/register/available"),
    auth: "none",
    query: z.object({ username: z.string().min(1) }),
    handler: async ({ deps, query, ip }) => {
      await enforceRateLimit(deps, "register-ip", ip, deps.config.rateLimits.registerPerIp);
      return { available: await isUsernameAvailable(deps, query.username) };
    },
  });

  // GET /_matrix/client/v1/register/m.login.registration_token/validity (v1.2)
  route(app, {
    method: "GET",
    paths: clientV1Paths("/register/m.login.registration_token/validity"),
    auth: "none",
    query: z.object({ token: z.string().min(1) }),
    handler: async ({ deps, query, ip }) => {
      if (deps.config.registrationMode !== "token") throw new MatrixError("M_FORBIDDEN", "Token registration is not enabled");
      await enforceRateLimit(deps, "register-ip", ip, deps.config.rateLimits.registerPerIp);
      return { valid: await checkRegistrationToken(deps, query.token) };
    },
  });
}
