/** Error shapes, CORS and robustness (spec: Client-Server § API standards, § Web Browser Clients). */
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { call, registerUser, type JsonResponse } from "./helpers";

function expectError(res: JsonResponse, status: number, errcode: string) {
  expect(res.status).toBe(status);
  expect(res.body.errcode).toBe(errcode);
  expect(typeof res.body.error).toBe("string");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
}

function expectCors(headers: Headers) {
  expect(headers.get("access-control-allow-origin")).toBe("*");
  const methods = headers.get("access-control-allow-methods") ?? "";
  for (const m of ["GET", "POST", "PUT", "DELETE", "OPTIONS"]) expect(methods).toContain(m);
  const allowed = (headers.get("access-control-allow-headers") ?? "").toLowerCase();
  for (const h of ["x-requested-with", "content-type", "authorization"]) expect(allowed).toContain(h);
}

describe("unknown paths and methods", () => {
  it.each(["/_matrix/client/v3/no-such-endpoint", "/_matrix/client/v4/login", "/", "/_matrix/federation/v1/nothing", "/_matrix/client/v3/devices/A/B/C"])(
    "%s answers 404 M_UNRECOGNIZED",
    async (path) => {
      expectError(await call("GET", path), 404, "M_UNRECOGNIZED");
      expectError(await call("POST", path, { body: {} }), 404, "M_UNRECOGNIZED");
    },
  );

  it.each([
    ["DELETE", "/_matrix/client/v3/login"],
    ["PUT", "/_matrix/client/v3/login"],
    ["GET", "/_matrix/client/v3/logout"],
    ["GET", "/_matrix/client/v3/register"],
    ["POST", "/_matrix/client/v3/account/whoami"],
    ["POST", "/_matrix/client/v3/devices/ABCDEF"],
    ["POST", "/_matrix/client/r0/devices"],
    ["DELETE", "/_matrix/key/v2/server"],
    ["PUT", "/_synapse/admin/v1/register"],
  ])("%s %s answers 405 M_UNRECOGNIZED", async (method, path) => {
    expectError(await call(method, path, method === "GET" ? {} : { body: {} }), 405, "M_UNRECOGNIZED");
  });

  it("a known path with a trailing slash still routes", async () => {
    const res = await call("GET", "/_matrix/client/v3/login/");
    expect(res.status).toBe(200);
    expect(res.body.flows).toBeDefined();
  });
});

describe("request bodies", () => {
  it.each(["{", "{'type': 'm.login.password'}", "not json at all", '{"type": "m.login.password",}', "[1, 2"])(
    "malformed JSON %j answers 400 M_NOT_JSON",
    async (rawBody) => {
      expectError(await call("POST", "/_matrix/client/v3/login", { rawBody, headers: { "content-type": "application/json" } }), 400, "M_NOT_JSON");
    },
  );

  it("bytes that are not UTF-8 answer 400 M_NOT_JSON", async () => {
    const rawBody = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]); // {"a":"\xc3("}
    expectError(await call("POST", "/_matrix/client/v3/login", { rawBody }), 400, "M_NOT_JSON");
  });

  it.each([
    ["an array", []],
    ["null", null],
    ["a string", "m.login.password"],
    ["a number", 42],
    ["a wrong field type", { type: 5 }],
    ["a missing required field", { identifier: { type: "m.id.user", user: "x" }, password: "x" }],
    ["a non-object identifier", { type: "m.login.password", identifier: "alice", password: "x" }],
    ["a non-string password", { type: "m.login.password", identifier: { type: "m.id.user", user: "x" }, password: 1234 }],
    ["a non-boolean refresh_token", { type: "m.login.password", identifier: { type: "m.id.user", user: "x" }, password: "x", refresh_token: "yes" }],
  ])("POST /login with %s answers 400 M_BAD_JSON", async (_what, body) => {
    expectError(await call("POST", "/_matrix/client/v3/login", { body }), 400, "M_BAD_JSON");
  });

  it("wrong shapes on other endpoints answer 400 M_BAD_JSON", async () => {
    const alice = await registerUser();
    const token = alice.access_token;
    expectError(await call("POST", "/_matrix/client/v3/register", { body: { username: 7 } }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/register", { body: { inhibit_login: "true", auth: { type: "m.login.dummy" } } }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/refresh", { body: {} }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/delete_devices", { body: { devices: "all" }, token }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/delete_devices", { body: { devices: [1, 2] }, token }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/account/password", { body: { new_password: ["x"] }, token }), 400, "M_BAD_JSON");
    expectError(await call("POST", "/_matrix/client/v3/account/password", { body: { new_password: "x", logout_devices: "no" }, token }), 400, "M_BAD_JSON");
    expectError(await call("PUT", `/_matrix/client/v3/devices/${alice.device_id}`, { body: [], token }), 400, "M_BAD_JSON");
  });

  it("an empty body counts as {}", async () => {
    const res = await call("POST", "/_matrix/client/v3/register", { rawBody: "" });
    expect(res.status).toBe(401);
    expect(typeof res.body.session).toBe("string");
  });

  it("bad query parameters answer 400 M_INVALID_PARAM", async () => {
    expectError(await call("POST", "/_matrix/client/v3/register?kind=robot", { body: {} }), 400, "M_INVALID_PARAM");
    expectError(await call("GET", "/_matrix/client/v3/register/available"), 400, "M_INVALID_PARAM");
    expectError(await call("GET", "/_matrix/client/v3/register/available?username="), 400, "M_INVALID_PARAM");
  });

  describe("size limit", () => {
    const small = { MAX_REQUEST_BYTES: "1000" };
    const bigBody = { type: "m.login.password", identifier: { type: "m.id.user", user: "x" }, password: "p".repeat(2000) };

    it("a body over MAX_REQUEST_BYTES answers 413 M_TOO_LARGE", async () => {
      expectError(await call("POST", "/_matrix/client/v3/login", { body: bigBody, envOverrides: small }), 413, "M_TOO_LARGE");
      // Under the limit, the same endpoint works normally.
      const ok = await call("POST", "/_matrix/client/v3/login", { body: { ...bigBody, password: "short" }, envOverrides: small });
      expect(ok.status).toBe(403);
    });

    it("the default limit is 1 MiB", async () => {
      const rawBody = JSON.stringify({ ...bigBody, password: "p".repeat(1024 * 1024) });
      expectError(await call("POST", "/_matrix/client/v3/login", { rawBody, headers: { "content-type": "application/json" } }), 413, "M_TOO_LARGE");
    });

    it("a streamed body without Content-Length is cut off at the limit too", async () => {
      const chunk = new TextEncoder().encode(JSON.stringify(bigBody));
      const stream = () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 4; i++) controller.enqueue(chunk.slice(i * 600, (i + 1) * 600));
            controller.close();
          },
        });
      const res = await call("POST", "/_matrix/client/v3/login", { rawBody: stream(), envOverrides: small });
      expectError(res, 413, "M_TOO_LARGE");
      // And through the Worker's own entry point with the default limit, a small streamed body is read normally.
      const viaWorker = await (exports as any).default.fetch(
        new Request("https://test.local/_matrix/client/v3/login", {
          method: "POST",
          body: new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"type":"m.login.password",'));
              controller.enqueue(new TextEncoder().encode('"identifier":{"type":"m.id.user","user":"nobody-x"},"password":"x"}'));
              controller.close();
            },
          }),
          duplex: "half",
        } as RequestInit),
      );
      expect(viaWorker.status).toBe(403);
      expect((await viaWorker.json()).errcode).toBe("M_FORBIDDEN");
    });
  });
});

describe("authentication errors", () => {
  it("a missing token answers 401 M_MISSING_TOKEN", async () => {
    expectError(await call("GET", "/_matrix/client/v3/account/whoami"), 401, "M_MISSING_TOKEN");
    expectError(await call("GET", "/_matrix/client/v3/devices"), 401, "M_MISSING_TOKEN");
  });

  it("a malformed Authorization header answers 401 M_MISSING_TOKEN", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"]) {
      expectError(await call("GET", "/_matrix/client/v3/account/whoami", { headers: { authorization } }), 401, "M_MISSING_TOKEN");
    }
  });

  it("an unknown token answers 401 M_UNKNOWN_TOKEN", async () => {
    expectError(await call("GET", "/_matrix/client/v3/account/whoami", { token: "syt_made_up" }), 401, "M_UNKNOWN_TOKEN");
    expectError(await call("GET", "/_matrix/client/v3/account/whoami?access_token=syt_made_up"), 401, "M_UNKNOWN_TOKEN");
  });
});

describe("CORS", () => {
  it.each(["/_matrix/client/v3/login", "/_matrix/client/v3/account/whoami", "/_matrix/client/v3/no-such-endpoint", "/_matrix/media/v3/upload"])(
    "OPTIONS %s answers with the CORS headers",
    async (path) => {
      const res = await call("OPTIONS", path, {
        headers: { origin: "https://app.element.io", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
      });
      expect(res.status).toBeGreaterThanOrEqual(200);
      expect(res.status).toBeLessThan(300);
      expectCors(res.headers);
    },
  );

  it("every response carries them: success, client errors, auth errors, 404, 405, 413 and UIA challenges", async () => {
    const alice = await registerUser();
    const responses = [
      await call("GET", "/_matrix/client/versions"),
      await call("GET", "/_matrix/client/v3/account/whoami", { token: alice.access_token }),
      await call("GET", "/_matrix/client/v3/account/whoami"),
      await call("GET", "/_matrix/client/v3/account/whoami", { token: "bogus" }),
      await call("GET", "/nothing-here"),
      await call("DELETE", "/_matrix/client/v3/login"),
      await call("POST", "/_matrix/client/v3/login", { rawBody: "{" }),
      await call("POST", "/_matrix/client/v3/login", { body: { type: "m.login.password", password: "x".repeat(2000) }, envOverrides: { MAX_REQUEST_BYTES: "100" } }),
      await call("POST", "/_matrix/client/v3/delete_devices", { body: { devices: [] }, token: alice.access_token }),
      await call("GET", "/_matrix/key/v2/server"),
      await call("GET", "/health"),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 401, 404, 405, 400, 413, 401, 200, 200]);
    for (const res of responses) expectCors(res.headers);
  });

  it("a rate-limited response carries them", async () => {
    const envOverrides = { RATE_LIMIT_REGISTER_IP: "1/60" };
    const headers = { "cf-connecting-ip": `cors-${Date.now()}-${Math.random()}` };
    await call("GET", "/_matrix/client/v3/register/available?username=corsprobe", { envOverrides, headers });
    const res = await call("GET", "/_matrix/client/v3/register/available?username=corsprobe", { envOverrides, headers });
    expect(res.status).toBe(429);
    expectCors(res.headers);
  });
});

describe("internal errors", () => {
  it("a failure inside a handler is a 500 M_UNKNOWN that reveals nothing, with CORS", async () => {
    const alice = await registerUser();
    const brokenDb = {
      prepare() {
        throw new Error("D1_ERROR: secret internal detail");
      },
    } as unknown as D1Database;
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await call("GET", "/_matrix/client/v3/account/whoami", { token: alice.access_token, envOverrides: { DB: brokenDb } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
    expectCors(res.headers);
    // The detail goes to the log, not to the client.
    expect(String(logged.mock.calls[0]?.[0])).toContain("secret internal detail");
    logged.mockRestore();
  });

  it("a configuration error is a 500 M_UNKNOWN with CORS too", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await call("GET", "/_matrix/client/versions", { envOverrides: { SERVER_NAME: "not a server name!" } });
    logged.mockRestore();
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ errcode: "M_UNKNOWN", error: "Internal server error" });
    expectCors(res.headers);
  });
});

describe("garbage input never causes a 500", () => {
  let token = "";
  let userId = "";
  let deviceId = "";
  beforeAll(async () => {
    const alice = await registerUser();
    token = alice.access_token;
    userId = alice.user_id;
    deviceId = alice.device_id;
  });

  const enc = (s: string) => new TextEncoder().encode(s);
  const bodies: [string, string | Uint8Array][] = [
    ["array", "[]"],
    ["nested arrays", "[[[[[]]]]]"],
    ["null", "null"],
    ["string", '"hello"'],
    ["number", "1e309"],
    ["boolean", "true"],
    ["empty object", "{}"],
    ["nulls everywhere", JSON.stringify({ type: null, identifier: null, password: null, auth: null, devices: null, username: null, displayname: null, refresh_token: null })],
    ["arrays everywhere", JSON.stringify({ type: [], identifier: [], password: [], auth: [], devices: [[]], username: [], session: [] })],
    ["objects everywhere", JSON.stringify({ type: {}, identifier: { type: {} , user: {} }, auth: { type: {}, session: {}, identifier: { user: [] } }, new_password: {} })],
    ["UIA with odd values", JSON.stringify({ auth: { type: "m.login.password", session: 12, identifier: { type: "m.id.user", user: "@:" }, password: null }, devices: [], new_password: "x" })],
    ["UIA with a huge session", JSON.stringify({ auth: { type: "m.login.dummy", session: "s".repeat(100_000) }, devices: [] })],
    ["huge string", JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: "u".repeat(300_000) }, password: "p".repeat(300_000), username: "n".repeat(300_000) })],
    ["huge non-JSON", "x".repeat(500_000)],
    ["deep nesting", "[".repeat(100_000) + "]".repeat(100_000)],
    ["deep object nesting", '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000)],
    ["invalid UTF-8", new Uint8Array([0xff, 0xfe, 0xfd, 0x00, 0x80])],
    ["overlong UTF-8 in a string", new Uint8Array([...enc('{"username":"'), 0xc0, 0xaf, ...enc('"}')])],
    ["lone surrogate escape", '{"username":"\\ud800","password":"\\udfff","displayname":"\\ud800"}'],
    ["NUL bytes", '{"username":"a\\u0000b","password":"\\u0000","type":"m.login.password\\u0000"}'],
    ["byte order mark", "\ufeff{}"],
    ["prototype pollution", '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"type":"m.login.password"}'],
  ];

  const endpoints: [string, (ctx: { userId: string; deviceId: string }) => string, boolean][] = [
    ["POST", () => "/_matrix/client/v3/login", false],
    ["POST", () => "/_matrix/client/v3/register", false],
    ["POST", () => "/_matrix/client/v3/refresh", false],
    ["POST", () => "/_synapse/admin/v1/register", false],
    ["POST", () => "/_matrix/client/v3/account/password", true],
    ["POST", () => "/_matrix/client/v3/account/deactivate", true],
    ["POST", () => "/_matrix/client/v3/delete_devices", true],
    ["PUT", ({ deviceId }) => `/_matrix/client/v3/devices/${deviceId}`, true],
    ["DELETE", () => "/_matrix/client/v3/devices/NOSUCHDEVICE", true],
    ["PUT", ({ userId }) => `/_matrix/client/v3/profile/${encodeURIComponent(userId)}/displayname`, true],
    ["PUT", ({ userId }) => `/_matrix/client/v3/profile/${encodeURIComponent(userId)}/avatar_url`, true],
  ];

  it.each(bodies)("body: %s", async (_name, rawBody) => {
    for (const [method, path, needsToken] of endpoints) {
      const res = await call(method, path({ userId, deviceId }), {
        rawBody,
        headers: { "content-type": "application/json" },
        ...(needsToken ? { token } : {}),
      });
      const where = `${method} ${path({ userId, deviceId })} → ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`;
      expect(res.status, where).toBeLessThan(500);
      // An error has an errcode, except a first UIA challenge, which is a 401 with flows instead.
      if (res.status >= 400 && !(res.status === 401 && res.body?.flows)) expect(res.body?.errcode, where).toMatch(/^M_[A-Z_]+$/);
      expectCors(res.headers);
    }
    // The account survived the barrage.
    expect((await call("GET", "/_matrix/client/v3/account/whoami", { token })).status).toBe(200);
  });

  it.each([
    "/_matrix/client/v3/register/available?username=%FF",
    "/_matrix/client/v3/register/available?username=%",
    "/_matrix/client/v3/register/available?username=a&username=b",
    `/_matrix/client/v3/register/available?username=${"a".repeat(10_000)}`,
    "/_matrix/client/v3/profile/%FF",
    "/_matrix/client/v3/profile/%",
    "/_matrix/client/v3/profile/%40%00%3Atest.local/displayname",
    "/_matrix/client/v3/profile/x/%E0%A4%A",
    "/_matrix/client/v3/devices/%ZZ",
    "/_matrix/client/v1/register/m.login.registration_token/validity?token=%C0%AF",
    "/_matrix/key/v2/server/%FF%FE",
    "/_matrix/client/v3/login?access_token=%FF",
  ])("query and path: GET %#", async (path) => {
    const res = await call("GET", path, { token });
    expect(res.status, `${path} → ${res.status} ${JSON.stringify(res.body)}`).toBeLessThan(500);
    if (res.status >= 400) expect(res.body?.errcode).toMatch(/^M_[A-Z_]+$/);
    expectCors(res.headers);
  });
});
