#!/usr/bin/env node
/**
 * A/B comparison of two versions of the server, for before/after figures of a change. Both run at
 * once at the quietest level (off) and their rounds are interleaved (lib/interleave.mjs).
 *
 *   node bench/ab.mjs --base-files REF:path[,path…]   A = working tree with these files as in REF
 *   node bench/ab.mjs --base-ref REF                  A = REF's whole tree (git archive)
 *   options: --rounds N (default 8), --seconds S per round (default 1.5),
 *            --cases "send, 1 sender, 1 room;send, 10 senders, a room each" (names from lib/interleave.mjs)
 *
 * B is always the working tree. Output: a table and bench/results/ab-latest.json; exits non-zero
 * on any failed request or 5xx.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { statusCounts } from "./lib/http.mjs";
import { interleave, prepare, table } from "./lib/interleave.mjs";
import { removeTree, snapshotTree, startServer } from "./lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const rounds = Number(arg("rounds", "8"));
const seconds = Number(arg("seconds", "1.5"));
const cases = arg("cases", "send, 1 sender, 1 room;send, 10 senders, a room each").split(";");

function baseTree() {
  const files = arg("base-files");
  const ref = arg("base-ref");
  if (files) {
    const fromRef = files.slice(0, files.indexOf(":"));
    const list = files.slice(files.indexOf(":") + 1);
    const dir = snapshotTree(repoRoot);
    for (const path of list.split(",")) writeFileSync(join(dir, path), execFileSync("git", ["show", `${fromRef}:${path}`], { cwd: repoRoot }));
    return { dir, label: `A: working tree with ${list} from ${fromRef}` };
  }
  if (ref) {
    const dir = mkdtempSync(join(tmpdir(), "stratus-bench-base-"));
    const tar = execFileSync("git", ["archive", ref, "src", "scripts", "migrations", "wrangler.jsonc", "package.json", "tsconfig.json"], { cwd: repoRoot, maxBuffer: 1 << 28 });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    symlinkSync(resolve(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
    return { dir, label: `A: ${ref}` };
  }
  throw new Error("give --base-files REF:path[,path] or --base-ref REF");
}

const trees = [baseTree(), { dir: snapshotTree(repoRoot), label: "B: working tree" }];
const configs = [];
try {
  for (const t of trees) {
    const server = await startServer({ treeDir: t.dir, logLevel: "off" });
    configs.push({ name: t.label, server, prepared: await prepare(server, t.label.startsWith("A") ? "aba" : "abb") });
  }
  const results = await interleave(configs, cases, rounds, seconds);
  const f = (x) => x.toFixed(2);
  const deltas = cases.map((c) => {
    const [a, b] = configs.map((cfg) => results.find((r) => r.case === c && r.config === cfg.name));
    return `${c}: B/A throughput ${f(b.throughput / a.throughput)}×, Worker CPU per request ${f(b.workerCpuMsPerOp - a.workerCpuMsPerOp)} ms (${f(b.workerCpuMsPerOp / a.workerCpuMsPerOp)}×), mean latency ${f(b.meanMs - a.meanMs)} ms`;
  });
  console.log(`A/B, ${rounds} interleaved rounds of ${seconds} s, medians, LOG_LEVEL=off (quietest)\n\n${table(results)}\n\n${deltas.join("\n")}`);
  mkdirSync(join(here, "results"), { recursive: true });
  writeFileSync(join(here, "results", "ab-latest.json"), JSON.stringify({ at: new Date().toISOString(), rounds, seconds, results, deltas, statusCounts: Object.fromEntries(statusCounts) }, null, 2));
  if ([...statusCounts].some(([s]) => s >= 500) || results.some((r) => r.failed)) process.exitCode = 1;
} finally {
  for (const c of configs) await c.server.stop();
  for (const t of trees) removeTree(t.dir);
}
