/** Login, refresh and logout (spec: Client-Server § Login, § Refreshing access tokens, § Logout). */
import { describe, expect, it } from "vitest";
import { call, login, loginOk, PASSWORD, registerUser, sleep, whoami } from "./helpers";

const LOGIN = "/_matrix/client/v3/login";

describe("GET /login", () => {
  it("offers m.login.password", async () => {
    const res = await call("GET", LOGIN);
    expect(res.status).toBe(200);
    expect(res.body.flows).toContainEqual({ type: "m.login.password" });
  });

  it("answers on the r0 prefix too", async () => {
    const res = await call("GET", "/_matrix/client/r0/login");
    expect(res.status).toBe(200);
    expect(res.body.flows).toContainEqual({ type: "m.login.password" });
  });
});

describe("POST /login with m.login.password", () => {
  it("accepts m.id.user with a localpart and returns a working session", async () => {
    const alice = await registerUser();
    const res = await login(alice.username);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.user_id);
    expect(res.body.device_id).toMatch(/^\S+$/);
    expect(res.body.home_server).toBe("test.local");
    expect(res.body.well_known).toEqual({ "m.homeserver": { base_url: "https://test.local" } });
    expect(res.body.access_token).not.toBe(alice.access_token);
    const me = await whoami(res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: alice.user_id, device_id: res.body.device_id });
  });

  it("accepts m.id.user with a full user id, in any letter case", async () => {
    const alice = await registerUser();
    const full = await login(alice.user_id);
    expect(full.status).toBe(200);
    expect(full.body.user_id).toBe(alice.user_id);
    const upper = await login(`@${alice.username.toUpperCase()}:test.local`);
    expect(upper.status).toBe(200);
    expect(upper.body.user_id).toBe(alice.user_id);
  });

  it("accepts the deprecated top-level `user` field", async () => {
    const alice = await registerUser();
    const res = await call("POST", LOGIN, { body: { type: "m.login.password", user: alice.username, password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.user_id);
    expect((await whoami(res.body.access_token)).status).toBe(200);
  });

  it("refuses a wrong password with 403 M_FORBIDDEN", async () => {
    const alice = await registerUser();
    const res = await login(alice.username, "not the password");
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(res.body.access_token).toBeUndefined();
  });

  it("answers an unknown user exactly like a wrong password", async () => {
    const res = await login("nobody-here-at-all", "whatever");
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });

  it("refuses an unknown login type with 400 M_UNKNOWN", async () => {
    const alice = await registerUser();
    const res = await call("POST", LOGIN, {
      body: { type: "m.login.magic", identifier: { type: "m.id.user", user: alice.username }, password: PASSWORD },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_UNKNOWN");
  });

  it("refuses identifier types it does not support and a missing identifier", async () => {
    const thirdParty = await call("POST", LOGIN, {
      body: { type: "m.login.password", identifier: { type: "m.id.thirdparty", medium: "email", address: "a@b.c" }, password: "x" },
    });
    expect(thirdParty.status).toBe(400);
    expect(thirdParty.body.errcode).toBe("M_UNKNOWN");
    const missing = await call("POST", LOGIN, { body: { type: "m.login.password", password: "x" } });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_MISSING_PARAM");
  });

  it("re-uses a given device_id: same id back, the device's old token revoked", async () => {
    const alice = await registerUser();
    const first = await loginOk(alice.username, PASSWORD, { device_id: "PHONE", initial_device_display_name: "Alice's phone" });
    expect(first.device_id).toBe("PHONE");
    const second = await loginOk(alice.username, PASSWORD, { device_id: "PHONE" });
    expect(second.device_id).toBe("PHONE");
    expect(second.access_token).not.toBe(first.access_token);

    const old = await whoami(first.access_token);
    expect(old.status).toBe(401);
    expect(old.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect((await whoami(second.access_token)).body.device_id).toBe("PHONE");

    // Still one device of that id, and it kept its name since no new one was given.
    const devices = await call("GET", "/_matrix/client/v3/devices", { token: second.access_token });
    const phones = devices.body.devices.filter((d: { device_id: string }) => d.device_id === "PHONE");
    expect(phones).toEqual([expect.objectContaining({ device_id: "PHONE", display_name: "Alice's phone" })]);
  });

  it("ignores initial_device_display_name for a device that already exists", async () => {
    const alice = await registerUser();
    await loginOk(alice.username, PASSWORD, { device_id: "NAMED", initial_device_display_name: "First name" });
    const again = await loginOk(alice.username, PASSWORD, { device_id: "NAMED", initial_device_display_name: "Second name" });
    const device = await call("GET", "/_matrix/client/v3/devices/NAMED", { token: again.access_token });
    expect(device.status).toBe(200);
    expect(device.body.display_name).toBe("First name");
  });

  it("shows initial_device_display_name in GET /devices", async () => {
    const alice = await registerUser();
    const session = await loginOk(alice.username, PASSWORD, { initial_device_display_name: "Laptop 🖥" });
    const res = await call("GET", "/_matrix/client/v3/devices", { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body.devices).toContainEqual(expect.objectContaining({ device_id: session.device_id, display_name: "Laptop 🖥" }));
  });

  it("returns a refresh token and expires_in_ms only when asked", async () => {
    const alice = await registerUser();
    const plain = await loginOk(alice.username);
    expect(plain.refresh_token).toBeUndefined();
    expect(plain.expires_in_ms).toBeUndefined();
    const explicitFalse = await loginOk(alice.username, PASSWORD, { refresh_token: false });
    expect(explicitFalse.refresh_token).toBeUndefined();
    expect(explicitFalse.expires_in_ms).toBeUndefined();

    const refreshing = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    expect(typeof refreshing.refresh_token).toBe("string");
    expect(refreshing.refresh_token).not.toBe(refreshing.access_token);
    expect(refreshing.expires_in_ms).toBeGreaterThan(0);
    expect((await whoami(refreshing.access_token)).status).toBe(200);
  });
});

describe("POST /refresh", () => {
  const REFRESH = "/_matrix/client/v3/refresh";

  async function refreshingSession() {
    const alice = await registerUser();
    return { alice, session: await loginOk(alice.username, PASSWORD, { refresh_token: true }) };
  }

  it("rotates the pair, and the new access token works", async () => {
    const { alice, session } = await refreshingSession();
    const res = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect(res.status).toBe(200);
    expect(typeof res.body.access_token).toBe("string");
    expect(typeof res.body.refresh_token).toBe("string");
    expect(res.body.expires_in_ms).toBeGreaterThan(0);
    expect(res.body.access_token).not.toBe(session.access_token);
    expect(res.body.refresh_token).not.toBe(session.refresh_token);
    const me = await whoami(res.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user_id: alice.user_id, device_id: session.device_id });
  });

  it("keeps the old refresh token valid until the new pair is used (a lost response can be retried)", async () => {
    const { session } = await refreshingSession();
    const first = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect(first.status).toBe(200);
    // The client never saw `first`; it retries with the same refresh token.
    const retry = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect(retry.status).toBe(200);
    expect(retry.body.access_token).not.toBe(first.body.access_token);
    expect((await whoami(retry.body.access_token)).status).toBe(200);
  });

  it("refuses the old refresh token once the new access token has been used", async () => {
    const { session } = await refreshingSession();
    const next = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect((await whoami(next.body.access_token)).status).toBe(200);
    const replay = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect(replay.status).toBe(401);
    expect(replay.body.errcode).toBe("M_UNKNOWN_TOKEN");
    // The new pair is unaffected by the refused replay.
    expect((await whoami(next.body.access_token)).status).toBe(200);
  });

  it("refuses the old refresh token once the new refresh token has been used", async () => {
    const { session } = await refreshingSession();
    const second = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    const third = await call("POST", REFRESH, { body: { refresh_token: second.body.refresh_token } });
    expect(third.status).toBe(200);
    const replay = await call("POST", REFRESH, { body: { refresh_token: session.refresh_token } });
    expect(replay.status).toBe(401);
    expect(replay.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect((await whoami(third.body.access_token)).status).toBe(200);
  });

  it("refuses an unknown refresh token with 401 M_UNKNOWN_TOKEN", async () => {
    const res = await call("POST", REFRESH, { body: { refresh_token: "syr_not_a_real_token" } });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
  });

  it("an expired access token answers 401 M_UNKNOWN_TOKEN with soft_logout, and refreshing recovers", async () => {
    const alice = await registerUser();
    const shortLived = { ACCESS_TOKEN_LIFETIME_MS: "1" };
    const res = await login(alice.username, PASSWORD, { refresh_token: true }, { envOverrides: shortLived });
    expect(res.status).toBe(200);
    expect(res.body.expires_in_ms).toBe(1);
    await sleep(20);
    const expired = await whoami(res.body.access_token);
    expect(expired.status).toBe(401);
    expect(expired.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect(expired.body.soft_logout).toBe(true);

    const refreshed = await call("POST", REFRESH, { body: { refresh_token: res.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    const me = await whoami(refreshed.body.access_token);
    expect(me.status).toBe(200);
    expect(me.body.device_id).toBe(res.body.device_id);
  });

  it("tokens issued without a refresh token do not expire", async () => {
    const alice = await registerUser();
    const res = await login(alice.username, PASSWORD, {}, { envOverrides: { ACCESS_TOKEN_LIFETIME_MS: "1" } });
    expect(res.status).toBe(200);
    await sleep(20);
    expect((await whoami(res.body.access_token)).status).toBe(200);
  });

  it("a revoked token is a hard logout (soft_logout false)", async () => {
    const alice = await registerUser();
    await call("POST", "/_matrix/client/v3/logout", { token: alice.access_token });
    const res = await whoami(alice.access_token);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect(res.body.soft_logout).toBe(false);
  });
});

describe("logout", () => {
  it("POST /logout revokes the token on the very next request and removes the device", async () => {
    const alice = await registerUser();
    const other = await loginOk(alice.username);
    const res = await call("POST", "/_matrix/client/v3/logout", { token: other.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const next = await whoami(other.access_token);
    expect(next.status).toBe(401);
    expect(next.body.errcode).toBe("M_UNKNOWN_TOKEN");
    // The user's other session is untouched and no longer lists the device.
    const devices = await call("GET", "/_matrix/client/v3/devices", { token: alice.access_token });
    expect(devices.status).toBe(200);
    expect(devices.body.devices.map((d: { device_id: string }) => d.device_id)).not.toContain(other.device_id);
  });

  it("POST /logout also revokes the device's refresh token", async () => {
    const alice = await registerUser();
    const session = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    expect((await call("POST", "/_matrix/client/v3/logout", { token: session.access_token })).status).toBe(200);
    const refresh = await call("POST", "/_matrix/client/v3/refresh", { body: { refresh_token: session.refresh_token } });
    expect(refresh.status).toBe(401);
    expect(refresh.body.errcode).toBe("M_UNKNOWN_TOKEN");
  });

  it("POST /logout/all revokes every token of the user at once", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const second = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    const res = await call("POST", "/_matrix/client/v3/logout/all", { token: alice.access_token });
    expect(res.status).toBe(200);
    for (const token of [alice.access_token, second.access_token]) {
      const next = await whoami(token);
      expect(next.status).toBe(401);
      expect(next.body.errcode).toBe("M_UNKNOWN_TOKEN");
    }
    expect((await call("POST", "/_matrix/client/v3/refresh", { body: { refresh_token: second.refresh_token } })).status).toBe(401);
    // Another user is not affected, and Alice can still log in again.
    expect((await whoami(bob.access_token)).status).toBe(200);
    const again = await loginOk(alice.username);
    const devices = await call("GET", "/_matrix/client/v3/devices", { token: again.access_token });
    expect(devices.body.devices.map((d: { device_id: string }) => d.device_id)).toEqual([again.device_id]);
  });

  it("logout needs a token", async () => {
    const res = await call("POST", "/_matrix/client/v3/logout");
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });
});
