/**
 * Synapse-compatible shared-secret registration (Synapse admin API `/_synapse/admin/v1/register`),
 * used by operators, synadm and Complement to create users and admins. Off unless the
 * REGISTRATION_SHARED_SECRET secret is set. The MAC is HMAC-SHA1 over
 * `nonce\0username\0password\0admin|notadmin[\0user_type]`, hex-encoded; each nonce works once.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { createAccount, startDeviceSession } from "../../services/accounts";
import { randomToken, timingSafeEqual, toHex } from "../../services/random";
import type { AppEnv } from "../app-env";
import { forbidden, MatrixError, unrecognized } from "../errors";
import { route } from "../route";

const NONCE_LIFETIME_MS = 60_000;

async function hmacSha1Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message))));
}

export function registerSharedSecretRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "GET",
    paths: ["/_synapse/admin/v1/register"],
    auth: "none",
    handler: async ({ deps }) => {
      if (!deps.config.registrationSharedSecret) throw unrecognized("Shared secret registration is not enabled");
      const nonce = randomToken(24);
      const db = deps.env.DB;
      await db.batch([
        db.prepare("DELETE FROM registration_nonces WHERE created_ts < ?").bind(deps.now() - NONCE_LIFETIME_MS),
        db.prepare("INSERT INTO registration_nonces (nonce, created_ts) VALUES (?, ?)").bind(nonce, deps.now()),
      ]);
      return { nonce };
    },
  });

  route(app, {
    method: "POST",
    paths: ["/_synapse/admin/v1/register"],
    auth: "none",
    body: z.looseObject({
      nonce: z.string(),
      username: z.string().min(1),
      password: z.string(),
      displayname: z.string().max(256).optional(),
      admin: z.boolean().optional(),
      user_type: z.string().nullable().optional(),
      mac: z.string(),
    }),
    handler: async ({ deps, body, ip }) => {
      const secret = deps.config.registrationSharedSecret;
      if (!secret) throw unrecognized("Shared secret registration is not enabled");
      const used = await deps.env.DB.prepare("DELETE FROM registration_nonces WHERE nonce = ? RETURNING created_ts")
        .bind(body.nonce)
        .first<{ created_ts: number }>();
      if (!used || used.created_ts + NONCE_LIFETIME_MS < deps.now()) throw new MatrixError("M_UNKNOWN", "unrecognised nonce");
      let message = `${body.nonce}\0${body.username}\0${body.password}\0${body.admin ? "admin" : "notadmin"}`;
      if (body.user_type) message += `\0${body.user_type}`;
      if (!timingSafeEqual(await hmacSha1Hex(secret, message), body.mac.toLowerCase())) throw forbidden("HMAC incorrect");
      const userId = await createAccount(deps, {
        username: body.username,
        password: body.password,
        isAdmin: body.admin === true,
        displayname: body.displayname,
      });
      const login = await startDeviceSession(deps, { userId, refreshToken: false, ip });
      return { access_token: login.access_token, user_id: userId, home_server: deps.config.serverName, device_id: login.device_id };
    },
  });
}
