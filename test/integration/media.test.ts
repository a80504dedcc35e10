/**
 * Downloads and safe serving (spec: Client-Server § Content repository, § Serving inline content):
 * the authenticated v1 paths, the deprecated unauthenticated v3 paths behind their switch,
 * pending media, ranges, and quarantine through the Synapse-shaped admin API.
 */
import { describe, expect, it } from "vitest";
import { MEDIA_CSP } from "../../src/api/media/serving";
import { call, registerUser, sleep, testEnv } from "./helpers";
import { fetchBytes, mxcPath, uploadOk } from "./media-helpers";

const V1 = "/_matrix/client/v1/media/download";
const V3 = "/_matrix/media/v3/download";
const LEGACY_ON = { MEDIA_LEGACY_UNAUTHENTICATED: "on" };

function expectSecurityHeaders(headers: Headers): void {
  expect(headers.get("content-security-policy")).toBe(MEDIA_CSP);
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("cross-origin-resource-policy")).toBe("cross-origin");
}

async function makeAdmin() {
  const admin = await registerUser();
  await testEnv.DB.prepare("UPDATE users SET is_admin = 1 WHERE user_id = ?").bind(admin.user_id).run();
  return admin;
}

describe("GET /_matrix/client/v1/media/download", () => {
  it("serves the bytes to any signed-in user, with the spec's security headers", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const mxc = await uploadOk(alice.access_token, "a picture", "image/png", "pic.png");
    const res = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}`, { token: bob.access_token });
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.bytes)).toBe("a picture");
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toBe('inline; filename="pic.png"');
    expectSecurityHeaders(res.headers);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("content-length")).toBe("9");
  });

  it("requires an access token", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "secret", "text/plain");
    const res = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}`);
    expect(res.status).toBe(401);
    expect(res.json.errcode).toBe("M_MISSING_TOKEN");
  });

  it("uses the file name from the path instead of the uploaded one", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "report", "application/pdf", "original.pdf");
    const res = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}/${encodeURIComponent("Quarterly report.pdf")}`, { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="Quarterly report.pdf"');
  });

  it("serves unsafe types as attachments with the type kept as uploaded", async () => {
    const alice = await registerUser();
    const html = await uploadOk(alice.access_token, "<script>alert(1)</script>", "text/html", "x.html");
    const res = await fetchBytes("GET", `${V1}/${mxcPath(html)}`, { token: alice.access_token });
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="x.html"');
    expectSecurityHeaders(res.headers);

    const svg = await uploadOk(alice.access_token, "<svg/>", "image/svg+xml");
    const svgRes = await fetchBytes("GET", `${V1}/${mxcPath(svg)}`, { token: alice.access_token });
    expect(svgRes.headers.get("content-type")).toBe("image/svg+xml");
    expect(svgRes.headers.get("content-disposition")).toBe("attachment");
  });

  it("keeps a type's parameters and checks only its essence for inline", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "a,b", "Text/CSV; charset=iso-8859-1");
    const res = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}`, { token: alice.access_token });
    expect(res.headers.get("content-type")).toBe("Text/CSV; charset=iso-8859-1");
    expect(res.headers.get("content-disposition")).toBe("inline");
  });

  it("encodes file names that are not plain ASCII per RFC 6266, so they can't break the header", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "x", "text/plain", 'a"b\\c.txt');
    const quoted = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}`, { token: alice.access_token });
    expect(quoted.headers.get("content-disposition")).toBe("inline; filename*=utf-8''a%22b%5Cc.txt");
    const unicode = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}/${encodeURIComponent("日本 (1).txt")}`, { token: alice.access_token });
    expect(unicode.headers.get("content-disposition")).toBe("inline; filename*=utf-8''%E6%97%A5%E6%9C%AC%20%281%29.txt");
  });

  it("answers 404 M_NOT_FOUND for unknown ids, malformed ids and remote servers, with the security headers", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "x", "text/plain");
    const mediaId = mxcPath(mxc).split("/")[1];
    for (const path of ["test.local/doesNotExist", "test.local/bad.id", `remote.example/${mediaId}`, `remote.example/${mediaId}?allow_remote=false`]) {
      const res = await fetchBytes("GET", `${V1}/${path}`, { token: alice.access_token });
      expect(res.status, path).toBe(404);
      expect(res.json.errcode, path).toBe("M_NOT_FOUND");
      expectSecurityHeaders(res.headers);
    }
  });

  it("accepts timeout_ms, allow_redirect and allow_remote, and refuses a malformed timeout_ms", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "x", "text/plain");
    const ok = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}?timeout_ms=100&allow_redirect=true&allow_remote=false`, { token: alice.access_token });
    expect(ok.status).toBe(200);
    const bad = await fetchBytes("GET", `${V1}/${mxcPath(mxc)}?timeout_ms=soon`, { token: alice.access_token });
    expect(bad.status).toBe(400);
    expect(bad.json.errcode).toBe("M_INVALID_PARAM");
  });

  it("answers 504 M_NOT_YET_UPLOADED for a created id whose bytes have not come within timeout_ms", async () => {
    const alice = await registerUser();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    const res = await fetchBytes("GET", `${V1}/${mxcPath(created.body.content_uri)}?timeout_ms=0`, { token: alice.access_token });
    expect(res.status).toBe(504);
    expect(res.json.errcode).toBe("M_NOT_YET_UPLOADED");
  });

  it("waits for a created id's upload and then serves it", async () => {
    const alice = await registerUser();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    const path = mxcPath(created.body.content_uri);
    const download = fetchBytes("GET", `${V1}/${path}?timeout_ms=10000`, { token: alice.access_token });
    await sleep(300);
    const put = await call("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, rawBody: "arrived", headers: { "content-type": "text/plain" } });
    expect(put.status).toBe(200);
    const res = await download;
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.bytes)).toBe("arrived");
  });

  it("serves single byte ranges with 206 and refuses unsatisfiable ones with 416", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "0123456789", "text/plain");
    const path = `${V1}/${mxcPath(mxc)}`;
    const cases: [string, number, string, string | null][] = [
      ["bytes=2-5", 206, "2345", "bytes 2-5/10"],
      ["bytes=7-", 206, "789", "bytes 7-9/10"],
      ["bytes=-3", 206, "789", "bytes 7-9/10"],
      ["bytes=5-100", 206, "56789", "bytes 5-9/10"],
      ["items=1-2", 200, "0123456789", null],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const res = await fetchBytes("GET", path, { token: alice.access_token, headers: { range } });
      expect(res.status, range).toBe(status);
      expect(new TextDecoder().decode(res.bytes), range).toBe(body);
      expect(res.headers.get("content-range"), range).toBe(contentRange);
    }
    const unsatisfiable = await fetchBytes("GET", path, { token: alice.access_token, headers: { range: "bytes=10-" } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe("bytes */10");
  });
});

describe("GET /_matrix/media/v3/download (deprecated, unauthenticated)", () => {
  it("is frozen by default: 404 M_NOT_FOUND even for media that exists", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "x", "text/plain", "x.txt");
    for (const path of [`${V3}/${mxcPath(mxc)}`, `${V3}/${mxcPath(mxc)}/other.txt`]) {
      const res = await fetchBytes("GET", path, { token: alice.access_token });
      expect(res.status, path).toBe(404);
      expect(res.json.errcode, path).toBe("M_NOT_FOUND");
      expectSecurityHeaders(res.headers);
    }
  });

  it("serves without an access token when MEDIA_LEGACY_UNAUTHENTICATED is on", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "legacy bytes", "text/plain", "x.txt");
    const res = await fetchBytes("GET", `${V3}/${mxcPath(mxc)}`, { envOverrides: LEGACY_ON });
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.bytes)).toBe("legacy bytes");
    expect(res.headers.get("content-disposition")).toBe('inline; filename="x.txt"');
    expectSecurityHeaders(res.headers);
    const named = await fetchBytes("GET", `${V3}/${mxcPath(mxc)}/renamed.txt`, { envOverrides: LEGACY_ON });
    expect(named.headers.get("content-disposition")).toBe('inline; filename="renamed.txt"');
    const missing = await fetchBytes("GET", `${V3}/test.local/nothingHere`, { envOverrides: LEGACY_ON });
    expect(missing.status).toBe(404);
    expect(missing.json.errcode).toBe("M_NOT_FOUND");
  });
});

describe("quarantine (/_synapse/admin/v1/media/quarantine)", () => {
  it("lets a server admin quarantine an item, which is then served nowhere, and release it", async () => {
    const alice = await registerUser();
    const admin = await makeAdmin();
    const mxc = await uploadOk(alice.access_token, "bad content", "image/png");
    const path = mxcPath(mxc);
    const q = await call("POST", `/_synapse/admin/v1/media/quarantine/${path}`, { token: admin.access_token });
    expect(q.status).toBe(200);
    expect(q.body).toEqual({});

    const v1 = await fetchBytes("GET", `${V1}/${path}`, { token: alice.access_token });
    expect(v1.status).toBe(404);
    expect(v1.json.errcode).toBe("M_NOT_FOUND");
    const v3 = await fetchBytes("GET", `${V3}/${path}`, { envOverrides: LEGACY_ON });
    expect(v3.status).toBe(404);

    const u = await call("POST", `/_synapse/admin/v1/media/unquarantine/${path}`, { token: admin.access_token });
    expect(u.status).toBe(200);
    expect((await fetchBytes("GET", `${V1}/${path}`, { token: alice.access_token })).status).toBe(200);
  });

  it("is for server admins only", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "x", "image/png");
    const res = await call("POST", `/_synapse/admin/v1/media/quarantine/${mxcPath(mxc)}`, { token: alice.access_token });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect((await fetchBytes("GET", `${V1}/${mxcPath(mxc)}`, { token: alice.access_token })).status).toBe(200);
    expect((await call("POST", `/_synapse/admin/v1/media/quarantine/${mxcPath(mxc)}`)).status).toBe(401);
  });

  it("answers 404 M_NOT_FOUND for unknown and remote media", async () => {
    const admin = await makeAdmin();
    for (const path of ["test.local/unknownMedia", "remote.example/abc"]) {
      const res = await call("POST", `/_synapse/admin/v1/media/quarantine/${path}`, { token: admin.access_token });
      expect(res.status, path).toBe(404);
      expect(res.body.errcode, path).toBe("M_NOT_FOUND");
    }
  });
});
