/** Rate limits on login and registration: 429 M_LIMIT_EXCEEDED with retry_after_ms. */
import { describe, expect, it } from "vitest";
import { call, login, PASSWORD, passwordAuth, registerUser, uniqueName, type JsonResponse } from "./helpers";

let ipCounter = 0;
/** A client address no other test uses, so each test has its own buckets. */
function uniqueIp(): string {
  ipCounter += 1;
  return `203.0.${Math.floor(Math.random() * 250)}.${ipCounter % 250}-${uniqueName("ip")}`;
}

function expectLimited(res: JsonResponse, periodMs: number) {
  expect(res.status).toBe(429);
  expect(res.body.errcode).toBe("M_LIMIT_EXCEEDED");
  expect(typeof res.body.retry_after_ms).toBe("number");
  expect(res.body.retry_after_ms).toBeGreaterThan(0);
  expect(res.body.retry_after_ms).toBeLessThanOrEqual(periodMs);
  expect(res.body.access_token).toBeUndefined();
}

describe("login rate limits", () => {
  it("limits logins per IP, whatever the outcome, and only for that IP", async () => {
    const alice = await registerUser();
    const envOverrides = { RATE_LIMIT_LOGIN_IP: "2/60" };
    const ip = uniqueIp();
    const headers = { "cf-connecting-ip": ip };
    expect((await login(alice.username, "wrong", {}, { envOverrides, headers })).status).toBe(403);
    expect((await login(alice.username, PASSWORD, {}, { envOverrides, headers })).status).toBe(200);
    // The right password does not get through once the bucket is empty.
    expectLimited(await login(alice.username, PASSWORD, {}, { envOverrides, headers }), 60_000);
    expectLimited(await login(alice.username, PASSWORD, {}, { envOverrides, headers }), 60_000);
    // Another address is not affected.
    expect((await login(alice.username, PASSWORD, {}, { envOverrides, headers: { "cf-connecting-ip": uniqueIp() } })).status).toBe(200);
  });

  it("limits password attempts per account across addresses", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const envOverrides = { RATE_LIMIT_LOGIN_ACCOUNT: "2/60" };
    for (let i = 0; i < 2; i++) {
      expect((await login(alice.username, "guess", {}, { envOverrides, headers: { "cf-connecting-ip": uniqueIp() } })).status).toBe(403);
    }
    expectLimited(await login(alice.username, PASSWORD, {}, { envOverrides, headers: { "cf-connecting-ip": uniqueIp() } }), 60_000);
    // The full user id is the same account as the localpart.
    expectLimited(await login(alice.user_id, PASSWORD, {}, { envOverrides, headers: { "cf-connecting-ip": uniqueIp() } }), 60_000);
    expect((await login(bob.username, PASSWORD, {}, { envOverrides, headers: { "cf-connecting-ip": uniqueIp() } })).status).toBe(200);
  });

  it("limits password guesses through UIA by account too", async () => {
    const alice = await registerUser();
    const envOverrides = { RATE_LIMIT_LOGIN_ACCOUNT: "1/60" };
    const attempt = (password: string) =>
      call("POST", "/_matrix/client/v3/delete_devices", {
        body: { devices: [], auth: passwordAuth(alice.user_id, password) },
        token: alice.access_token,
        envOverrides,
      });
    expect((await attempt("guess")).status).toBe(401);
    expectLimited(await attempt(PASSWORD), 60_000);
  });

  it("RATE_LIMITS=off disables limiting", async () => {
    const alice = await registerUser();
    const envOverrides = { RATE_LIMITS: "off", RATE_LIMIT_LOGIN_IP: "1/60", RATE_LIMIT_LOGIN_ACCOUNT: "1/60" };
    const headers = { "cf-connecting-ip": uniqueIp() };
    for (let i = 0; i < 3; i++) expect((await login(alice.username, PASSWORD, {}, { envOverrides, headers })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login("nobody-at-all", "x", {}, { envOverrides, headers })).status).toBe(403);
  });
});

describe("registration rate limits", () => {
  it("limits /register/available and /register per IP", async () => {
    const envOverrides = { RATE_LIMIT_REGISTER_IP: "2/60" };
    const headers = { "cf-connecting-ip": uniqueIp() };
    expect((await call("GET", `/_matrix/client/v3/register/available?username=${uniqueName()}`, { envOverrides, headers })).status).toBe(200);
    expect((await call("GET", `/_matrix/client/v3/register/available?username=${uniqueName()}`, { envOverrides, headers })).status).toBe(200);
    expectLimited(await call("GET", `/_matrix/client/v3/register/available?username=${uniqueName()}`, { envOverrides, headers }), 60_000);
    const username = uniqueName();
    const register = await call("POST", "/_matrix/client/v3/register", {
      body: { username, password: PASSWORD, auth: { type: "m.login.dummy" } },
      envOverrides,
      headers,
    });
    expectLimited(register, 60_000);
    // Nothing was created, and another address can still register.
    const elsewhere = await call("POST", "/_matrix/client/v3/register", {
      body: { username, password: PASSWORD, auth: { type: "m.login.dummy" } },
      envOverrides,
      headers: { "cf-connecting-ip": uniqueIp() },
    });
    expect(elsewhere.status).toBe(200);
  });

  it("limits registration-token guesses per IP", async () => {
    const envOverrides = { REGISTRATION_MODE: "token", REGISTRATION_TOKEN: "the-real-token", RATE_LIMIT_REGISTER_IP: "2/60" };
    const headers = { "cf-connecting-ip": uniqueIp() };
    const validity = (token: string) => call("GET", `/_matrix/client/v1/register/m.login.registration_token/validity?token=${token}`, { envOverrides, headers });
    expect((await validity("guess-1")).body).toEqual({ valid: false });
    expect((await validity("guess-2")).body).toEqual({ valid: false });
    expectLimited(await validity("the-real-token"), 60_000);
  });

  it("RATE_LIMITS=off disables it", async () => {
    const envOverrides = { RATE_LIMITS: "off", RATE_LIMIT_REGISTER_IP: "1/60" };
    const headers = { "cf-connecting-ip": uniqueIp() };
    for (let i = 0; i < 3; i++) {
      expect((await call("GET", `/_matrix/client/v3/register/available?username=${uniqueName()}`, { envOverrides, headers })).status).toBe(200);
    }
  });
});
