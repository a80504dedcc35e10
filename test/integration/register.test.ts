/** Registration (spec: Client-Server § Account registration and management, § Token-authenticated registration). */
import { describe, expect, it } from "vitest";
import { call, login, loginOk, PASSWORD, registerUser, testEnv, uniqueName, whoami } from "./helpers";

const REGISTER = "/_matrix/client/v3/register";
const AVAILABLE = "/_matrix/client/v3/register/available";
const VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity";
const TOKEN_MODE = { REGISTRATION_MODE: "token", REGISTRATION_TOKEN: "env-registration-token" };

function register(body: Record<string, unknown>, envOverrides?: Record<string, string>, query = "") {
  return call("POST", `${REGISTER}${query}`, { body, envOverrides });
}

async function insertToken(token: string, usesAllowed: number | null, expiryTime: number | null = null) {
  await testEnv.DB.prepare("INSERT INTO registration_tokens (token, uses_allowed, expiry_time) VALUES (?, ?, ?)")
    .bind(token, usesAllowed, expiryTime)
    .run();
}

/** Starts a token-mode registration and completes it with `token`. */
async function registerWithToken(username: string, token: string) {
  const start = await register({ username, password: PASSWORD }, TOKEN_MODE);
  expect(start.status).toBe(401);
  return register({ username, password: PASSWORD, auth: { type: "m.login.registration_token", token, session: start.body.session } }, TOKEN_MODE);
}

describe("POST /register in open mode (m.login.dummy)", () => {
  it("offers m.login.dummy and creates a logged-in account", async () => {
    const username = uniqueName("open");
    const start = await register({ username, password: PASSWORD });
    expect(start.status).toBe(401);
    expect(start.body.flows).toEqual([{ stages: ["m.login.dummy"] }]);

    const res = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy", session: start.body.session } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@${username}:test.local`);
    expect(res.body.home_server).toBe("test.local");
    expect(typeof res.body.device_id).toBe("string");
    const me = await whoami(res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: res.body.user_id, device_id: res.body.device_id });
    // The password chosen at registration logs in.
    expect((await login(username)).status).toBe(200);
  });

  it("uses the given device_id and initial_device_display_name, and refresh_token when asked", async () => {
    const res = await register({
      username: uniqueName(),
      password: PASSWORD,
      device_id: "REGDEVICE",
      initial_device_display_name: "Registration phone",
      refresh_token: true,
      auth: { type: "m.login.dummy" },
    });
    expect(res.status).toBe(200);
    expect(res.body.device_id).toBe("REGDEVICE");
    expect(typeof res.body.refresh_token).toBe("string");
    expect(res.body.expires_in_ms).toBeGreaterThan(0);
    const device = await call("GET", "/_matrix/client/v3/devices/REGDEVICE", { token: res.body.access_token });
    expect(device.status).toBe(200);
    expect(device.body).toMatchObject({ device_id: "REGDEVICE", display_name: "Registration phone" });
  });

  it("generates a user id when no username is given", async () => {
    const res = await register({ password: PASSWORD, auth: { type: "m.login.dummy" } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toMatch(/^@[a-z0-9._=\-/+]+:test\.local$/);
    expect((await login(res.body.user_id)).status).toBe(200);
  });

  it("inhibit_login creates the account without a session", async () => {
    const username = uniqueName();
    const res = await register({ username, password: PASSWORD, inhibit_login: true, auth: { type: "m.login.dummy" } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@${username}:test.local`);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.device_id).toBeUndefined();
    // The account exists and has no device besides the one logging in now.
    const session = await loginOk(username);
    const devices = await call("GET", "/_matrix/client/v3/devices", { token: session.access_token });
    expect(devices.body.devices.map((d: { device_id: string }) => d.device_id)).toEqual([session.device_id]);
  });

  it("refuses guest registration with 403 M_FORBIDDEN", async () => {
    const res = await register({ auth: { type: "m.login.dummy" } }, undefined, "?kind=guest");
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(res.body.access_token).toBeUndefined();
  });

  it("refuses a missing or empty password without creating the account", async () => {
    const username = uniqueName();
    const missing = await register({ username, auth: { type: "m.login.dummy" } });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_MISSING_PARAM");
    const empty = await register({ username, password: "", auth: { type: "m.login.dummy" } });
    expect(empty.status).toBe(400);
    expect(empty.body.errcode).toBe("M_WEAK_PASSWORD");
    expect((await call("GET", `${AVAILABLE}?username=${username}`)).body).toEqual({ available: true });
  });
});

describe("POST /register when closed", () => {
  it("answers 403 M_FORBIDDEN, with or without auth, and creates nothing", async () => {
    const username = uniqueName();
    const closed = { REGISTRATION_MODE: "closed" };
    const probe = await register({ username, password: PASSWORD }, closed);
    expect(probe.status).toBe(403);
    expect(probe.body.errcode).toBe("M_FORBIDDEN");
    const attempt = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy" } }, closed);
    expect(attempt.status).toBe(403);
    expect(attempt.body.errcode).toBe("M_FORBIDDEN");
    expect((await call("GET", `${AVAILABLE}?username=${username}`)).body).toEqual({ available: true });
  });
});

describe("POST /register in token mode (m.login.registration_token)", () => {
  it("offers only m.login.registration_token; dummy is refused", async () => {
    const username = uniqueName();
    const start = await register({ username, password: PASSWORD }, TOKEN_MODE);
    expect(start.status).toBe(401);
    expect(start.body.flows).toEqual([{ stages: ["m.login.registration_token"] }]);
    const dummy = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy", session: start.body.session } }, TOKEN_MODE);
    expect(dummy.status).toBe(401);
    expect(dummy.body.errcode).toBeDefined();
    expect(dummy.body.access_token).toBeUndefined();
  });

  it("accepts the REGISTRATION_TOKEN secret, more than once", async () => {
    for (const username of [uniqueName("tok"), uniqueName("tok")]) {
      const res = await registerWithToken(username, TOKEN_MODE.REGISTRATION_TOKEN);
      expect(res.status).toBe(200);
      expect(res.body.user_id).toBe(`@${username}:test.local`);
      expect((await whoami(res.body.access_token)).status).toBe(200);
    }
  });

  it("refuses a wrong token with 401 M_FORBIDDEN in the same session", async () => {
    const username = uniqueName();
    const start = await register({ username, password: PASSWORD }, TOKEN_MODE);
    const res = await register(
      { username, password: PASSWORD, auth: { type: "m.login.registration_token", token: "wrong", session: start.body.session } },
      TOKEN_MODE,
    );
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(res.body.session).toBe(start.body.session);
    expect((await call("GET", `${AVAILABLE}?username=${username}`)).body).toEqual({ available: true });
  });

  it("spends a stored token with uses_allowed=1 after one registration", async () => {
    const token = uniqueName("once");
    await insertToken(token, 1);
    expect((await call("GET", `${VALIDITY}?token=${token}`, { envOverrides: TOKEN_MODE })).body).toEqual({ valid: true });

    const first = await registerWithToken(uniqueName(), token);
    expect(first.status).toBe(200);
    const row = await testEnv.DB.prepare("SELECT completed FROM registration_tokens WHERE token = ?").bind(token).first<{ completed: number }>();
    expect(row?.completed).toBe(1);

    const second = await registerWithToken(uniqueName(), token);
    expect(second.status).toBe(401);
    expect(second.body.errcode).toBe("M_FORBIDDEN");
    expect(second.body.access_token).toBeUndefined();
    expect((await call("GET", `${VALIDITY}?token=${token}`, { envOverrides: TOKEN_MODE })).body).toEqual({ valid: false });
  });

  it("lets only one of two concurrent registrations spend a single-use token", async () => {
    const token = uniqueName("race");
    await insertToken(token, 1);
    const results = await Promise.all([registerWithToken(uniqueName(), token), registerWithToken(uniqueName(), token)]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const loser = results.find((r) => r.status !== 200)!;
    expect([401, 403]).toContain(loser.status);
    expect(loser.body.errcode).toBe("M_FORBIDDEN");
  });

  it("a registration that loses a race for its name does not use up its token", async () => {
    const [tokenA, tokenB] = [uniqueName("ra"), uniqueName("rb")];
    await insertToken(tokenA, 1);
    await insertToken(tokenB, 1);
    const username = uniqueName("contested");
    const starts = await Promise.all([1, 2].map(() => register({ username, password: PASSWORD }, TOKEN_MODE)));
    const results = await Promise.all(
      [tokenA, tokenB].map((token, i) =>
        register({ username, password: PASSWORD, auth: { type: "m.login.registration_token", token, session: starts[i]!.body.session } }, TOKEN_MODE),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(results.find((r) => r.status === 400)!.body.errcode).toBe("M_USER_IN_USE");
    const { results: rows } = await testEnv.DB.prepare("SELECT completed FROM registration_tokens WHERE token IN (?, ?)")
      .bind(tokenA, tokenB)
      .all<{ completed: number }>();
    expect(rows.reduce((sum, r) => sum + r.completed, 0)).toBe(1);
  });

  it("refuses an expired stored token", async () => {
    const token = uniqueName("expired");
    await insertToken(token, null, Date.now() - 1000);
    expect((await call("GET", `${VALIDITY}?token=${token}`, { envOverrides: TOKEN_MODE })).body).toEqual({ valid: false });
    const res = await registerWithToken(uniqueName(), token);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });
});

describe("GET /v1/register/m.login.registration_token/validity", () => {
  it("reports the secret as valid and an unknown token as invalid", async () => {
    const secret = await call("GET", `${VALIDITY}?token=${TOKEN_MODE.REGISTRATION_TOKEN}`, { envOverrides: TOKEN_MODE });
    expect(secret.status).toBe(200);
    expect(secret.body).toEqual({ valid: true });
    const unknown = await call("GET", `${VALIDITY}?token=no-such-token`, { envOverrides: TOKEN_MODE });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ valid: false });
  });

  it("answers 403 M_FORBIDDEN when token registration is not enabled", async () => {
    const res = await call("GET", `${VALIDITY}?token=${TOKEN_MODE.REGISTRATION_TOKEN}`);
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });

  it("needs a token parameter", async () => {
    const res = await call("GET", VALIDITY, { envOverrides: TOKEN_MODE });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });
});

describe("GET /register/available", () => {
  it("answers available: true for a free, valid name", async () => {
    const res = await call("GET", `${AVAILABLE}?username=${uniqueName()}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ available: true });
  });

  it("answers 400 M_USER_IN_USE for a taken name, whatever its case", async () => {
    const alice = await registerUser();
    for (const name of [alice.username, alice.username.toUpperCase()]) {
      const res = await call("GET", `${AVAILABLE}?username=${name}`);
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_USER_IN_USE");
    }
  });

  it("answers 400 M_INVALID_USERNAME for an invalid name", async () => {
    const res = await call("GET", `${AVAILABLE}?username=${encodeURIComponent("not valid!")}`);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_USERNAME");
  });
});

describe("username rules", () => {
  it("lower-cases an upper-case username", async () => {
    const username = uniqueName("MixedCase");
    const res = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy" } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@${username.toLowerCase()}:test.local`);
    expect((await login(username.toLowerCase())).status).toBe(200);
  });

  it.each([
    ["a space", "has space"],
    ["a colon", "has:colon"],
    ["an at sign", "has@at"],
    ["non-ASCII", "émile"],
    ["a hash", "has#hash"],
    ["only digits", "1234567"],
    ["too many bytes", "a".repeat(250)],
  ])("refuses a username with %s as M_INVALID_USERNAME, on /register and /register/available", async (_what, username) => {
    const res = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy" } });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_USERNAME");
    const available = await call("GET", `${AVAILABLE}?username=${encodeURIComponent(username)}`);
    expect(available.status).toBe(400);
    expect(available.body.errcode).toBe("M_INVALID_USERNAME");
  });

  it("allows a user id of exactly 255 bytes and no more", async () => {
    // "@" + localpart + ":test.local" is 12 bytes besides the localpart.
    const longest = uniqueName("l").padEnd(243, "l");
    const ok = await register({ username: longest, password: PASSWORD, inhibit_login: true, auth: { type: "m.login.dummy" } });
    expect(ok.status).toBe(200);
    expect(new TextEncoder().encode(ok.body.user_id).length).toBe(255);
    const tooLong = await call("GET", `${AVAILABLE}?username=${uniqueName("l").padEnd(244, "l")}`);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errcode).toBe("M_INVALID_USERNAME");
  });

  it("accepts every allowed punctuation character", async () => {
    const username = `${uniqueName("p")}.=_-/+`;
    const res = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy" } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@${username}:test.local`);
  });

  it("refuses a taken username with M_USER_IN_USE, before UIA starts", async () => {
    const alice = await registerUser();
    const probe = await register({ username: alice.username, password: PASSWORD });
    expect(probe.status).toBe(400);
    expect(probe.body.errcode).toBe("M_USER_IN_USE");
    const attempt = await register({ username: alice.username.toUpperCase(), password: "other", auth: { type: "m.login.dummy" } });
    expect(attempt.status).toBe(400);
    expect(attempt.body.errcode).toBe("M_USER_IN_USE");
    // The original owner's password is unchanged.
    expect((await login(alice.username)).status).toBe(200);
  });

  it("refuses names in an exclusive application-service namespace with M_EXCLUSIVE", async () => {
    const envOverrides = { EXCLUSIVE_USER_NAMESPACES: "@bridge_.*:test\\.local" };
    const username = uniqueName("bridge_");
    const res = await register({ username, password: PASSWORD, auth: { type: "m.login.dummy" } }, envOverrides);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_EXCLUSIVE");
    const available = await call("GET", `${AVAILABLE}?username=${username}`, { envOverrides });
    expect(available.status).toBe(400);
    expect(available.body.errcode).toBe("M_EXCLUSIVE");
    // A name outside the namespace is fine under the same configuration.
    const outside = await register({ username: uniqueName("human"), password: PASSWORD, auth: { type: "m.login.dummy" } }, envOverrides);
    expect(outside.status).toBe(200);
  });
});
