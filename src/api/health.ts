/** GET /health — for load balancers and operators: 200 when D1 answers, 503 when it doesn't. */
import type { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { route } from "./route";

export function registerHealthRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: ["/health"],
    auth: "none",
    handler: async ({ c, deps }) => {
      try {
        await deps.env.DB.prepare("SELECT 1").first();
        return { status: "ok" };
      } catch {
        return c.json({ status: "unavailable", errcode: "M_UNKNOWN", error: "database is not answering" }, 503);
      }
    },
  });
}
