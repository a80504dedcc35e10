/**
 * PUT /_stratus/bench/floor/{object}/{txnId} — the benchmark floor route (bench/, BENCHMARKS.md):
 * authenticate like a client route, then one Durable Object call that signs the body with the
 * server's ed25519 key and inserts it into SQLite. It answers only when BENCH_ROUTES=on (which
 * `npm run bench` passes through scripts/start.mjs); otherwise it is the same 404 M_UNRECOGNIZED
 * as any unknown path, so a deployment never exposes it.
 *
 * Query flags turn single steps off so their cost can be measured by difference:
 * `auth=0` (no access-token lookup), `rpc=0` (no Durable Object call; signs in the Worker),
 * `sign=0`, `insert=0`.
 */
import type { Hono } from "hono";
import type { JsonObject } from "../matrix/canonical-json";
import { signJson } from "../matrix/signing";
import { authenticateRequest } from "../services/sessions";
import { getSigningKey } from "../services/server-keys";
import type { AppEnv } from "./app-env";
import { badJson, unrecognized } from "./errors";
import { readBodyText } from "./route";

export const BENCH_FLOOR_PATH = "/_stratus/bench/floor/:object/:txnId";

export function registerBenchFloorRoutes(app: Hono<AppEnv>): void {
  app.put(BENCH_FLOOR_PATH, async (c) => {
    const deps = c.get("deps");
    if (!deps.config.benchRoutes) throw unrecognized();
    const flag = (name: string) => c.req.query(name) !== "0";
    const session = flag("auth") ? await authenticateRequest(c, deps, false) : undefined;
    let content: unknown;
    try {
      content = JSON.parse((await readBodyText(c.req.raw, deps.config.maxRequestBytes)) || "{}");
    } catch {
      throw badJson("Body must be JSON");
    }
    if (typeof content !== "object" || content === null || Array.isArray(content)) throw badJson("Body must be a JSON object");
    const txnId = c.req.param("txnId");
    if (!flag("rpc")) {
      if (flag("sign")) await signJson({ txn_id: txnId, content: content as JsonObject }, await getSigningKey(deps));
      return c.json({ id: 0, user_id: session?.userId ?? null });
    }
    const stub = deps.env.RATE_LIMITERS.getByName(`bench-floor:${c.req.param("object")}`);
    const result = await stub.benchFloor({ txnId, content: content as JsonObject, sign: flag("sign"), insert: flag("insert") });
    return c.json({ id: result.id, user_id: session?.userId ?? null });
  });
}
