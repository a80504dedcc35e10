#!/usr/bin/env node
/**
 * Creates an account on a running homeserver with Synapse-compatible shared-secret registration
 * (GET a nonce from /_synapse/admin/v1/register, then POST it back with an HMAC-SHA1 of
 * `nonce\0username\0password\0admin|notadmin` keyed with the shared secret).
 *
 *   npm run create-user -- <username> [--password P] [--admin] [--url http://127.0.0.1:8787] [--secret S]
 *
 * The secret comes from --secret, else REGISTRATION_SHARED_SECRET, else the file
 * `${STATE_DIR:-.state}/registration-shared-secret` that `npm start` writes. Without --password a
 * random password is generated and printed. Prints the new user id.
 */
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const USAGE = `usage: npm run create-user -- <username> [--password P] [--admin] [--url URL] [--secret S]

  <username>       the localpart of the new user (or a full @user:server id)
  --password P     the password; a random one is generated and printed when omitted
  --admin          make the user a server admin
  --url URL        the homeserver (default http://127.0.0.1:\${PORT:-8787})
  --secret S       the registration shared secret (default: REGISTRATION_SHARED_SECRET,
                   else \${STATE_DIR:-.state}/registration-shared-secret)`;

function fail(message, code = 1) {
  console.error(`create-user: ${message}`);
  process.exit(code);
}

function usage(message) {
  if (message) console.error(`create-user: ${message}\n`);
  console.error(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { username: undefined, password: undefined, admin: false, url: undefined, secret: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= argv.length) usage(`${name} needs a value`);
      return argv[++i];
    };
    switch (name) {
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      case "--password":
      case "-p":
        opts.password = value();
        break;
      case "--admin":
      case "-a":
        opts.admin = true;
        break;
      case "--url":
        opts.url = value();
        break;
      case "--secret":
        opts.secret = value();
        break;
      default:
        if (arg.startsWith("-")) usage(`unknown option ${arg}`);
        if (opts.username !== undefined) usage(`unexpected argument ${arg}`);
        opts.username = arg;
    }
  }
  return opts;
}

function readSecret(opts) {
  if (opts.secret) return opts.secret;
  if (process.env.REGISTRATION_SHARED_SECRET) return process.env.REGISTRATION_SHARED_SECRET;
  const file = resolve(process.env.STATE_DIR ? resolve(process.env.STATE_DIR) : resolve(root, ".state"), "registration-shared-secret");
  if (existsSync(file)) {
    const secret = readFileSync(file, "utf8").trim();
    if (secret) return secret;
  }
  fail(`no shared secret: pass --secret, set REGISTRATION_SHARED_SECRET, or run \`npm start\` once so that ${file} exists`);
}

async function call(url, init) {
  let res;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = err?.cause;
    const reason = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? err?.message ?? String(err);
    fail(`cannot reach the homeserver at ${new URL(url).origin} (${reason}); is it running (npm start)?`);
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

function describe(res) {
  if (res.body && typeof res.body === "object" && res.body.errcode) return `${res.body.errcode}: ${res.body.error ?? ""} (HTTP ${res.status})`;
  return `HTTP ${res.status} ${res.text.slice(0, 200)}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts.username) usage("a username is required");
  // Accept a full user id too: @alice:example.org -> alice.
  const username = opts.username.startsWith("@") ? opts.username.slice(1).split(":")[0] : opts.username;
  if (!username) usage("the username is empty");
  const base = (opts.url ?? `http://127.0.0.1:${process.env.PORT ?? "8787"}`).replace(/\/+$/, "");
  try {
    new URL(base);
  } catch {
    usage(`--url is not a URL: ${base}`);
  }
  const secret = readSecret(opts);
  const generated = opts.password === undefined;
  const password = opts.password ?? randomBytes(18).toString("base64url");
  const endpoint = `${base}/_synapse/admin/v1/register`;

  const nonceRes = await call(endpoint, { method: "GET" });
  if (nonceRes.status === 404 || nonceRes.body?.errcode === "M_UNRECOGNIZED") fail(`shared-secret registration is not enabled on ${base} (${describe(nonceRes)})`);
  if (nonceRes.status !== 200 || typeof nonceRes.body?.nonce !== "string") fail(`could not get a registration nonce: ${describe(nonceRes)}`);
  const nonce = nonceRes.body.nonce;

  const mac = createHmac("sha1", secret)
    .update(`${nonce}\0${username}\0${password}\0${opts.admin ? "admin" : "notadmin"}`)
    .digest("hex");
  const res = await call(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username, password, admin: opts.admin, mac }),
  });
  if (res.status !== 200 || typeof res.body?.user_id !== "string") {
    const hint = res.body?.errcode === "M_FORBIDDEN" ? " (is the shared secret right?)" : "";
    fail(`registration failed: ${describe(res)}${hint}`);
  }
  console.log(`Created ${opts.admin ? "admin" : "user"} ${res.body.user_id}`);
  if (generated) console.log(`Password: ${password}`);
}

await main();
