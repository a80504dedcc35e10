/** Account management (spec: Client-Server § Account registration and management). */
import type { Hono } from "hono";
import { z } from "zod";
import { changePassword, deactivateAccount } from "../../services/accounts";
import { requireUia } from "../../services/uia";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerAccountRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/account/whoami
  route(app, {
    method: "GET",
    paths: clientPaths("/account/whoami"),
    auth: "user",
    handler: ({ session }) => ({ user_id: session.userId, device_id: session.deviceId, is_guest: session.isGuest }),
  });

  // POST /_matrix/client/v3/account/password (UIA: m.login.password)
  route(app, {
    method: "POST",
    paths: clientPaths("/account/password"),
    auth: "user",
    body: z.looseObject({ auth: z.unknown().optional(), new_password: z.string(), logout_devices: z.boolean().default(true) }),
    handler: async ({ deps, body, session }) => {
      await requireUia(deps, { endpoint: "POST /account/password", flows: [["m.login.password"]], userId: session.userId }, body.auth);
      await changePassword(deps, session.userId, session.deviceId, body.new_password, !body.logout_devices);
      return {};
    },
  });

  // POST /_matrix/client/v3/account/deactivate (UIA: m.login.password)
  route(app, {
    method: "POST",
    paths: clientPaths("/account/deactivate"),
    auth: "user",
    body: z.looseObject({ auth: z.unknown().optional(), id_server: z.string().optional(), erase: z.boolean().optional() }),
    handler: async ({ deps, body, session }) => {
      await requireUia(deps, { endpoint: "POST /account/deactivate", flows: [["m.login.password"]], userId: session.userId }, body.auth);
      await deactivateAccount(deps, session.userId);
      // No identity server bindings are ever made here, so there is nothing to unbind.
      return { id_server_unbind_result: "no-support" };
    },
  });

  // GET /_matrix/client/v3/account/3pid — this server binds no third-party ids, so the list is truthfully empty.
  route(app, {
    method: "GET",
    paths: clientPaths("/account/3pid"),
    auth: "user",
    handler: () => ({ threepids: [] }),
  });
}
