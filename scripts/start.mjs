#!/usr/bin/env node
/**
 * Starts a local homeserver: applies D1 migrations to the local state folder, then runs
 * `wrangler dev` on 127.0.0.1 with open registration.
 *
 *   PORT        port to listen on (default 8787)
 *   HOST        address to bind (default 127.0.0.1)
 *   STATE_DIR   where D1, KV, R2 and Durable Object data are kept (default ./.state)
 *   SERVER_NAME the Matrix server name (default localhost:PORT)
 *   REGISTRATION_MODE  open | token | closed (default open, for local use)
 *   REGISTRATION_SHARED_SECRET  enables /_synapse/admin/v1/register (default: a secret kept in STATE_DIR)
 *   RATE_LIMITS, RATE_LIMIT_*, LOG_LEVEL, REGISTRATION_TOKEN, ACCESS_TOKEN_LIFETIME_MS, MAX_REQUEST_BYTES,
 *   DEFAULT_ROOM_VERSION, EXCLUSIVE_USER_NAMESPACES, MEDIA_*, THUMBNAIL_*, URL_PREVIEW_*, PUSH_GATEWAY_*  passed to the Worker
 *   BENCH_ROUTES=on  enables the benchmark floor route (npm run bench only; off by default)
 *   X_LOCAL_OBSERVABILITY=true  turns wrangler's local request tracing back on (off by default here:
 *               it costs ~4 ms of Worker CPU per message sent and keeps every trace under STATE_DIR;
 *               BENCHMARKS.md § What logging and tracing cost)
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const port = process.env.PORT ?? "8787";
const host = process.env.HOST ?? "127.0.0.1";
const stateDir = resolve(process.env.STATE_DIR ?? resolve(root, ".state"));
const serverName = process.env.SERVER_NAME ?? `localhost:${port}`;
const registrationMode = process.env.REGISTRATION_MODE ?? "open";
const publicBaseUrl = process.env.PUBLIC_BASE_URL ?? `http://${host}:${port}`;
const wrangler = resolve(root, "node_modules", ".bin", "wrangler");

mkdirSync(stateDir, { recursive: true });

// The shared secret lets `npm run create-user` make accounts; it is generated once per state folder.
const secretFile = resolve(stateDir, "registration-shared-secret");
if (!process.env.REGISTRATION_SHARED_SECRET && !existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString("hex"), { mode: 0o600 });
const sharedSecret = process.env.REGISTRATION_SHARED_SECRET ?? readFileSync(secretFile, "utf8").trim();

const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
});
if (migrate.status !== 0) {
  console.error("stratus: applying D1 migrations failed");
  process.exit(migrate.status ?? 1);
}

const vars = {
  SERVER_NAME: serverName,
  PUBLIC_BASE_URL: publicBaseUrl,
  REGISTRATION_MODE: registrationMode,
  REGISTRATION_SHARED_SECRET: sharedSecret,
};
// The Worker variables of README's second table (src/env.ts) pass through when set, so a local
// server can be configured like a deployed one.
const WORKER_VARS = /^(RATE_LIMITS|RATE_LIMIT_[A-Z_]+|LOG_LEVEL|REGISTRATION_TOKEN|ACCESS_TOKEN_LIFETIME_MS|BENCH_ROUTES|MAX_REQUEST_BYTES|DEFAULT_ROOM_VERSION|EXCLUSIVE_USER_NAMESPACES|MEDIA_[A-Z_]+|THUMBNAIL_[A-Z_]+|URL_PREVIEW_[A-Z_]+|PUSH_GATEWAY_[A-Z_]+)$/;
for (const [key, value] of Object.entries(process.env)) {
  if (WORKER_VARS.test(key) && value !== undefined) vars[key] = value;
}
const args = ["dev", "--ip", host, "--port", port, "--persist-to", stateDir, "--show-interactive-dev-session=false"];
for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);

// Wrangler traces every request, D1 query and storage call by default (X_LOCAL_OBSERVABILITY, read
// by `wrangler dev` itself). Measured: 4.3 ms of Worker CPU per send, 2.5× the cost of a send
// without it, for traces only wrangler's local explorer shows. Off unless asked for.
const child = spawn(wrangler, args, {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { X_LOCAL_OBSERVABILITY: "false", ...process.env, WRANGLER_SEND_METRICS: "false" },
});
let announced = false;
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Ready on/i.test(String(chunk))) {
    announced = true;
    console.log(`stratus: homeserver ${serverName} is ready at ${publicBaseUrl} (state in ${stateDir}, registration ${registrationMode})`);
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
