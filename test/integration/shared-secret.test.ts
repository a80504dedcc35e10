/** Synapse-compatible shared-secret registration (`/_synapse/admin/v1/register`). */
import { describe, expect, it } from "vitest";
import { call, login, testEnv, uniqueName, whoami } from "./helpers";

const PATH = "/_synapse/admin/v1/register";
const SECRET = "shared-secret-for-tests";

/** HMAC-SHA1 over nonce\0username\0password\0admin|notadmin[\0user_type], hex — what synadm and Synapse's script send. */
async function mac(secret: string, nonce: string, username: string, password: string, admin: boolean, userType?: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  let message = `${nonce}\0${username}\0${password}\0${admin ? "admin" : "notadmin"}`;
  if (userType) message += `\0${userType}`;
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return Array.from(sig, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function nonce(): Promise<string> {
  const res = await call("GET", PATH);
  expect(res.status).toBe(200);
  expect(typeof res.body.nonce).toBe("string");
  return res.body.nonce;
}

async function isAdmin(userId: string): Promise<number | undefined> {
  const row = await testEnv.DB.prepare("SELECT is_admin FROM users WHERE user_id = ?").bind(userId).first<{ is_admin: number }>();
  return row?.is_admin;
}

describe("shared-secret registration", () => {
  it("GET gives a fresh nonce each time", async () => {
    const a = await nonce();
    const b = await nonce();
    expect(a.length).toBeGreaterThanOrEqual(16);
    expect(a).not.toBe(b);
  });

  it("creates a user with a correct MAC and returns a working access token", async () => {
    const n = await nonce();
    const username = uniqueName("ss");
    const res = await call("POST", PATH, {
      body: { nonce: n, username, password: "pw-one", admin: false, displayname: "Shared Secret User", mac: await mac(SECRET, n, username, "pw-one", false) },
    });
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(`@${username}:test.local`);
    expect(res.body.home_server).toBe("test.local");
    expect(typeof res.body.device_id).toBe("string");
    expect((await whoami(res.body.access_token)).body).toMatchObject({ user_id: res.body.user_id, device_id: res.body.device_id });
    expect(await isAdmin(res.body.user_id)).toBe(0);
    expect((await login(username, "pw-one")).status).toBe(200);
    const profile = await call("GET", `/_matrix/client/v3/profile/${encodeURIComponent(res.body.user_id)}/displayname`);
    expect(profile.body).toEqual({ displayname: "Shared Secret User" });
  });

  it("creates an admin when admin: true is signed", async () => {
    const n = await nonce();
    const username = uniqueName("admin");
    const res = await call("POST", PATH, { body: { nonce: n, username, password: "pw", admin: true, mac: await mac(SECRET, n, username, "pw", true) } });
    expect(res.status).toBe(200);
    expect(await isAdmin(res.body.user_id)).toBe(1);
  });

  it("covers user_type in the MAC when given", async () => {
    const n = await nonce();
    const username = uniqueName("bot");
    const res = await call("POST", PATH, {
      body: { nonce: n, username, password: "pw", admin: false, user_type: "bot", mac: await mac(SECRET, n, username, "pw", false, "bot") },
    });
    expect(res.status).toBe(200);
  });

  it("refuses a wrong MAC with 403 and creates nothing", async () => {
    const n = await nonce();
    const username = uniqueName("badmac");
    const wrongSecret = await call("POST", PATH, { body: { nonce: n, username, password: "pw", mac: await mac("not the secret", n, username, "pw", false) } });
    expect(wrongSecret.status).toBe(403);
    expect(wrongSecret.body.errcode).toBe("M_FORBIDDEN");

    // A MAC for a non-admin can't be turned into an admin registration.
    const n2 = await nonce();
    const escalate = await call("POST", PATH, { body: { nonce: n2, username, password: "pw", admin: true, mac: await mac(SECRET, n2, username, "pw", false) } });
    expect(escalate.status).toBe(403);
    expect(escalate.body.errcode).toBe("M_FORBIDDEN");

    expect(await isAdmin(`@${username}:test.local`)).toBeUndefined();
    expect((await call("GET", `/_matrix/client/v3/register/available?username=${username}`)).body).toEqual({ available: true });
  });

  it("refuses a nonce used twice, and a nonce it never gave", async () => {
    const n = await nonce();
    const first = uniqueName("n1");
    expect((await call("POST", PATH, { body: { nonce: n, username: first, password: "pw", mac: await mac(SECRET, n, first, "pw", false) } })).status).toBe(200);
    const second = uniqueName("n2");
    const reuse = await call("POST", PATH, { body: { nonce: n, username: second, password: "pw", mac: await mac(SECRET, n, second, "pw", false) } });
    expect(reuse.status).toBe(400);
    expect(typeof reuse.body.errcode).toBe("string");
    expect(reuse.body.access_token).toBeUndefined();

    const made = "made-up-nonce";
    const invented = await call("POST", PATH, { body: { nonce: made, username: second, password: "pw", mac: await mac(SECRET, made, second, "pw", false) } });
    expect(invented.status).toBe(400);
    expect(invented.body.access_token).toBeUndefined();
    expect((await call("GET", `/_matrix/client/v3/register/available?username=${second}`)).body).toEqual({ available: true });
  });

  it("applies the username rules", async () => {
    const n = await nonce();
    const res = await call("POST", PATH, { body: { nonce: n, username: "Not Valid", password: "pw", mac: await mac(SECRET, n, "Not Valid", "pw", false) } });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_USERNAME");
  });

  it("is off (404 M_UNRECOGNIZED) when REGISTRATION_SHARED_SECRET is unset", async () => {
    const off = { REGISTRATION_SHARED_SECRET: "" };
    const get = await call("GET", PATH, { envOverrides: off });
    expect(get.status).toBe(404);
    expect(get.body.errcode).toBe("M_UNRECOGNIZED");
    expect(get.body.nonce).toBeUndefined();

    // Even a nonce and MAC made while it was on do not work once it is off.
    const n = await nonce();
    const username = uniqueName("off");
    const post = await call("POST", PATH, { body: { nonce: n, username, password: "pw", mac: await mac(SECRET, n, username, "pw", false) }, envOverrides: off });
    expect(post.status).toBe(404);
    expect(post.body.errcode).toBe("M_UNRECOGNIZED");
    expect(post.body.access_token).toBeUndefined();
  });
});
