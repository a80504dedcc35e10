/** User-Interactive Authentication (spec: Client-Server § User-Interactive Authentication API). */
import { describe, expect, it } from "vitest";
import { call, loginOk, passwordAuth, registerUser, uniqueName } from "./helpers";

const DELETE_DEVICES = "/_matrix/client/v3/delete_devices";

async function deviceIds(token: string): Promise<string[]> {
  const res = await call("GET", "/_matrix/client/v3/devices", { token });
  expect(res.status).toBe(200);
  return res.body.devices.map((d: { device_id: string }) => d.device_id);
}

/** A user with a second device, to be deleted through UIA. */
async function userWithSpareDevice() {
  const alice = await registerUser();
  const spare = await loginOk(alice.username);
  return { alice, spare };
}

describe("the first challenge", () => {
  it.each([
    ["POST /register", "POST", "/_matrix/client/v3/register", "m.login.dummy"],
    ["POST /account/password", "POST", "/_matrix/client/v3/account/password", "m.login.password"],
    ["POST /account/deactivate", "POST", "/_matrix/client/v3/account/deactivate", "m.login.password"],
    ["POST /delete_devices", "POST", DELETE_DEVICES, "m.login.password"],
    ["DELETE /devices/{id}", "DELETE", "/_matrix/client/v3/devices/:own", "m.login.password"],
  ])("%s answers 401 with flows, params, session, completed and no errcode", async (_name, method, path, stage) => {
    const alice = await registerUser();
    const body: Record<string, unknown> =
      path.endsWith("/register") ? { username: uniqueName(), password: "pw" } : path.endsWith("/password") ? { new_password: "new" } : {};
    if (path === DELETE_DEVICES) body.devices = [alice.device_id];
    const res = await call(method, path.replace(":own", alice.device_id), { body, token: alice.access_token });
    expect(res.status).toBe(401);
    expect(res.body.flows).toEqual([{ stages: [stage] }]);
    expect(res.body.params).toEqual({});
    expect(typeof res.body.session).toBe("string");
    expect(res.body.session.length).toBeGreaterThan(0);
    expect(res.body.completed).toEqual([]);
    expect(res.body).not.toHaveProperty("errcode");
    // Nothing happened: the token still works.
    expect((await call("GET", "/_matrix/client/v3/account/whoami", { token: alice.access_token })).status).toBe(200);
  });

  it("each challenge opens a new session", async () => {
    const alice = await registerUser();
    const a = await call("POST", DELETE_DEVICES, { body: { devices: [] }, token: alice.access_token });
    const b = await call("POST", DELETE_DEVICES, { body: { devices: [] }, token: alice.access_token });
    expect(a.body.session).not.toBe(b.body.session);
  });
});

describe("sessions", () => {
  it("a session is carried across attempts: challenge, failed stage, then success, all with one session id", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const start = await call("POST", DELETE_DEVICES, { body: { devices: [spare.device_id] }, token: alice.access_token });
    expect(start.status).toBe(401);
    const session = start.body.session as string;

    const wrong = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(alice.user_id, "wrong password", session) },
      token: alice.access_token,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errcode).toBe("M_FORBIDDEN");
    expect(typeof wrong.body.error).toBe("string");
    expect(wrong.body.session).toBe(session);
    expect(wrong.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    expect(wrong.body.completed).toEqual([]);
    expect(await deviceIds(alice.access_token)).toContain(spare.device_id);

    const ok = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(alice.user_id, undefined, session) },
      token: alice.access_token,
    });
    expect(ok.status).toBe(200);
    expect(await deviceIds(alice.access_token)).not.toContain(spare.device_id);
  });

  it("a registration session is completed by the dummy stage", async () => {
    const username = uniqueName();
    const start = await call("POST", "/_matrix/client/v3/register", { body: { username, password: "pw" } });
    const done = await call("POST", "/_matrix/client/v3/register", {
      body: { username, password: "pw", auth: { type: "m.login.dummy", session: start.body.session } },
    });
    expect(done.status).toBe(200);
    expect(done.body.user_id).toBe(`@${username}:test.local`);
  });

  it("a wrong stage type answers 401 with an errcode and the same session", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const start = await call("POST", DELETE_DEVICES, { body: { devices: [spare.device_id] }, token: alice.access_token });
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: { type: "m.login.dummy", session: start.body.session } },
      token: alice.access_token,
    });
    expect(res.status).toBe(401);
    expect(typeof res.body.errcode).toBe("string");
    expect(res.body.session).toBe(start.body.session);
    expect(res.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    expect(await deviceIds(alice.access_token)).toContain(spare.device_id);
  });

  it("a password stage for another user's id is refused with 401 and the same session", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const bob = await registerUser();
    const start = await call("POST", DELETE_DEVICES, { body: { devices: [spare.device_id] }, token: alice.access_token });
    // Bob's correct password does not authorise Alice's request.
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(bob.user_id, undefined, start.body.session) },
      token: alice.access_token,
    });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(res.body.session).toBe(start.body.session);
    expect(await deviceIds(alice.access_token)).toContain(spare.device_id);
  });

  it("accepts the deprecated `user` field and a localpart in the password stage", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: { type: "m.login.password", user: alice.username, password: alice.password } },
      token: alice.access_token,
    });
    expect(res.status).toBe(200);
    expect(await deviceIds(alice.access_token)).not.toContain(spare.device_id);
  });

  it("a session started on one endpoint is refused on another", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const onPassword = await call("POST", "/_matrix/client/v3/account/password", { body: { new_password: "x" }, token: alice.access_token });
    expect(onPassword.status).toBe(401);
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(alice.user_id, undefined, onPassword.body.session) },
      token: alice.access_token,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(await deviceIds(alice.access_token)).toContain(spare.device_id);
  });

  it("a session for deleting one device cannot delete another", async () => {
    const alice = await registerUser();
    const one = await loginOk(alice.username);
    const two = await loginOk(alice.username);
    const start = await call("DELETE", `/_matrix/client/v3/devices/${one.device_id}`, { token: alice.access_token });
    expect(start.status).toBe(401);
    const res = await call("DELETE", `/_matrix/client/v3/devices/${two.device_id}`, {
      body: { auth: passwordAuth(alice.user_id, undefined, start.body.session) },
      token: alice.access_token,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(await deviceIds(alice.access_token)).toEqual(expect.arrayContaining([one.device_id, two.device_id]));
  });

  it("a session started by one user is refused for another", async () => {
    const alice = await registerUser();
    const { alice: bob, spare } = await userWithSpareDevice();
    const aliceStart = await call("POST", DELETE_DEVICES, { body: { devices: [] }, token: alice.access_token });
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(bob.user_id, undefined, aliceStart.body.session) },
      token: bob.access_token,
    });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(await deviceIds(bob.access_token)).toContain(spare.device_id);
  });

  it("a completed session cannot be replayed", async () => {
    const alice = await registerUser();
    const one = await loginOk(alice.username);
    const two = await loginOk(alice.username);
    const start = await call("POST", DELETE_DEVICES, { body: { devices: [one.device_id] }, token: alice.access_token });
    const session = start.body.session as string;
    const done = await call("POST", DELETE_DEVICES, {
      body: { devices: [one.device_id], auth: passwordAuth(alice.user_id, undefined, session) },
      token: alice.access_token,
    });
    expect(done.status).toBe(200);

    // Replaying the finished session, with or without the stage, does not authorise a second deletion.
    for (const auth of [{ session }, { type: "m.login.dummy", session }, passwordAuth(alice.user_id, undefined, session)]) {
      const replay = await call("POST", DELETE_DEVICES, { body: { devices: [two.device_id], auth }, token: alice.access_token });
      expect(replay.status).toBeGreaterThanOrEqual(400);
      expect(replay.status).toBeLessThan(500);
      expect(typeof replay.body.errcode).toBe("string");
    }
    expect(await deviceIds(alice.access_token)).toContain(two.device_id);
  });

  it("a completed registration session cannot register a second account", async () => {
    const start = await call("POST", "/_matrix/client/v3/register", { body: { username: uniqueName(), password: "pw" } });
    const session = start.body.session as string;
    const first = await call("POST", "/_matrix/client/v3/register", {
      body: { username: uniqueName(), password: "pw", auth: { type: "m.login.dummy", session } },
    });
    expect(first.status).toBe(200);
    const second = await call("POST", "/_matrix/client/v3/register", {
      body: { username: uniqueName(), password: "pw", auth: { type: "m.login.dummy", session } },
    });
    expect(second.status).toBeGreaterThanOrEqual(400);
    expect(second.status).toBeLessThan(500);
    expect(second.body.access_token).toBeUndefined();
  });

  it("an unknown session id is refused", async () => {
    const { alice, spare } = await userWithSpareDevice();
    const res = await call("POST", DELETE_DEVICES, {
      body: { devices: [spare.device_id], auth: passwordAuth(alice.user_id, undefined, "no-such-session") },
      token: alice.access_token,
    });
    expect(res.status).toBe(400);
    expect(typeof res.body.errcode).toBe("string");
    expect(await deviceIds(alice.access_token)).toContain(spare.device_id);
  });
});
