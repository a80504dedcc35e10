/**
 * What a new user does with matrix-js-sdk: find the server, register, log in, look after the
 * account, log out, refresh tokens — and find everything still there after the server restarts.
 */
import * as sdk from "matrix-js-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, expectMatrixError, loginUser, registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";
import { removeStateDir, startServer, type ServerHandle } from "./support/server";

const { baseUrl, serverName } = sharedServer();

describe("discovery", () => {
  it("finds the homeserver through .well-known/matrix/client and /versions (AutoDiscovery)", async () => {
    const config = await sdk.AutoDiscovery.findClientConfig(baseUrl);
    expect(config["m.homeserver"]).toMatchObject({ state: sdk.AutoDiscovery.SUCCESS, error: null, base_url: baseUrl });
  });

  it("advertises spec versions the SDK supports", async () => {
    const client = createClient(baseUrl);
    const versions = await client.getVersions();
    expect(versions.versions).toEqual(expect.arrayContaining(["v1.1"]));
    expect(await client.isVersionSupported("v1.1")).toBe(true);
    // matrix-js-sdk refuses servers without one of v1.1–v1.13 (shared/CLIENTS.md).
    const sdkVersions = Array.from({ length: 13 }, (_, i) => `v1.${i + 1}`);
    expect(versions.versions.some((v) => sdkVersions.includes(v))).toBe(true);
  });

  it("offers password login", async () => {
    const flows = await createClient(baseUrl).loginFlows();
    expect(flows.flows.map((f) => f.type)).toContain("m.login.password");
  });
});

describe("a new account", () => {
  let account: Account;

  beforeAll(async () => {
    account = await registerUser(baseUrl, { username: uniqueUsername("alice") });
  });

  it("registers through the m.login.dummy stage and is who it says", async () => {
    expect(account.userId).toBe(`@${account.username}:${serverName}`);
    const me = await account.client.whoami();
    expect(me).toMatchObject({ user_id: account.userId, device_id: account.deviceId });
  });

  it("cannot register the same username twice", async () => {
    const again = createClient(baseUrl).registerRequest({ username: account.username, password: "whatever", auth: { type: "m.login.dummy" } });
    await expectMatrixError(again, 400, "M_USER_IN_USE");
  });

  it("logs in with its password on a new device", async () => {
    const session = await loginUser(baseUrl, account.username, account.password);
    expect(session.userId).toBe(account.userId);
    expect(session.deviceId).not.toBe(account.deviceId);
    expect(await session.client.whoami()).toMatchObject({ user_id: account.userId, device_id: session.deviceId });
    // Full user ids work as the identifier too.
    const byId = await loginUser(baseUrl, account.userId, account.password);
    expect(byId.userId).toBe(account.userId);
  });

  it("is refused with a wrong password or an unknown user", async () => {
    await expectMatrixError(loginUser(baseUrl, account.username, "not-the-password"), 403, "M_FORBIDDEN");
    await expectMatrixError(loginUser(baseUrl, uniqueUsername("nobody"), "whatever"), 403, "M_FORBIDDEN");
  });

  it("sets its display name and everyone can read it", async () => {
    await account.client.setDisplayName("Alice Ⓐ Example");
    expect(await account.client.getProfileInfo(account.userId)).toMatchObject({ displayname: "Alice Ⓐ Example" });
    expect(await account.client.getProfileInfo(account.userId, "displayname")).toEqual({ displayname: "Alice Ⓐ Example" });
    // Another user sees the same profile.
    const bob = await registerUser(baseUrl, { username: uniqueUsername("bob") });
    expect(await bob.client.getProfileInfo(account.userId, "displayname")).toEqual({ displayname: "Alice Ⓐ Example" });
    // And nobody can change someone else's.
    await expectMatrixError(bob.client.http.authedRequest(sdk.Method.Put, `/profile/${encodeURIComponent(account.userId)}/displayname`, undefined, { displayname: "Mallory" }), 403, "M_FORBIDDEN");
  });
});

describe("changing the password", () => {
  it("goes through user-interactive auth with the old password; the new one works and the old one doesn't", async () => {
    const account = await registerUser(baseUrl, { username: uniqueUsername("carol") });
    const otherDevice = await loginUser(baseUrl, account.username, account.password);
    const newPassword = `${account.password}-new`;

    // First call without auth: 401 with the flows and a session.
    const challenge = await expectMatrixError(account.client.setPassword(undefined as unknown as sdk.AuthDict, newPassword), 401);
    const session = challenge.data.session as string;
    expect(session).toEqual(expect.any(String));
    expect(challenge.data.flows).toEqual(expect.arrayContaining([{ stages: ["m.login.password"] }]));

    // A wrong password fails the stage and keeps the session going.
    const identifier = { type: "m.id.user", user: account.userId };
    const wrong = await expectMatrixError(
      account.client.setPassword({ type: sdk.AuthType.Password, identifier, password: "wrong", session }, newPassword),
      401,
      "M_FORBIDDEN",
    );
    expect(wrong.data.session).toBe(session);

    await account.client.setPassword({ type: sdk.AuthType.Password, identifier, password: account.password, session }, newPassword);

    // The device that changed the password stays logged in; other devices are logged out by default.
    expect(await account.client.whoami()).toMatchObject({ user_id: account.userId });
    await expectMatrixError(otherDevice.client.whoami(), 401, "M_UNKNOWN_TOKEN");

    await expectMatrixError(loginUser(baseUrl, account.username, account.password), 403, "M_FORBIDDEN");
    const relogin = await loginUser(baseUrl, account.username, newPassword);
    expect(await relogin.client.whoami()).toMatchObject({ user_id: account.userId });
  });
});

describe("logging out", () => {
  it("invalidates the access token", async () => {
    const account = await registerUser(baseUrl);
    const session = await loginUser(baseUrl, account.username, account.password);
    await session.client.logout();
    await expectMatrixError(session.client.whoami(), 401, "M_UNKNOWN_TOKEN");
    // The registration device is untouched.
    expect(await account.client.whoami()).toMatchObject({ user_id: account.userId });
  });

  it("logs out every device with /logout/all", async () => {
    const account = await registerUser(baseUrl);
    const second = await loginUser(baseUrl, account.username, account.password);
    // matrix-js-sdk has no helper for this endpoint; Element calls it through the raw HTTP API.
    await second.client.http.authedRequest(sdk.Method.Post, "/logout/all");
    await expectMatrixError(second.client.whoami(), 401, "M_UNKNOWN_TOKEN");
    await expectMatrixError(account.client.whoami(), 401, "M_UNKNOWN_TOKEN");
  });
});

describe("deactivating the account", () => {
  it("asks for the password, then the account can neither be used nor logged into", async () => {
    const account = await registerUser(baseUrl);
    const challenge = await expectMatrixError(account.client.deactivateAccount(), 401);
    const session = challenge.data.session as string;
    expect(challenge.data.flows).toEqual(expect.arrayContaining([{ stages: ["m.login.password"] }]));

    await account.client.deactivateAccount({ type: sdk.AuthType.Password, identifier: { type: "m.id.user", user: account.username }, password: account.password, session });

    await expectMatrixError(account.client.whoami(), 401, "M_UNKNOWN_TOKEN");
    // Synapse answers M_USER_DEACTIVATED here, Stratus M_FORBIDDEN; either way the login is refused.
    await expectMatrixError(loginUser(baseUrl, account.username, account.password), 403);
    // The user id is never handed out again.
    await expectMatrixError(createClient(baseUrl).registerRequest({ username: account.username, password: "again", auth: { type: "m.login.dummy" } }), 400, "M_USER_IN_USE");
  });
});

describe("refresh tokens", () => {
  it("logs in with refresh_token: true and exchanges the refresh token for a new pair", async () => {
    const account = await registerUser(baseUrl);
    const session = await loginUser(baseUrl, account.username, account.password, { refreshToken: true });
    expect(session.refreshToken).toEqual(expect.any(String));
    expect(await session.client.whoami()).toMatchObject({ user_id: account.userId, device_id: session.deviceId });

    const refreshed = await createClient(baseUrl).refreshToken(session.refreshToken!);
    expect(refreshed.access_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.access_token).not.toBe(session.accessToken);
    expect(refreshed.refresh_token).not.toBe(session.refreshToken);
    expect(refreshed.expires_in_ms).toBeGreaterThan(0);

    const renewed = createClient(baseUrl, { accessToken: refreshed.access_token, userId: account.userId, deviceId: session.deviceId });
    expect(await renewed.whoami()).toMatchObject({ user_id: account.userId, device_id: session.deviceId });

    // Once the new pair has been used, the old tokens are gone.
    await expectMatrixError(createClient(baseUrl).refreshToken(session.refreshToken!), 401, "M_UNKNOWN_TOKEN");
    await expectMatrixError(session.client.whoami(), 401, "M_UNKNOWN_TOKEN");

    // And the new refresh token works in turn.
    const again = await createClient(baseUrl).refreshToken(refreshed.refresh_token!);
    const third = createClient(baseUrl, { accessToken: again.access_token, userId: account.userId, deviceId: session.deviceId });
    expect(await third.whoami()).toMatchObject({ user_id: account.userId, device_id: session.deviceId });
  });

  it("refuses an unknown refresh token", async () => {
    await expectMatrixError(createClient(baseUrl).refreshToken("syr_not-a-real-token"), 401, "M_UNKNOWN_TOKEN");
  });
});

describe("a restart of the server", () => {
  // A server of its own, so stopping it doesn't disturb the other tests.
  let server: ServerHandle | undefined;
  let stateDir: string | undefined;

  afterAll(async () => {
    await server?.stop();
    if (stateDir) removeStateDir(stateDir);
  });

  async function serverKeys(base: string): Promise<{ server_name: string; verify_keys: Record<string, { key: string }> }> {
    const res = await fetch(`${base}/_matrix/key/v2/server`);
    expect(res.status).toBe(200);
    return (await res.json()) as { server_name: string; verify_keys: Record<string, { key: string }> };
  }

  it("keeps accounts, profiles, tokens and the signing key", async () => {
    server = await startServer();
    stateDir = server.stateDir;
    const { port, serverName: name } = server;

    const account = await registerUser(server.baseUrl, { username: uniqueUsername("dave") });
    await account.client.setDisplayName("Dave Before Restart");
    const keysBefore = await serverKeys(server.baseUrl);
    expect(keysBefore.server_name).toBe(name);
    expect(Object.keys(keysBefore.verify_keys)).toHaveLength(1);

    await server.stop();
    // Same port, state folder and server name: the same homeserver, started again.
    server = await startServer({ port, stateDir, serverName: name });

    const session = await loginUser(server.baseUrl, account.username, account.password);
    expect(session.userId).toBe(account.userId);
    expect(await session.client.getProfileInfo(account.userId, "displayname")).toEqual({ displayname: "Dave Before Restart" });
    // The access token issued before the restart still works.
    expect(await account.client.whoami()).toMatchObject({ user_id: account.userId, device_id: account.deviceId });

    const keysAfter = await serverKeys(server.baseUrl);
    expect(keysAfter.verify_keys).toEqual(keysBefore.verify_keys);
  }, 150_000); // two server starts
});
