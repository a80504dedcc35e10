/**
 * Starts and stops the homeserver under test, and reads its processes' CPU time and memory from /proc.
 *
 * The server runs from a frozen copy of the working tree (src, migrations, scripts, config; node_modules
 * linked): `wrangler dev` rebuilds and restarts workerd whenever a watched file changes, so an edit made
 * during a run would otherwise restart the server mid-measurement.
 */
import { spawn, execFileSync } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Removes a tree copy; never throws (a late write by a stopping wrangler must not hide the real error). */
export function removeTree(dir) {
  tempDirs.delete(dir);
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  } catch (err) {
    process.stderr.write(`[bench] could not remove ${dir}: ${err instanceof Error ? err.message : err}\n`);
  }
}

/** Copies what `wrangler dev` needs into a temporary folder; node_modules is linked, not copied. */
export function snapshotTree(repoRoot) {
  const dir = mkdtempSync(join(tmpdir(), "stratus-bench-tree-"));
  for (const entry of ["src", "migrations", "scripts", "wrangler.jsonc", "package.json", "tsconfig.json"]) {
    const from = resolve(repoRoot, entry);
    if (existsSync(from)) cpSync(from, join(dir, entry), { recursive: true });
  }
  symlinkSync(resolve(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  tempDirs.add(dir);
  installCleanup();
  return dir;
}

function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" ");
    // fields after comm: state(0) ppid(1) pgrp(2) ... utime(11) stime(12)
    return { pid, comm, state: f[0], ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/** VmRSS and VmHWM in kB. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? NaN);
    return { rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat "cpu" line). */
export function machineTicks() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Every process below `root` (inclusive). */
function descendants(root) {
  const all = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s && s.state !== "Z") all.push(s);
  }
  const ids = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all) if (!ids.has(s.pid) && ids.has(s.ppid)) (ids.add(s.pid), (grew = true));
  }
  return all.filter((s) => ids.has(s.pid));
}

/**
 * The server's processes by role. `wrangler dev` runs two workerd processes: the one that runs the
 * Worker and its Durable Objects, D1 and storage (started with an inspector address), and a proxy
 * in front of it that owns the public port (dev-only; production has no such hop). The rest are
 * Node: scripts/start.mjs, the wrangler shim and wrangler itself (which also prints the Worker's logs).
 */
export function serverProcesses(rootPid, port) {
  const procs = descendants(rootPid).map((s) => ({ ...s, cmd: cmdline(s.pid) }));
  const workerds = procs.filter((p) => p.comm.startsWith("workerd"));
  const worker = workerds.find((p) => p.cmd.includes("--inspector-addr")) ?? workerds.find((p) => !p.cmd.includes(`entry=127.0.0.1:${port}`));
  const proxy = workerds.find((p) => p !== worker);
  const node = procs.filter((p) => !p.comm.startsWith("workerd"));
  return { worker, proxy, node };
}

/** CPU ticks of each role right now. */
export function cpuSnapshot(rootPid, port) {
  const p = serverProcesses(rootPid, port);
  return {
    at: performance.now(),
    workerPid: p.worker?.pid,
    worker: p.worker?.ticks ?? 0,
    proxy: p.proxy?.ticks ?? 0,
    node: p.node.reduce((n, x) => n + x.ticks, 0),
    machine: machineTicks(),
    client: process.cpuUsage(),
  };
}

/** Milliseconds of CPU per role between two snapshots; `otherPct` is everything else on the machine. */
export function cpuDelta(a, b) {
  const ms = (ticks) => (ticks * 1000) / CLK_TCK;
  const clientMs = (b.client.user - a.client.user + b.client.system - a.client.system) / 1000;
  const worker = ms(b.worker - a.worker);
  const proxy = ms(b.proxy - a.proxy);
  const node = ms(b.node - a.node);
  const wallMs = b.at - a.at;
  const busyMs = ms(b.machine.busy - a.machine.busy);
  const totalMs = ms(b.machine.total - a.machine.total);
  const other = Math.max(0, busyMs - worker - proxy - node - clientMs);
  return {
    wallMs,
    workerMs: worker,
    proxyMs: proxy,
    nodeMs: node,
    clientMs,
    restarted: a.workerPid !== b.workerPid,
    // share of all cores used by processes that are not this benchmark (other jobs on the machine)
    otherPct: totalMs > 0 ? (100 * other) / totalMs : 0,
    machineBusyPct: totalMs > 0 ? (100 * busyMs) / totalMs : 0,
  };
}

/** Samples the Worker process's RSS while a phase runs. */
export class RssSampler {
  constructor(rootPid, port, intervalMs = 250) {
    this.peakKb = 0;
    this.timer = setInterval(() => {
      const { worker } = serverProcesses(rootPid, port);
      const m = worker && memory(worker.pid);
      if (m && m.rssKb > this.peakKb) this.peakKb = m.rssKb;
    }, intervalMs);
    this.timer.unref();
  }
  stop() {
    clearInterval(this.timer);
    return this.peakKb;
  }
}

/** Process groups of servers still running; killed if the benchmark exits or is interrupted first. */
const live = new Set();
/** Temporary folders (tree copies, state) removed on exit if the run did not remove them itself. */
const tempDirs = new Set();
let cleanupInstalled = false;
function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => {
    for (const pgid of live) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {}
    }
    for (const dir of tempDirs) removeTree(dir);
  };
  process.once("exit", killAll);
  // The servers run in their own process groups, so Ctrl-C in the terminal does not reach them.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * What each log level means for the server under test:
 *  - info: LOG_LEVEL=info and what `npm start` does by default: every request prints Stratus's
 *    JSON line and wrangler's own "[wrangler:info] GET … 200 OK" line; wrangler's local tracing is
 *    off (scripts/start.mjs sets X_LOCAL_OBSERVABILITY=false unless told otherwise).
 *  - off:  the quietest: LOG_LEVEL=off, WRANGLER_LOG=warn (no per-request line from wrangler) and
 *    X_LOCAL_OBSERVABILITY=false (no local traces). bench/log-cost.mjs measures each part.
 *  - any other Stratus level (debug, warn, error): LOG_LEVEL only, wrangler's defaults.
 */
export const WRANGLER_KNOBS = ["WRANGLER_LOG", "X_LOCAL_OBSERVABILITY"];

export function levelEnv(level) {
  if (level === "off") return { LOG_LEVEL: "off", WRANGLER_LOG: "warn", X_LOCAL_OBSERVABILITY: "false" };
  return { LOG_LEVEL: level };
}

/**
 * Starts scripts/start.mjs from `treeDir` with a fresh state folder on a free port; resolves once
 * the server answers /versions.
 */
export async function startServer({ treeDir, logLevel, extraEnv = {} }) {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "stratus-bench-state-"));
  tempDirs.add(stateDir);
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PATH: [resolve(treeDir, "node_modules", ".bin"), process.env.PATH ?? ""].join(delimiter),
    PORT: String(port),
    HOST: "127.0.0.1",
    STATE_DIR: stateDir,
    SERVER_NAME: `localhost:${port}`,
    PUBLIC_BASE_URL: baseUrl,
    REGISTRATION_MODE: "open",
    RATE_LIMITS: "off",
    ...levelEnv(logLevel),
    BENCH_ROUTES: "on",
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...extraEnv,
  };
  delete env.NODE_OPTIONS;
  // wrangler's own knobs come only from the level (or extraEnv), never from the caller's shell.
  for (const k of WRANGLER_KNOBS) if (!(k in levelEnv(logLevel)) && !(k in extraEnv)) delete env[k];
  // The server's output goes to a file, not through this process: at LOG_LEVEL=info every request
  // prints lines, and reading them here would charge their cost to the load generator.
  const logFile = join(stateDir, "server.log");
  const logFd = openSync(logFile, "w");
  const child = spawn(process.execPath, [resolve(treeDir, "scripts", "start.mjs")], {
    cwd: treeDir,
    env,
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  const tail = () => {
    try {
      const size = statSync(logFile).size;
      const fd = openSync(logFile, "r");
      const buf = Buffer.alloc(Math.min(size, 20000));
      readSync(fd, buf, 0, buf.length, size - buf.length);
      closeSync(fd);
      return buf.toString("utf8");
    } catch {
      return "";
    }
  };
  /** Request log lines printed so far: Stratus's JSON lines and wrangler's own "[wrangler:info] GET …" lines. */
  const logLines = () => {
    try {
      const text = readFileSync(logFile, "utf8");
      return { stratus: (text.match(/"request_id"/g) ?? []).length, wrangler: (text.match(/\[wrangler:info\] (GET|PUT|POST|DELETE|OPTIONS) /g) ?? []).length };
    } catch {
      return { stratus: 0, wrangler: 0 };
    }
  };
  let exited = false;
  const exit = new Promise((r) => child.once("exit", () => ((exited = true), r())));

  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 8000);
      await exit;
      clearTimeout(t);
    }
    // wrangler's children share the group; make sure none is left behind
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    removeTree(stateDir);
  };
  live.add(child.pid);
  child.once("exit", () => live.delete(child.pid));
  installCleanup();

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`server exited during start:\n${tail()}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not start within 90 s:\n${tail()}`);
    }
    try {
      const res = await fetch(`${baseUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200 && serverProcesses(child.pid, port).worker) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  /** Whether the server still answers (wrangler dev exits on some proxy errors). */
  const alive = async () => {
    if (exited) return false;
    try {
      return (await fetch(`${baseUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(5000) })).status === 200;
    } catch {
      return false;
    }
  };
  /** The error wrangler printed before exiting, if it names one. */
  const exitCause = () => {
    const text = tail();
    if (/Error inside ProxyWorker/.test(text)) return "wrangler: \"Error in ProxyController: Error inside ProxyWorker\" (Network connection lost)";
    const m = /✘ \[ERROR\][^\n]*\n?([^\n]*)/.exec(text);
    return m ? m[0].replace(/\s+/g, " ").slice(0, 200) : undefined;
  };
  return {
    port,
    baseUrl,
    pid: child.pid,
    stateDir,
    logLevel,
    tail,
    logLines,
    alive,
    exitCause,
    stop,
  };
}
