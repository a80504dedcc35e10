/**
 * Where a request's time goes, by difference: the floor route with single steps turned off
 * (src/api/bench-floor.ts). Each variant saturates one client, so its mean service time is the
 * cost of one request; the difference to the full floor is the cost of the missing step. Variants
 * run interleaved in several short rounds and each keeps its median round, so a burst of other
 * load on the machine spoils one round rather than one variant.
 */
import { enc } from "../lib/http.mjs";
import { saturate } from "../lib/load.mjs";
import { floorContent } from "./floors.mjs";

const ROUNDS = 4;

const VARIANTS = [
  ["full", ""],
  ["no-sign", "sign=0"],
  ["no-insert", "insert=0"],
  ["no-auth", "auth=0"],
  ["no-do-call", "rpc=0"],
  ["bare", "auth=0&rpc=0&sign=0"],
];

export default [
  {
    id: "profile/floor-steps",
    title: "floor route with steps turned off",
    levels: ["off"],
    run: async (ctx) => {
      let seq = 0;
      const rounds = new Map(VARIANTS.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [name, query] of VARIANTS) {
          const op = (c) =>
            c
              .request("PUT", `/_stratus/bench/floor/profile/${ctx.runId}-p${seq}${query ? `?${query}` : ""}`, floorContent(ctx, seq++), query.includes("auth=0") ? null : undefined)
              .then((r) => ({ ok: r.status === 200 }));
          rounds.get(name).push(await saturate({ server: ctx.server, clients: [ctx.users[0]], durationMs: ctx.ms(0.5), op }));
        }
      }
      return VARIANTS.map(([name, query]) => {
        const byMean = [...rounds.get(name)].sort((a, b) => a.service.mean - b.service.mean);
        const median = byMean[Math.floor(byMean.length / 2)];
        return ctx.row(`profile/${name}`, `floor step profile: ${name}${query ? ` (${query})` : ""}`, { ...median, rounds: byMean.length });
      });
    },
  },
];
