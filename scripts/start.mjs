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
 *   RATE_LIMITS, RATE_LIMIT_*, LOG_LEVEL, REGISTRATION_TOKEN, ACCESS_TOKEN_LIFETIME_MS  passed to the Worker
 *   BENCH_ROUTES=on  enables the benchmark floor route (npm run bench only; off by default)
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
for (const key of ["RATE_LIMITS", "RATE_LIMIT_LOGIN_IP", "RATE_LIMIT_LOGIN_ACCOUNT", "RATE_LIMIT_REGISTER_IP", "LOG_LEVEL", "REGISTRATION_TOKEN", "ACCESS_TOKEN_LIFETIME_MS", "BENCH_ROUTES"]) {
  if (process.env[key] !== undefined) vars[key] = process.env[key];
}
const args = ["dev", "--ip", host, "--port", port, "--persist-to", stateDir, "--show-interactive-dev-session=false"];
for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);

const child = spawn(wrangler, args, {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
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
