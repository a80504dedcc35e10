/** Account management (spec: Client-Server § Account registration and management). */
import { describe, expect, it } from "vitest";
import { call, login, loginOk, PASSWORD, passwordAuth, registerUser, whoami } from "./helpers";

const CHANGE_PASSWORD = "/_matrix/client/v3/account/password";
const DEACTIVATE = "/_matrix/client/v3/account/deactivate";

describe("GET /account/whoami", () => {
  it("returns the user id and device id of the token", async () => {
    const alice = await registerUser();
    const res = await whoami(alice.access_token);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ user_id: alice.user_id, device_id: alice.device_id, is_guest: false });
  });

  it("tells two devices of one user apart", async () => {
    const alice = await registerUser();
    const other = await loginOk(alice.username);
    expect((await whoami(other.access_token)).body).toMatchObject({ user_id: alice.user_id, device_id: other.device_id });
    expect(other.device_id).not.toBe(alice.device_id);
  });

  it("accepts the token as the access_token query parameter", async () => {
    const alice = await registerUser();
    const res = await call("GET", `/_matrix/client/v3/account/whoami?access_token=${encodeURIComponent(alice.access_token)}`);
    expect(res.status).toBe(200);
    expect(res.body.user_id).toBe(alice.user_id);
  });
});

describe("POST /account/password", () => {
  async function changePassword(token: string, userId: string, newPassword: string, extra: Record<string, unknown> = {}, oldPassword = PASSWORD) {
    return call("POST", CHANGE_PASSWORD, { body: { new_password: newPassword, auth: passwordAuth(userId, oldPassword), ...extra }, token });
  }

  it("needs UIA with the current password", async () => {
    const alice = await registerUser();
    const challenge = await call("POST", CHANGE_PASSWORD, { body: { new_password: "new" }, token: alice.access_token });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    const wrong = await changePassword(alice.access_token, alice.user_id, "new", {}, "not my password");
    expect(wrong.status).toBe(401);
    expect(wrong.body.errcode).toBe("M_FORBIDDEN");
    // Nothing changed.
    expect((await login(alice.username, PASSWORD)).status).toBe(200);
    expect((await login(alice.username, "new")).status).toBe(403);
  });

  it("the new password works, the old one no longer does", async () => {
    const alice = await registerUser();
    const res = await changePassword(alice.access_token, alice.user_id, "a brand new password");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const old = await login(alice.username, PASSWORD);
    expect(old.status).toBe(403);
    expect(old.body.errcode).toBe("M_FORBIDDEN");
    expect((await login(alice.username, "a brand new password")).status).toBe(200);
  });

  it("logs out the other devices by default and keeps the current one", async () => {
    const alice = await registerUser();
    const other = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    const res = await changePassword(alice.access_token, alice.user_id, "another new password");
    expect(res.status).toBe(200);

    const gone = await whoami(other.access_token);
    expect(gone.status).toBe(401);
    expect(gone.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect((await call("POST", "/_matrix/client/v3/refresh", { body: { refresh_token: other.refresh_token } })).status).toBe(401);

    const me = await whoami(alice.access_token);
    expect(me.status).toBe(200);
    expect(me.body.device_id).toBe(alice.device_id);
    const devices = await call("GET", "/_matrix/client/v3/devices", { token: alice.access_token });
    expect(devices.body.devices.map((d: { device_id: string }) => d.device_id)).toEqual([alice.device_id]);
  });

  it("keeps the other devices with logout_devices: false", async () => {
    const alice = await registerUser();
    const other = await loginOk(alice.username);
    const res = await changePassword(alice.access_token, alice.user_id, "kept devices password", { logout_devices: false });
    expect(res.status).toBe(200);
    expect((await whoami(other.access_token)).status).toBe(200);
    expect((await whoami(alice.access_token)).status).toBe(200);
    expect((await login(alice.username, "kept devices password")).status).toBe(200);
  });

  it("refuses an empty new password with M_WEAK_PASSWORD", async () => {
    const alice = await registerUser();
    const res = await changePassword(alice.access_token, alice.user_id, "");
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_WEAK_PASSWORD");
    expect((await login(alice.username, PASSWORD)).status).toBe(200);
  });

  it("needs new_password", async () => {
    const alice = await registerUser();
    const res = await call("POST", CHANGE_PASSWORD, { body: { auth: passwordAuth(alice.user_id) }, token: alice.access_token });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_BAD_JSON");
  });

  it("needs an access token", async () => {
    const res = await call("POST", CHANGE_PASSWORD, { body: { new_password: "x" } });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });
});

describe("POST /account/deactivate", () => {
  it("needs UIA, and a wrong password leaves the account alone", async () => {
    const alice = await registerUser();
    const challenge = await call("POST", DEACTIVATE, { body: {}, token: alice.access_token });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    const wrong = await call("POST", DEACTIVATE, { body: { auth: passwordAuth(alice.user_id, "wrong") }, token: alice.access_token });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errcode).toBe("M_FORBIDDEN");
    expect((await whoami(alice.access_token)).status).toBe(200);
  });

  it("kills every token, forbids login, keeps the name taken and hides the profile", async () => {
    const alice = await registerUser();
    const other = await loginOk(alice.username, PASSWORD, { refresh_token: true });
    const res = await call("POST", DEACTIVATE, { body: { auth: passwordAuth(alice.user_id) }, token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body.id_server_unbind_result).toBe("no-support");

    for (const token of [alice.access_token, other.access_token]) {
      const dead = await whoami(token);
      expect(dead.status).toBe(401);
      expect(dead.body.errcode).toBe("M_UNKNOWN_TOKEN");
    }
    expect((await call("POST", "/_matrix/client/v3/refresh", { body: { refresh_token: other.refresh_token } })).status).toBe(401);

    const again = await login(alice.username, PASSWORD);
    expect(again.status).toBe(403);
    expect(["M_FORBIDDEN", "M_USER_DEACTIVATED"]).toContain(again.body.errcode);
    expect(again.body.access_token).toBeUndefined();

    const reRegister = await call("POST", "/_matrix/client/v3/register", {
      body: { username: alice.username, password: "x", auth: { type: "m.login.dummy" } },
    });
    expect(reRegister.status).toBe(400);
    expect(reRegister.body.errcode).toBe("M_USER_IN_USE");

    const profile = await call("GET", `/_matrix/client/v3/profile/${encodeURIComponent(alice.user_id)}`);
    expect(profile.status).toBe(404);
    expect(profile.body.errcode).toBe("M_NOT_FOUND");
  });
});

describe("third-party identifiers", () => {
  it("lists none and refuses to add one", async () => {
    const alice = await registerUser();
    const list = await call("GET", "/_matrix/client/v3/account/3pid", { token: alice.access_token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ threepids: [] });
    const add = await call("POST", "/_matrix/client/v3/account/3pid/email/requestToken", {
      body: { client_secret: "s", email: "a@example.org", send_attempt: 1 },
      token: alice.access_token,
    });
    // Fails closed: no email is ever sent, so no third-party id can be added.
    expect([403, 404]).toContain(add.status);
    expect(["M_THREEPID_DENIED", "M_UNRECOGNIZED"]).toContain(add.body.errcode);
    expect(add.body.sid).toBeUndefined();
  });
});
