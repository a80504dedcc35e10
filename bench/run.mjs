#!/usr/bin/env node
/**
 * `npm run bench`: starts its own homeserver (scripts/start.mjs, fresh state, free port on
 * 127.0.0.1, RATE_LIMITS=off, BENCH_ROUTES=on) once per log level, runs every scenario module in
 * bench/scenarios/, checks the correctness gates, writes bench/results/latest.json and .md and
 * prints the tables. Exits non-zero when a gate fails. See BENCHMARKS.md.
 *
 * Environment:
 *   BENCH_LEVELS  log levels to run, in order (default "info,off"); each scenario also lists the
 *                 levels it runs at
 *   BENCH_SCALE   multiplies every phase's duration (default 1; 0.2 for a quick smoke run)
 *   BENCH_ONLY    comma-separated scenario id prefixes to run (e.g. "floor/,send/1-sender")
 *   BENCH_OUT     results file (default bench/results/latest.json; a .md with the tables beside it)
 *   BENCH_QUIET_PCT, BENCH_QUIET_WAIT  before each phase, wait until processes outside the benchmark
 *                 use less than this share of the machine (default 25 %), spending at most this many
 *                 seconds per run on waiting (default 30)
 *
 * A/B comparisons of two server versions (before/after figures for a change): bench/ab.mjs.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serverErrors, statusCounts } from "./lib/http.mjs";
import { newUser } from "./lib/matrix.mjs";
import { addRatios, checkTargets, cpuTable, deliveryTable, profileTable, resultsTable, syncTable, targetsTable } from "./lib/report.mjs";
import { memory, removeTree, serverProcesses, snapshotTree, startServer } from "./lib/server.mjs";
import { verifyRooms } from "./lib/verify.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..");
const levels = (process.env.BENCH_LEVELS ?? "info,off").split(",").map((s) => s.trim()).filter(Boolean);
const scale = Number(process.env.BENCH_SCALE ?? "1");
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(",").map((s) => s.trim()) : undefined;
const outFile = resolve(process.env.BENCH_OUT ?? join(here, "results", "latest.json"));
const MODULE_ORDER = ["floors", "send", "kdf", "profile", "sync", "delivery", "initial-sync"];
const SENDERS = 10;

const log = (msg) => process.stderr.write(`[bench +${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const started = performance.now();

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown";
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {}
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? totalmem() / 1024);
  const loadavg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return { nproc, cpuModel: model, memoryGiB: +(memKb / 1024 / 1024).toFixed(1), kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(), node: process.version, loadavgAtStart: loadavg };
}

function git() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "scripts", "migrations", "wrangler.jsonc"], { cwd: repoRoot, encoding: "utf8" }).trim();
    return { head, dirtyFiles: dirty ? dirty.split("\n").length : 0 };
  } catch {
    return { head: "unknown", dirtyFiles: 0 };
  }
}

async function loadScenarios() {
  const files = readdirSync(join(here, "scenarios")).filter((f) => f.endsWith(".mjs"));
  const rank = (f) => {
    const i = MODULE_ORDER.indexOf(f.replace(/\.mjs$/, ""));
    return i === -1 ? MODULE_ORDER.length : i;
  };
  files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const all = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(here, "scenarios", f)).href);
    for (const s of mod.default ?? []) all.push({ ...s, module: f });
  }
  return all.filter((s) => !only || only.some((p) => s.id.startsWith(p)));
}

async function main() {
  const scenarios = await loadScenarios();
  const runId = `r${Date.now().toString(36)}`;
  const rows = [];
  const gates = [];
  const memoryByLevel = [];
  const pending = scenarios.filter((s) => s.pending).map((s) => ({ id: s.id, title: s.title, reason: s.pending }));
  const gate = (name, passed, detail) => {
    if (!passed || !gates.some((g) => g.name === name && g.passed)) gates.push({ name, passed, detail: passed ? undefined : detail });
  };
  const info = { machine: machine(), git: git(), runId, levels, scale, startedAt: new Date().toISOString() };
  log(`machine: ${info.machine.nproc} cores (${info.machine.cpuModel}), ${info.machine.memoryGiB} GiB, load ${info.machine.loadavgAtStart}; git ${info.git.head}${info.git.dirtyFiles ? ` + ${info.git.dirtyFiles} uncommitted files` : ""}`);

  const treeDir = snapshotTree(repoRoot);
  try {
    for (const level of levels) {
      const todo = scenarios.filter((s) => !s.pending && s.levels.includes(level));
      if (!todo.length) continue;
      log(`starting server (LOG_LEVEL=${level})`);
      let server = await startServer({ treeDir, logLevel: level });
      let boots = 0;
      const registerUsers = async () => {
        log(`server ${server.baseUrl} (pid ${server.pid}); registering ${SENDERS} users`);
        const list = [];
        for (let i = 0; i < SENDERS; i++) list.push(await newUser(server.baseUrl, `bench-${runId}-${level}-${boots}-${i}`));
        return list;
      };
      try {
        const users = await registerUsers();
        const rooms = [];
        const ctx = {
          server,
          users,
          runId: `${runId}-${level}`,
          level,
          gate,
          count: (rate, seconds, min = 10) => Math.max(min, Math.round(rate * seconds * scale)),
          ms: (seconds) => Math.max(200, seconds * 1000 * scale),
          trackRoom: (roomId, reader) => {
            const r = { roomId, reader, sent: [] };
            rooms.push(r);
            return r;
          },
          row: (id, title, result) => {
            const ops = Math.max(1, result.ok + result.failed);
            const perOp = {
              workerMs: result.cpu.workerMs / ops,
              proxyMs: result.cpu.proxyMs / ops,
              nodeMs: result.cpu.nodeMs / ops,
              clientMs: result.cpu.clientMs / ops,
            };
            const row = { id, title, level, ...result, perOp };
            if (result.cpu.restarted) gate("server-not-restarted", false, `${id}: the Worker process restarted during the phase`);
            if (result.failed) gate(`no-failed-requests`, false, `${id} (${result.model}, ${result.clients} clients): ${result.failed} of ${ops} requests failed`);
            const l = result.model === "open" ? result.latency : result.service;
            log(`${id} [${level}] ${result.model} ×${result.clients}${result.offered ? ` @${result.offered}/s` : ""}: ${result.achieved.toFixed(0)}/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, Worker ${perOp.workerMs.toFixed(2)} ms CPU/op, other load ${result.cpu.otherPct.toFixed(0)}%`);
            return row;
          },
        };
        for (const s of todo) {
          log(`${s.id} [${level}]: ${s.title}`);
          try {
            rows.push(...(await s.run(ctx)));
          } catch (err) {
            gate("scenarios-complete", false, `${s.id} [${level}]: ${err instanceof Error ? err.message : String(err)}`);
            log(`${s.id} failed: ${err instanceof Error ? err.stack : err}`);
            // wrangler takes a moment to exit after the error that kills it.
            await new Promise((r) => setTimeout(r, 3000));
            if (!(await server.alive())) {
              // wrangler dev exits when its proxy loses a connection to the Worker (BENCHMARKS.md §
              // Known problems). Say so, then carry on with a fresh server so one loss doesn't void the run;
              // the rooms of the lost server can't be read back, so their verification is dropped.
              const cause = server.exitCause();
              gate("server-survived", false, `[${level}] wrangler dev exited during ${s.id}${cause ? `: ${cause}` : ""}; ${rooms.length} rooms of that server not verified`);
              log(`the server exited during ${s.id} (${cause ?? "no cause printed"}); starting a fresh one`);
              await server.stop();
              boots++;
              server = await startServer({ treeDir, logLevel: level });
              ctx.server = server;
              ctx.users = await registerUsers();
              for (const u of users) u.close();
              users.splice(0, users.length, ...ctx.users);
              rooms.length = 0;
            }
          }
        }
        if (rooms.length) {
          log(`verifying ${rooms.reduce((n, r) => n + r.sent.length, 0)} sent events in ${rooms.length} rooms`);
          const v = await verifyRooms(rooms, ctx.runId);
          v.level = level;
          info.verification = [...(info.verification ?? []), v];
          gate("events-exactly-once-in-order", v.passed, `[${level}] ${JSON.stringify({ ...v, examples: v.examples.slice(0, 5) })}`);
          log(`verification via ${v.method === "messages" ? "GET /messages" : "GET /event/{id} (no /messages yet)"}: ${v.checked} checked, ${v.missing} missing, ${v.duplicated} duplicated, ${v.outOfOrder} out of order, ${v.unexpected} unexpected, ${v.idMismatch} id mismatches`);
        }
        const procs = serverProcesses(server.pid, server.port);
        const workerMem = procs.worker && memory(procs.worker.pid);
        const proxyMem = procs.proxy && memory(procs.proxy.pid);
        const levelRows = rows.filter((r) => r.level === level);
        memoryByLevel.push({
          level,
          workerHwmKb: workerMem?.hwmKb ?? NaN,
          workerRssKb: workerMem?.rssKb ?? NaN,
          workerPeakRssKb: Math.max(0, ...levelRows.map((r) => r.peakRssKb)),
          proxyHwmKb: proxyMem?.hwmKb ?? NaN,
          logLines: server.logLines(),
        });
        for (const u of users) u.close();
      } finally {
        await server.stop();
      }
    }
  } finally {
    removeTree(treeDir);
  }

  const fiveXx = [...statusCounts].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  gate("no-5xx", fiveXx === 0, `${fiveXx} responses with status ≥ 500: ${JSON.stringify(serverErrors.slice(0, 5))}`);
  addRatios(rows);
  const targets = checkTargets(rows, levels, memoryByLevel);
  const passed = gates.every((g) => g.passed);
  const results = {
    ...info,
    finishedAt: new Date().toISOString(),
    durationSeconds: Math.round((performance.now() - started) / 1000),
    passed,
    gates,
    statusCounts: Object.fromEntries(statusCounts),
    memory: memoryByLevel,
    targets,
    pending,
    rows,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 2));

  const md = [
    `Run ${runId}: ${info.machine.nproc} × ${info.machine.cpuModel}, ${info.machine.memoryGiB} GiB, git ${info.git.head}${info.git.dirtyFiles ? ` (+${info.git.dirtyFiles} uncommitted)` : ""}, ${results.durationSeconds} s, scale ${scale}`,
    "",
    "Latency columns: open rows from the intended send time; saturate rows are service time. “other load” is CPU used by processes outside this benchmark during the phase, as a share of all cores.",
    "",
    resultsTable(rows),
    "",
    "CPU per operation by process (from /proc/<pid>/stat utime+stime):",
    "",
    cpuTable(rows),
    "",
    profileTable(rows),
    "",
    "Send→sync delivery (latency from each event's intended send time to the receiver's /sync response; CPU per sent event from the first send until the last delivery):",
    "",
    deliveryTable(rows),
    "",
    "Initial and incremental sync (the same request back to back; service time):",
    "",
    syncTable(rows),
    "",
    "Targets:",
    "",
    targetsTable(targets),
    "",
    `Memory: ${memoryByLevel.map((m) => `[${m.level}] Worker VmHWM ${(m.workerHwmKb / 1024).toFixed(0)} MB, dev proxy ${(m.proxyHwmKb / 1024).toFixed(0)} MB, request log lines printed: ${m.logLines.stratus} by Stratus, ${m.logLines.wrangler} by wrangler`).join("; ")}`,
    "",
    ...pending.map((p) => `- ${p.id} (${p.title}): ${p.reason}`),
    "",
    "Gates:",
    ...gates.map((g) => `- ${g.passed ? "pass" : "FAIL"} ${g.name}${g.detail ? `: ${g.detail}` : ""}`),
    `- status counts: ${JSON.stringify(results.statusCounts)}`,
    "",
  ].join("\n");
  writeFileSync(outFile.replace(/\.json$/, ".md"), md);
  process.stdout.write(`\n${md}\n`);
  log(`results: ${outFile}`);
  if (!passed) {
    log("a correctness gate failed");
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
