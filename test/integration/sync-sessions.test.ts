/**
 * /sync and sliding sync have their access token checked by the user's object, from its copy of
 * the D1 row (services/sessions.ts, docs/design/sync.md § Who checks a sync's token). Each test
 * first syncs twice, so the object holds the token, then revokes it in one of the ways a user or
 * admin can: the very next sync must be refused, as every other route refuses it (DESIGN §1).
 * The same object keeps each device's key counts; they must follow uploads, claims and deletes.
 */
import { describe, expect, it } from "vitest";
import { call, loginOk, PASSWORD, registerUser, sleep } from "./helpers";
import { deviceKeys, deviceSigningKey, signedKey, uploadKeysOk, V3 } from "./e2ee-helpers";

type Login = { user_id: string; access_token: string; device_id: string; refresh_token?: string };

function syncWith(token: string, query = "timeout=0") {
  return call("GET", `${V3}/sync?${query}`, { token });
}

/** Two syncs: the first teaches this isolate the token's owner, the second has the user object check it and keep it. */
async function warm(token: string): Promise<string> {
  const first = await syncWith(token);
  expect(first.status).toBe(200);
  const second = await syncWith(token, `since=${first.body.next_batch}&timeout=0`);
  expect(second.status).toBe(200);
  return second.body.next_batch;
}

async function expectRefused(token: string, softLogout = false) {
  const res = await syncWith(token);
  expect(res.status).toBe(401);
  expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
  expect(res.body.soft_logout).toBe(softLogout);
}

const auth = (s: { user_id: string }) => ({ type: "m.login.password", identifier: { type: "m.id.user", user: s.user_id }, password: PASSWORD });

describe("a sync's token is checked by the user object and revoked at once", () => {
  it("after POST /logout", async () => {
    const alice = await registerUser();
    await warm(alice.access_token);
    expect((await call("POST", `${V3}/logout`, { token: alice.access_token })).status).toBe(200);
    await expectRefused(alice.access_token);
  });

  it("after POST /logout/all, for every device", async () => {
    const alice = await registerUser();
    const phone: Login = await loginOk(alice.username);
    await warm(alice.access_token);
    await warm(phone.access_token);
    expect((await call("POST", `${V3}/logout/all`, { token: phone.access_token })).status).toBe(200);
    await expectRefused(alice.access_token);
    await expectRefused(phone.access_token);
  });

  it("after DELETE /devices/{id} and POST /delete_devices, and only for those devices", async () => {
    const alice = await registerUser();
    const laptop: Login = await loginOk(alice.username);
    const phone: Login = await loginOk(alice.username);
    for (const s of [alice, laptop, phone]) await warm(s.access_token);
    const del = await call("DELETE", `${V3}/devices/${laptop.device_id}`, { token: alice.access_token, body: { auth: auth(alice) } });
    expect(del.status).toBe(200);
    await expectRefused(laptop.access_token);
    const bulk = await call("POST", `${V3}/delete_devices`, { token: alice.access_token, body: { devices: [phone.device_id], auth: auth(alice) } });
    expect(bulk.status).toBe(200);
    await expectRefused(phone.access_token);
    expect((await syncWith(alice.access_token)).status).toBe(200);
  });

  it("after a password change that logs out the other devices", async () => {
    const alice = await registerUser();
    const phone: Login = await loginOk(alice.username);
    await warm(phone.access_token);
    await warm(alice.access_token);
    const res = await call("POST", `${V3}/account/password`, { token: alice.access_token, body: { new_password: "another fine passphrase", auth: auth(alice) } });
    expect(res.status).toBe(200);
    await expectRefused(phone.access_token);
    expect((await syncWith(alice.access_token)).status).toBe(200);
  });

  it("after deactivation", async () => {
    const alice = await registerUser();
    await warm(alice.access_token);
    const res = await call("POST", `${V3}/account/deactivate`, { token: alice.access_token, body: { auth: auth(alice) } });
    expect(res.status).toBe(200);
    await expectRefused(alice.access_token);
  });

  it("after logging in again with the same device_id", async () => {
    const alice = await registerUser();
    await warm(alice.access_token);
    const again: Login = await loginOk(alice.username, PASSWORD, { device_id: alice.device_id });
    await expectRefused(alice.access_token);
    expect((await syncWith(again.access_token)).status).toBe(200);
  });

  it("after a refresh, once the new access token is used", async () => {
    const alice = await registerUser();
    const session: Login = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    await warm(session.access_token);
    const next = await call("POST", `${V3}/refresh`, { body: { refresh_token: session.refresh_token } });
    expect(next.status).toBe(200);
    // Until the new pair is used the old one stays valid (a lost response can be retried).
    expect((await syncWith(session.access_token)).status).toBe(200);
    await warm(next.body.access_token);
    await expectRefused(session.access_token);
  });

  it("an expired token is refused with soft_logout, even when the object holds it", async () => {
    const alice = await registerUser();
    const res = await call("POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: alice.username }, password: PASSWORD, refresh_token: true },
      envOverrides: { ACCESS_TOKEN_LIFETIME_MS: "1500" },
    });
    expect(res.status).toBe(200);
    await warm(res.body.access_token);
    await sleep(1600);
    await expectRefused(res.body.access_token, true);
  });

  it("a revoked token with a malformed request is told about the token first", async () => {
    const alice = await registerUser();
    await warm(alice.access_token);
    await call("POST", `${V3}/logout`, { token: alice.access_token });
    const res = await syncWith(alice.access_token, "since=not-a-token&timeout=0");
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
  });

  it("sliding sync refuses a revoked token too", async () => {
    const alice = await registerUser();
    const path = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync?timeout=0";
    const body = { lists: { all: { ranges: [[0, 10]], required_state: [], timeline_limit: 1 } }, extensions: { e2ee: { enabled: true } } };
    for (let i = 0; i < 2; i++) expect((await call("POST", path, { token: alice.access_token, body })).status).toBe(200);
    await call("POST", `${V3}/logout`, { token: alice.access_token });
    const res = await call("POST", path, { token: alice.access_token, body });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_UNKNOWN_TOKEN");
  });
});

describe("key counts in /sync follow uploads, claims and deleted devices", () => {
  async function counts(s: Login) {
    const res = await syncWith(s.access_token);
    expect(res.status).toBe(200);
    return { otk: res.body.device_one_time_keys_count, fallback: res.body.device_unused_fallback_key_types };
  }

  it("an upload raises the count, a claim by another user lowers it, and a used fallback key leaves the list", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const own = await deviceSigningKey(alice);
    expect(await counts(alice)).toEqual({ otk: { signed_curve25519: 0 }, fallback: [] });
    await uploadKeysOk(alice, {
      one_time_keys: { "signed_curve25519:AAAA": await signedKey(own, "a1"), "signed_curve25519:AAAB": await signedKey(own, "a2") },
      fallback_keys: { "signed_curve25519:FFFF": await signedKey(own, "f1", true) },
    });
    expect(await counts(alice)).toEqual({ otk: { signed_curve25519: 2 }, fallback: ["signed_curve25519"] });

    const claim = () => call("POST", `${V3}/keys/claim`, { token: bob.access_token, body: { one_time_keys: { [alice.user_id]: { [alice.device_id]: "signed_curve25519" } } } });
    expect((await claim()).status).toBe(200);
    expect((await counts(alice)).otk).toEqual({ signed_curve25519: 1 });
    await claim();
    expect((await counts(alice)).otk).toEqual({ signed_curve25519: 0 });
    // No one-time key left: the fallback key is handed out and no longer unused.
    await claim();
    expect(await counts(alice)).toEqual({ otk: { signed_curve25519: 0 }, fallback: [] });
  });

  it("the long-poll an upload wakes already counts the uploaded one-time keys (else the client uploads another batch)", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const since = (await syncWith(alice.access_token)).body.next_batch;
    const poll = syncWith(alice.access_token, `since=${since}&timeout=10000`);
    await sleep(100);
    await uploadKeysOk(alice, {
      device_keys: await deviceKeys(alice, own),
      one_time_keys: { "signed_curve25519:AAAA": await signedKey(own, "a1"), "signed_curve25519:AAAB": await signedKey(own, "a2") },
    });
    const woken = await poll;
    expect(woken.status).toBe(200);
    expect(woken.body.device_one_time_keys_count).toEqual({ signed_curve25519: 2 });
  });

  it("a device logged out and logged in again under the same id starts with no keys", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    await uploadKeysOk(alice, { one_time_keys: { "signed_curve25519:AAAA": await signedKey(own, "a1") } });
    expect((await counts(alice)).otk).toEqual({ signed_curve25519: 1 });
    await call("POST", `${V3}/logout`, { token: alice.access_token });
    const again: Login = await loginOk(alice.username, PASSWORD, { device_id: alice.device_id });
    expect(await counts(again)).toEqual({ otk: { signed_curve25519: 0 }, fallback: [] });
  });
});
