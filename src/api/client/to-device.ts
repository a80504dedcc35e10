/** Send-to-device messaging (spec: Client-Server § Send-to-Device messaging). */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import { sendToDevice } from "../../services/to-device";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

export function registerToDeviceRoutes(app: Hono<AppEnv>): void {
  // PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId}
  route(app, {
    method: "PUT",
    paths: clientPaths("/sendToDevice/:eventType/:txnId"),
    auth: "user",
    body: z.looseObject({ messages: z.record(z.string(), z.record(z.string(), z.looseObject({}))) }),
    handler: async ({ deps, session, params, body }) => {
      await sendToDevice(deps, session, params.eventType!, params.txnId!, body.messages as Record<string, Record<string, JsonObject>>);
      return {};
    },
  });
}
