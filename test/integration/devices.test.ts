/** Device management (spec: Client-Server § Device management). */
import { describe, expect, it } from "vitest";
import { call, loginOk, PASSWORD, passwordAuth, registerUser, whoami } from "./helpers";

const DEVICES = "/_matrix/client/v3/devices";

async function deviceIds(token: string): Promise<string[]> {
  const res = await call("GET", DEVICES, { token });
  expect(res.status).toBe(200);
  return res.body.devices.map((d: { device_id: string }) => d.device_id);
}

describe("listing and reading devices", () => {
  it("GET /devices lists every device of the user with its details", async () => {
    const alice = await registerUser();
    const tablet = await loginOk(alice.username, PASSWORD, { initial_device_display_name: "Tablet" });
    const res = await call("GET", DEVICES, { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body.devices).toHaveLength(2);
    const ids = res.body.devices.map((d: { device_id: string }) => d.device_id);
    expect(ids).toEqual(expect.arrayContaining([alice.device_id, tablet.device_id]));
    const entry = res.body.devices.find((d: { device_id: string }) => d.device_id === tablet.device_id);
    expect(entry.display_name).toBe("Tablet");
    expect(typeof entry.last_seen_ts).toBe("number");
  });

  it("GET /devices/{id} returns one device", async () => {
    const alice = await registerUser();
    const tablet = await loginOk(alice.username, PASSWORD, { initial_device_display_name: "Tablet" });
    const res = await call("GET", `${DEVICES}/${tablet.device_id}`, { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ device_id: tablet.device_id, display_name: "Tablet" });
  });

  it("answers 404 M_NOT_FOUND for an unknown device", async () => {
    const alice = await registerUser();
    const res = await call("GET", `${DEVICES}/NOSUCHDEVICE`, { token: alice.access_token });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });

  it("handles device ids that need URL encoding", async () => {
    const alice = await registerUser();
    const odd = await loginOk(alice.username, PASSWORD, { device_id: "odd/device id?#" });
    expect(odd.device_id).toBe("odd/device id?#");
    const res = await call("GET", `${DEVICES}/${encodeURIComponent(odd.device_id)}`, { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body.device_id).toBe("odd/device id?#");
  });

  it("needs an access token", async () => {
    const res = await call("GET", DEVICES);
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });
});

describe("PUT /devices/{id}", () => {
  it("renames a device", async () => {
    const alice = await registerUser();
    const res = await call("PUT", `${DEVICES}/${alice.device_id}`, { body: { display_name: "Renamed ✓" }, token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const device = await call("GET", `${DEVICES}/${alice.device_id}`, { token: alice.access_token });
    expect(device.body.display_name).toBe("Renamed ✓");
    // A body without display_name changes nothing.
    expect((await call("PUT", `${DEVICES}/${alice.device_id}`, { body: {}, token: alice.access_token })).status).toBe(200);
    expect((await call("GET", `${DEVICES}/${alice.device_id}`, { token: alice.access_token })).body.display_name).toBe("Renamed ✓");
  });

  it("answers 404 for an unknown device, with or without a name", async () => {
    const alice = await registerUser();
    for (const body of [{ display_name: "x" }, {}]) {
      const res = await call("PUT", `${DEVICES}/NOSUCHDEVICE`, { body, token: alice.access_token });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
  });

  it("refuses a display_name that is not a string", async () => {
    const alice = await registerUser();
    const res = await call("PUT", `${DEVICES}/${alice.device_id}`, { body: { display_name: 42 }, token: alice.access_token });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_BAD_JSON");
  });
});

describe("DELETE /devices/{id}", () => {
  it("needs UIA, then removes the device and revokes its token", async () => {
    const alice = await registerUser();
    const spare = await loginOk(alice.username);
    const challenge = await call("DELETE", `${DEVICES}/${spare.device_id}`, { token: alice.access_token });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    expect((await whoami(spare.access_token)).status).toBe(200);

    const res = await call("DELETE", `${DEVICES}/${spare.device_id}`, {
      body: { auth: passwordAuth(alice.user_id, PASSWORD, challenge.body.session) },
      token: alice.access_token,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const dead = await whoami(spare.access_token);
    expect(dead.status).toBe(401);
    expect(dead.body.errcode).toBe("M_UNKNOWN_TOKEN");
    expect(await deviceIds(alice.access_token)).toEqual([alice.device_id]);
    const gone = await call("GET", `${DEVICES}/${spare.device_id}`, { token: alice.access_token });
    expect(gone.status).toBe(404);
  });

  it("answers 404 for an unknown device", async () => {
    const alice = await registerUser();
    const res = await call("DELETE", `${DEVICES}/NOSUCHDEVICE`, { body: { auth: passwordAuth(alice.user_id) }, token: alice.access_token });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });
});

describe("POST /delete_devices", () => {
  it("needs UIA, then removes the listed devices only", async () => {
    const alice = await registerUser();
    const one = await loginOk(alice.username);
    const two = await loginOk(alice.username);
    const keep = await loginOk(alice.username);
    const challenge = await call("POST", "/_matrix/client/v3/delete_devices", { body: { devices: [one.device_id, two.device_id] }, token: alice.access_token });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    expect(await deviceIds(alice.access_token)).toHaveLength(4);

    const res = await call("POST", "/_matrix/client/v3/delete_devices", {
      body: { devices: [one.device_id, two.device_id, "NOSUCHDEVICE"], auth: passwordAuth(alice.user_id, PASSWORD, challenge.body.session) },
      token: alice.access_token,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    for (const token of [one.access_token, two.access_token]) expect((await whoami(token)).status).toBe(401);
    expect((await whoami(keep.access_token)).status).toBe(200);
    expect((await deviceIds(alice.access_token)).sort()).toEqual([alice.device_id, keep.device_id].sort());
  });

  it("needs a devices list", async () => {
    const alice = await registerUser();
    const res = await call("POST", "/_matrix/client/v3/delete_devices", { body: { auth: passwordAuth(alice.user_id) }, token: alice.access_token });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_BAD_JSON");
  });
});

describe("another user's devices", () => {
  it("are invisible: not listed, 404 on read, rename and delete, untouched by delete_devices", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    expect(await deviceIds(alice.access_token)).not.toContain(bob.device_id);

    const read = await call("GET", `${DEVICES}/${bob.device_id}`, { token: alice.access_token });
    expect(read.status).toBe(404);
    expect(read.body.errcode).toBe("M_NOT_FOUND");

    const rename = await call("PUT", `${DEVICES}/${bob.device_id}`, { body: { display_name: "pwned" }, token: alice.access_token });
    expect(rename.status).toBe(404);
    expect(rename.body.errcode).toBe("M_NOT_FOUND");

    const del = await call("DELETE", `${DEVICES}/${bob.device_id}`, { body: { auth: passwordAuth(alice.user_id) }, token: alice.access_token });
    expect(del.status).toBe(404);

    const bulk = await call("POST", "/_matrix/client/v3/delete_devices", {
      body: { devices: [bob.device_id], auth: passwordAuth(alice.user_id) },
      token: alice.access_token,
    });
    expect(bulk.status).toBe(200);

    // Bob's session and device are exactly as they were.
    expect((await whoami(bob.access_token)).status).toBe(200);
    const bobsDevice = await call("GET", `${DEVICES}/${bob.device_id}`, { token: bob.access_token });
    expect(bobsDevice.status).toBe(200);
    expect(bobsDevice.body.display_name).not.toBe("pwned");
  });

  it("the same device id used by two users are two separate devices", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const a = await loginOk(alice.username, PASSWORD, { device_id: "SHARED", initial_device_display_name: "alice's" });
    const b = await loginOk(bob.username, PASSWORD, { device_id: "SHARED", initial_device_display_name: "bob's" });
    // Bob logging in with the same id did not revoke Alice's token.
    expect((await whoami(a.access_token)).body).toMatchObject({ user_id: alice.user_id, device_id: "SHARED" });
    expect((await whoami(b.access_token)).body).toMatchObject({ user_id: bob.user_id, device_id: "SHARED" });
    expect((await call("GET", `${DEVICES}/SHARED`, { token: alice.access_token })).body.display_name).toBe("alice's");
  });
});
