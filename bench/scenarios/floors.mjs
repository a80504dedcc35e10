/**
 * Platform floors, measured in the same run as everything else so every figure can be given as a
 * ratio to them:
 *  - GET /_matrix/client/versions: unauthenticated, no storage; what the platform (HTTP, dev proxy,
 *    Hono, logging middleware) costs by itself.
 *  - GET /_matrix/client/v3/account/whoami: authenticated, does nothing else; adds the access-token
 *    lookup in D1.
 *  - PUT /_stratus/bench/floor (BENCH_ROUTES=on only): authenticated, then one Durable Object call
 *    that signs the body with ed25519 and inserts it into SQLite; the least a "store a signed
 *    event" request can cost, which the send path is compared with.
 */
import { enc } from "../lib/http.mjs";
import { openLoop, saturate } from "../lib/load.mjs";
import { MARK } from "../lib/verify.mjs";

function floorPhases(ctx, id, title, op, clients10) {
  return async () => {
    const rows = [];
    const one = [ctx.users[0]];
    rows.push(ctx.row(id, title, await openLoop({ server: ctx.server, clients: one, rate: 400, count: ctx.count(400, 2), op })));
    rows.push(ctx.row(id, title, await openLoop({ server: ctx.server, clients: clients10, rate: 700, count: ctx.count(700, 2), op })));
    rows.push(ctx.row(id, title, await saturate({ server: ctx.server, clients: one, durationMs: ctx.ms(2), op })));
    rows.push(ctx.row(id, title, await saturate({ server: ctx.server, clients: clients10, durationMs: ctx.ms(2), op })));
    return rows;
  };
}

export function floorContent(ctx, seq) {
  return { msgtype: "m.text", body: `bench floor ${seq}`, [MARK]: { run: ctx.runId, sender: "floor", seq } };
}

export default [
  {
    id: "floor/versions",
    title: "floor: GET /versions (no auth)",
    levels: ["info", "off"],
    run: (ctx) => floorPhases(ctx, "floor/versions", "floor: GET /versions (no auth)", (c) => c.request("GET", "/_matrix/client/versions", undefined, null).then((r) => ({ ok: r.status === 200 })), ctx.users)(),
  },
  {
    id: "floor/whoami",
    title: "floor: GET /account/whoami (auth only)",
    levels: ["info", "off"],
    run: (ctx) => floorPhases(ctx, "floor/whoami", "floor: GET /account/whoami (auth only)", (c) => c.request("GET", "/_matrix/client/v3/account/whoami").then((r) => ({ ok: r.status === 200 })), ctx.users)(),
  },
  {
    id: "floor/do-sign",
    title: "floor: auth + 1 DO call (ed25519 sign + SQLite insert)",
    levels: ["info", "off"],
    run: async (ctx) => {
      const id = "floor/do-sign";
      const title = "floor: auth + DO sign + insert (1 object)";
      let seq = 0;
      const op = (object) => (c) =>
        c.request("PUT", `/_stratus/bench/floor/${enc(object(c))}/${ctx.runId}-${seq}`, floorContent(ctx, seq++)).then((r) => ({ ok: r.status === 200 }));
      const probe = await ctx.users[0].request("PUT", `/_stratus/bench/floor/probe/${ctx.runId}-probe`, floorContent(ctx, -1));
      if (probe.status !== 200) throw new Error(`the floor route answered ${probe.status}: is BENCH_ROUTES=on reaching the Worker?`);
      const rows = await floorPhases(ctx, id, title, op(() => "one"), ctx.users)();
      rows.push(
        ctx.row("floor/do-sign-spread", "floor: auth + DO sign + insert (10 objects)", await saturate({ server: ctx.server, clients: ctx.users, durationMs: ctx.ms(2), op: op((c) => `spread-${c.userId}`) })),
      );
      return rows;
    },
  },
];
