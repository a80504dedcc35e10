#!/usr/bin/env node
/**
 * What per-request logging and tracing cost, part by part: four servers started at once, from the
 * default of `npm start` down to the quietest, measured in interleaved rounds (lib/interleave.mjs).
 *
 *   node bench/log-cost.mjs [--rounds N] [--seconds S]
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { interleave, prepare, table } from "./lib/interleave.mjs";
import { removeTree, snapshotTree, startServer } from "./lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const rounds = Number(arg("rounds", "6"));
const seconds = Number(arg("seconds", "1"));

// Wrangler traces locally unless X_LOCAL_OBSERVABILITY=false; scripts/start.mjs now sets that by
// default, so the first three rows turn tracing back on to show what each layer costs.
const TRACING = { X_LOCAL_OBSERVABILITY: "true" };
const CONFIGS = [
  ["1 wrangler defaults (LOG_LEVEL=info, wrangler request log, local traces)", "info", TRACING],
  ["2 LOG_LEVEL=off", "warn", { LOG_LEVEL: "off", ...TRACING }],
  ["3 + WRANGLER_LOG=warn", "warn", { LOG_LEVEL: "off", WRANGLER_LOG: "warn", ...TRACING }],
  ["4 + X_LOCAL_OBSERVABILITY=false (quietest = bench level off)", "off", {}],
  ["5 npm start default now (LOG_LEVEL=info, wrangler request log, no traces)", "info", {}],
];

const tree = snapshotTree(resolve(here, ".."));
const configs = [];
try {
  for (const [name, level, extraEnv] of CONFIGS) {
    const server = await startServer({ treeDir: tree, logLevel: level, extraEnv });
    configs.push({ name, server, prepared: await prepare(server, `lc${configs.length}`) });
  }
  const results = await interleave(configs, ["GET /versions, 1 client", "send, 1 sender, 1 room"], rounds, seconds);
  console.log(`Logging and tracing cost, ${rounds} interleaved rounds of ${seconds} s, medians\n\n${table(results)}`);
} finally {
  for (const c of configs) await c.server.stop();
  removeTree(tree);
}
