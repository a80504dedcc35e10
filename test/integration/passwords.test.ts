/** Secrets at rest: password hashes and access/refresh tokens as stored in D1. */
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { call, login, loginOk, PASSWORD, passwordAuth, registerUser, testEnv, uniqueName, whoami } from "./helpers";

async function storedHash(userId: string): Promise<string | null | undefined> {
  const row = await testEnv.DB.prepare("SELECT password_hash FROM users WHERE user_id = ?").bind(userId).first<{ password_hash: string | null }>();
  return row?.password_hash;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const PBKDF2 = /^\$pbkdf2-sha256\$i=600000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

describe("password hashes", () => {
  it("registration stores a salted $pbkdf2-sha256$i=600000$ hash, never the password", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const a = await storedHash(alice.user_id);
    const b = await storedHash(bob.user_id);
    expect(a).toMatch(PBKDF2);
    expect(b).toMatch(PBKDF2);
    expect(a).not.toContain(PASSWORD);
    // Same password, different salts, different hashes.
    expect(a).not.toBe(b);
  });

  it("a password change stores a new PBKDF2 hash", async () => {
    const alice = await registerUser();
    const before = await storedHash(alice.user_id);
    const res = await call("POST", "/_matrix/client/v3/account/password", {
      body: { new_password: "changed password", auth: passwordAuth(alice.user_id) },
      token: alice.access_token,
    });
    expect(res.status).toBe(200);
    const after = await storedHash(alice.user_id);
    expect(after).toMatch(PBKDF2);
    expect(after).not.toBe(before);
  });

  it("a bcrypt hash imported from Synapse still verifies on login", async () => {
    const localpart = uniqueName("synapse");
    const userId = `@${localpart}:test.local`;
    const hash = bcrypt.hashSync("imported password", 4);
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    await testEnv.DB.prepare("INSERT INTO users (user_id, localpart, password_hash, created_ts, displayname) VALUES (?, ?, ?, ?, ?)")
      .bind(userId, localpart, hash, Date.now(), localpart)
      .run();

    const ok = await login(localpart, "imported password");
    expect(ok.status).toBe(200);
    expect(ok.body.user_id).toBe(userId);
    expect((await whoami(ok.body.access_token)).body.user_id).toBe(userId);

    const wrong = await login(localpart, "not the imported password");
    expect(wrong.status).toBe(403);
    expect(wrong.body.errcode).toBe("M_FORBIDDEN");

    // It works for UIA too.
    const spare = await loginOk(localpart, "imported password");
    const del = await call("POST", "/_matrix/client/v3/delete_devices", {
      body: { devices: [spare.device_id], auth: passwordAuth(userId, "imported password") },
      token: ok.body.access_token,
    });
    expect(del.status).toBe(200);
  });

  it("a corrupt stored hash fails closed", async () => {
    const localpart = uniqueName("corrupt");
    await testEnv.DB.prepare("INSERT INTO users (user_id, localpart, password_hash, created_ts) VALUES (?, ?, ?, ?)")
      .bind(`@${localpart}:test.local`, localpart, "plaintext-password", Date.now())
      .run();
    const res = await login(localpart, "plaintext-password");
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });
});

describe("tokens at rest", () => {
  function entropyBits(token: string): number {
    const body = token.replace(/^sy[tr]_/, "");
    expect(body).toMatch(/^[A-Za-z0-9_-]+$/);
    return body.length * 6;
  }

  it("access and refresh tokens carry at least 128 random bits and are all different", async () => {
    const alice = await registerUser();
    const sessions = await Promise.all([1, 2, 3].map(() => loginOk(alice.username, PASSWORD, { refresh_token: true })));
    const tokens = sessions.flatMap((s) => [s.access_token, s.refresh_token!]).concat(alice.access_token);
    for (const token of tokens) expect(entropyBits(token)).toBeGreaterThanOrEqual(128);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it("only SHA-256 hashes of tokens are stored, never the tokens", async () => {
    const alice = await registerUser();
    const session = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    const refreshed = await call("POST", "/_matrix/client/v3/refresh", { body: { refresh_token: session.refresh_token } });
    expect(refreshed.status).toBe(200);

    const secrets = [alice.access_token, session.access_token, session.refresh_token!, refreshed.body.access_token, refreshed.body.refresh_token];
    const dump = JSON.stringify([
      (await testEnv.DB.prepare("SELECT * FROM access_tokens WHERE user_id = ?").bind(alice.user_id).all()).results,
      (await testEnv.DB.prepare("SELECT * FROM refresh_tokens WHERE user_id = ?").bind(alice.user_id).all()).results,
      (await testEnv.DB.prepare("SELECT * FROM devices WHERE user_id = ?").bind(alice.user_id).all()).results,
    ]);
    for (const secret of secrets) expect(dump).not.toContain(secret);

    for (const token of [alice.access_token, refreshed.body.access_token]) {
      const row = await testEnv.DB.prepare("SELECT user_id FROM access_tokens WHERE token_hash = ?").bind(await sha256Hex(token)).first<{ user_id: string }>();
      expect(row?.user_id).toBe(alice.user_id);
    }
    const refreshRow = await testEnv.DB.prepare("SELECT user_id FROM refresh_tokens WHERE token_hash = ?")
      .bind(await sha256Hex(refreshed.body.refresh_token))
      .first<{ user_id: string }>();
    expect(refreshRow?.user_id).toBe(alice.user_id);
  });

  it("a token's hash is not itself a token", async () => {
    const alice = await registerUser();
    const res = await whoami(await sha256Hex(alice.access_token));
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
  });
});
