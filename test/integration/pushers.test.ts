/**
 * Pushers API (spec: Client-Server § Push Notifications, GET /pushers and POST /pushers/set;
 * pusher.yaml): creating, replacing, `append`, deleting with `kind: null`, and every refusal.
 */
import { describe, expect, it } from "vitest";
import { call, loginOk, registerUser, testEnv } from "./helpers";
import type { TestUser } from "./room-helpers";

const GATEWAY = "https://push.example.org/_matrix/push/v1/notify";

function pusher(overrides: Record<string, unknown> = {}) {
  return {
    kind: "http",
    app_id: "org.example.app.ios",
    pushkey: "pushkey-1",
    app_display_name: "Example",
    device_display_name: "Phone",
    lang: "en",
    data: { url: GATEWAY, format: "event_id_only" },
    ...overrides,
  };
}

const set = (user: TestUser, body: unknown, prefix = "v3") => call("POST", `/_matrix/client/${prefix}/pushers/set`, { token: user.access_token, body });
async function list(user: TestUser): Promise<any[]> {
  const res = await call("GET", "/_matrix/client/v3/pushers", { token: user.access_token });
  expect(res.status).toBe(200);
  return res.body.pushers;
}
async function setOk(user: TestUser, body: unknown) {
  const res = await set(user, body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual({});
}

describe("pushers", () => {
  it("a new user has none; a set pusher is listed with every field it was given", async () => {
    const alice = await registerUser();
    expect(await list(alice)).toEqual([]);
    await setOk(alice, pusher({ profile_tag: "xyz", data: { url: GATEWAY, format: "event_id_only", custom: { a: 1 } } }));
    expect(await list(alice)).toEqual([
      {
        pushkey: "pushkey-1",
        kind: "http",
        app_id: "org.example.app.ios",
        app_display_name: "Example",
        device_display_name: "Phone",
        profile_tag: "xyz",
        lang: "en",
        data: { url: GATEWAY, format: "event_id_only", custom: { a: 1 } },
      },
    ]);
  });

  it("a device's pushers go when it logs out or is deleted, and all of them when the account is deactivated", async () => {
    const alice = await registerUser();
    const phone = await loginOk(alice.user_id);
    await setOk({ ...alice, access_token: phone.access_token }, pusher({ pushkey: "phone" }));
    await setOk(alice, pusher({ pushkey: "desktop" }));
    expect((await list(alice)).map((p) => p.pushkey).sort()).toEqual(["desktop", "phone"]);
    expect((await call("POST", "/_matrix/client/v3/logout", { token: phone.access_token, body: {} })).status).toBe(200);
    expect((await list(alice)).map((p) => p.pushkey)).toEqual(["desktop"]);

    const bob = await registerUser();
    await setOk(bob, pusher({ pushkey: "bob" }));
    const deactivated = await call("POST", "/_matrix/client/v3/account/deactivate", { token: bob.access_token, body: { auth: { type: "m.login.password", identifier: { type: "m.id.user", user: bob.user_id }, password: bob.password } } });
    expect(deactivated.status, JSON.stringify(deactivated.body)).toBe(200);
    const { results } = await testEnv.DB.prepare("SELECT pushkey FROM pushers WHERE user_id = ?").bind(bob.user_id).all();
    expect(results).toEqual([]);
  });

  it("setting the same app_id and pushkey again replaces it; another pushkey adds one; r0 works too", async () => {
    const alice = await registerUser();
    await setOk(alice, pusher());
    await setOk(alice, pusher({ device_display_name: "New phone", lang: "de", data: { url: GATEWAY } }));
    const res = await set(alice, pusher({ pushkey: "pushkey-2" }), "r0");
    expect(res.status).toBe(200);
    const pushers = await list(alice);
    expect(pushers.map((p) => [p.pushkey, p.device_display_name, p.lang])).toEqual([
      ["pushkey-1", "New phone", "de"],
      ["pushkey-2", "Phone", "en"],
    ]);
    expect(pushers[0].data).toEqual({ url: GATEWAY });
  });

  it("without append, the same app_id and pushkey is taken from other users; with append, both keep it", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    await setOk(alice, pusher({ pushkey: "shared" }));
    await setOk(bob, pusher({ pushkey: "shared", append: true }));
    expect(await list(alice)).toHaveLength(1);
    expect(await list(bob)).toHaveLength(1);
    await setOk(carol, pusher({ pushkey: "shared", append: false }));
    expect(await list(alice)).toEqual([]);
    expect(await list(bob)).toEqual([]);
    expect(await list(carol)).toHaveLength(1);
  });

  it("kind null deletes the pusher; deleting one that doesn't exist is no error", async () => {
    const alice = await registerUser();
    await setOk(alice, pusher());
    await setOk(alice, pusher({ pushkey: "other" }));
    await setOk(alice, { kind: null, app_id: "org.example.app.ios", pushkey: "pushkey-1" });
    expect((await list(alice)).map((p) => p.pushkey)).toEqual(["other"]);
    await setOk(alice, { kind: null, app_id: "org.example.app.ios", pushkey: "never-set" });
    expect((await list(alice)).map((p) => p.pushkey)).toEqual(["other"]);
  });

  it("refuses gateways off the public internet unless PUSH_GATEWAY_ALLOW names them, and those PUSH_GATEWAY_DENY names", async () => {
    const alice = await registerUser();
    const setWith = (url: string, env: Record<string, string>) =>
      call("POST", "/_matrix/client/v3/pushers/set", { token: alice.access_token, body: pusher({ pushkey: url, data: { url } }), envOverrides: env });
    const byDefault = { PUSH_GATEWAY_ALLOW: "" };
    for (const url of [
      "https://10.1.2.3/_matrix/push/v1/notify",
      "https://192.168.0.10:8443/_matrix/push/v1/notify",
      "https://127.0.0.1/_matrix/push/v1/notify",
      "http://127.0.0.1:8080/_matrix/push/v1/notify",
      "https://[::1]/_matrix/push/v1/notify",
      "https://localhost/_matrix/push/v1/notify",
      "https://metadata.google.internal/_matrix/push/v1/notify",
      "https://169.254.169.254/_matrix/push/v1/notify",
    ]) {
      const res = await setWith(url, byDefault);
      expect(res.status, url).toBe(400);
      expect(res.body.errcode, url).toBe("M_INVALID_PARAM");
    }
    expect((await setWith(GATEWAY, byDefault)).status).toBe(200);
    expect((await setWith("https://10.1.2.3/_matrix/push/v1/notify", { PUSH_GATEWAY_ALLOW: "10.0.0.0/8" })).status).toBe(200);
    const denied = await setWith("https://push.example.com/_matrix/push/v1/notify", { PUSH_GATEWAY_DENY: "*.example.com" });
    expect(denied.status).toBe(400);
    expect(denied.body.errcode).toBe("M_INVALID_PARAM");
    // Nothing refused was stored.
    expect((await list(alice)).map((p) => p.data.url).sort()).toEqual(["https://10.1.2.3/_matrix/push/v1/notify", GATEWAY]);
  });

  it("accepts a plain-http gateway on the loopback interface only (when loopback is allowed, as in these tests)", async () => {
    const alice = await registerUser();
    await setOk(alice, pusher({ data: { url: "http://127.0.0.1:8080/_matrix/push/v1/notify" } }));
    const res = await set(alice, pusher({ pushkey: "k2", data: { url: "http://push.example.org/_matrix/push/v1/notify" } }));
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });

  const refusals: [string, Record<string, unknown>, number, string][] = [
    ["no kind", { kind: undefined }, 400, "M_MISSING_PARAM"],
    ["no app_id", { app_id: undefined }, 400, "M_MISSING_PARAM"],
    ["no pushkey", { pushkey: undefined }, 400, "M_MISSING_PARAM"],
    ["no app_display_name", { app_display_name: undefined }, 400, "M_MISSING_PARAM"],
    ["no device_display_name", { device_display_name: undefined }, 400, "M_MISSING_PARAM"],
    ["no lang", { lang: undefined }, 400, "M_MISSING_PARAM"],
    ["no data", { data: undefined }, 400, "M_MISSING_PARAM"],
    ["an http pusher without data.url", { data: { format: "event_id_only" } }, 400, "M_MISSING_PARAM"],
    ["a url with another path", { data: { url: "https://push.example.org/notify" } }, 400, "M_INVALID_PARAM"],
    ["a url that isn't one", { data: { url: "not a url" } }, 400, "M_INVALID_PARAM"],
    ["a url that isn't a string", { data: { url: 5 } }, 400, "M_INVALID_PARAM"],
    ["an unknown format", { data: { url: GATEWAY, format: "full" } }, 400, "M_INVALID_PARAM"],
    ["an unknown kind", { kind: "carrier-pigeon" }, 400, "M_INVALID_PARAM"],
    ["an email pusher (no email addresses on accounts)", { kind: "email", app_id: "m.email", pushkey: "a@example.org" }, 400, "M_THREEPID_NOT_FOUND"],
    ["an app_id over 64 characters", { app_id: "a".repeat(65) }, 400, "M_INVALID_PARAM"],
    ["a pushkey over 512 bytes", { pushkey: "é".repeat(257) }, 400, "M_INVALID_PARAM"],
    ["an empty pushkey", { pushkey: "" }, 400, "M_INVALID_PARAM"],
    ["a kind that isn't a string", { kind: 5 }, 400, "M_BAD_JSON"],
    ["data that isn't an object", { data: "x" }, 400, "M_BAD_JSON"],
    ["append that isn't a boolean", { append: "yes" }, 400, "M_BAD_JSON"],
  ];
  for (const [what, change, status, errcode] of refusals) {
    it(`refuses ${what} (${errcode}) and stores nothing`, async () => {
      const alice = await registerUser();
      const body: Record<string, unknown> = pusher(change);
      for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
      const res = await set(alice, body);
      expect(res.status).toBe(status);
      expect(res.body.errcode).toBe(errcode);
      expect(typeof res.body.error).toBe("string");
      expect(await list(alice)).toEqual([]);
    });
  }

  it("refuses a body that isn't JSON, and anonymous requests", async () => {
    const alice = await registerUser();
    const bad = await call("POST", "/_matrix/client/v3/pushers/set", { token: alice.access_token, rawBody: "{nope", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.body.errcode).toBe("M_NOT_JSON");
    expect((await call("GET", "/_matrix/client/v3/pushers")).status).toBe(401);
    expect((await call("POST", "/_matrix/client/v3/pushers/set", { body: pusher() })).status).toBe(401);
  });
});
