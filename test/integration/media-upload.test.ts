/**
 * Media config and uploads (spec: Client-Server § Content repository): POST /upload, the
 * asynchronous POST /v1/create + PUT /upload/{serverName}/{mediaId}, and the streaming size limit.
 */
import { describe, expect, it } from "vitest";
import { call, registerUser, sleep } from "./helpers";
import { byteStream, fetchBytes, mxcPath, patternByte, uploadOk } from "./media-helpers";

const SMALL = { MEDIA_MAX_UPLOAD_BYTES: "1000" };

describe("GET media config", () => {
  it("reports the upload limit on the v1 path and the deprecated v3 path, to signed-in users only", async () => {
    const alice = await registerUser();
    for (const path of ["/_matrix/client/v1/media/config", "/_matrix/media/v3/config", "/_matrix/media/r0/config"]) {
      const res = await call("GET", path, { token: alice.access_token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ "m.upload.size": 50 * 1024 * 1024 });
      const anon = await call("GET", path);
      expect(anon.status).toBe(401);
      expect(anon.body.errcode).toBe("M_MISSING_TOKEN");
    }
    const custom = await call("GET", "/_matrix/client/v1/media/config", { token: alice.access_token, envOverrides: SMALL });
    expect(custom.body).toEqual({ "m.upload.size": 1000 });
  });
});

describe("POST /_matrix/media/v3/upload", () => {
  it("stores the bytes with their content type and file name and returns an mxc URI of this server", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, "hello world", "text/plain", "Grüße.txt");
    expect(mxc).toMatch(/^mxc:\/\/test\.local\/[A-Za-z0-9_-]+$/);
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(mxc)}`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(new TextDecoder().decode(got.bytes)).toBe("hello world");
    expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("content-disposition")).toBe("inline; filename*=utf-8''Gr%C3%BC%C3%9Fe.txt");
  });

  it("keeps binary bytes exactly and defaults the content type to application/octet-stream", async () => {
    const alice = await registerUser();
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", { token: alice.access_token, body: bytes });
    expect(res.status).toBe(200);
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(res.json.content_uri)}`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.bytes).toEqual(bytes);
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    expect(got.headers.get("content-disposition")).toBe("attachment");
  });

  it("accepts an empty file", async () => {
    const alice = await registerUser();
    const mxc = await uploadOk(alice.access_token, new Uint8Array(0), "text/plain");
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(mxc)}`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.bytes.byteLength).toBe(0);
  });

  it("is not cut at the JSON body limit: media has its own limit", async () => {
    const alice = await registerUser();
    const bytes = new Uint8Array(3000).fill(1);
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: bytes,
      envOverrides: { MAX_REQUEST_BYTES: "100" },
    });
    expect(res.status).toBe(200);
  });

  it("requires an access token", async () => {
    const res = await call("POST", "/_matrix/media/v3/upload", { rawBody: "x", headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });

  it("refuses a body over the limit with 413 M_TOO_LARGE, with or without a Content-Length", async () => {
    const alice = await registerUser();
    const declared = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: new Uint8Array(1001),
      headers: { "content-length": "1001" },
      envOverrides: SMALL,
    });
    expect(declared.status).toBe(413);
    expect(declared.json.errcode).toBe("M_TOO_LARGE");

    const streamed = await fetchBytes("POST", "/_matrix/media/v3/upload", { token: alice.access_token, body: byteStream(5000, 100), envOverrides: SMALL });
    expect(streamed.status).toBe(413);
    expect(streamed.json.errcode).toBe("M_TOO_LARGE");

    // Exactly at the limit is fine.
    const atLimit = await fetchBytes("POST", "/_matrix/media/v3/upload", { token: alice.access_token, body: byteStream(1000, 100), envOverrides: SMALL });
    expect(atLimit.status).toBe(200);
  });

  it("stops reading a streamed body as soon as it passes the limit", async () => {
    const alice = await registerUser();
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 100;
        controller.enqueue(new Uint8Array(100));
      },
    });
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", { token: alice.access_token, body: endless, envOverrides: SMALL });
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(5000);
  });

  it("streams a large body without Content-Length through a multipart upload, byte for byte", async () => {
    const alice = await registerUser();
    const total = 8 * 1024 * 1024 * 2 + 12345; // two full parts and a tail
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload?filename=big.bin", {
      token: alice.access_token,
      // Odd-sized chunks, so parts never line up with them.
      body: byteStream(total, 256 * 1024 + 3),
      headers: { "content-type": "application/x-big" },
      envOverrides: { MEDIA_MAX_UPLOAD_BYTES: String(total) },
    });
    expect(res.status).toBe(200);
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(res.json.content_uri)}`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.bytes.byteLength).toBe(total);
    expect(got.bytes.every((b, i) => b === patternByte(i))).toBe(true);
    expect(got.headers.get("content-disposition")).toBe('attachment; filename="big.bin"');
  });

  it("keeps a streamed body of a few hundred kilobytes byte for byte", async () => {
    const alice = await registerUser();
    const total = 700_001;
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", { token: alice.access_token, body: byteStream(total, 10_007) });
    expect(res.status).toBe(200);
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(res.json.content_uri)}`, { token: alice.access_token });
    expect(got.bytes.byteLength).toBe(total);
    expect(got.bytes.every((b, i) => b === patternByte(i))).toBe(true);
  });

  it("refuses a body that passes the limit after the first multipart part", async () => {
    const alice = await registerUser();
    const limit = 8 * 1024 * 1024 + 10;
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: byteStream(limit + 1, 256 * 1024),
      envOverrides: { MEDIA_MAX_UPLOAD_BYTES: String(limit) },
    });
    expect(res.status).toBe(413);
    expect(res.json.errcode).toBe("M_TOO_LARGE");
  });

  it("refuses a declared Content-Length over the limit before reading the body", async () => {
    const alice = await registerUser();
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 100;
        controller.enqueue(new Uint8Array(100));
      },
    });
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: endless,
      headers: { "content-length": "1000000" },
      envOverrides: SMALL,
    });
    expect(res.status).toBe(413);
    expect(res.json.errcode).toBe("M_TOO_LARGE");
    // At most what the stream queued on its own before anyone read it.
    expect(pulled).toBeLessThanOrEqual(100);
  });

  it("refuses a body shorter than its Content-Length with 400", async () => {
    const alice = await registerUser();
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: byteStream(100, 50),
      headers: { "content-length": "500" },
      envOverrides: SMALL,
    });
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe("M_UNKNOWN");
  });

  it("refuses a malformed Content-Length with M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    const res = await fetchBytes("POST", "/_matrix/media/v3/upload", {
      token: alice.access_token,
      body: byteStream(10),
      headers: { "content-length": "1e3" },
      envOverrides: SMALL,
    });
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe("M_INVALID_PARAM");
  });

  it("refuses an over-long content type with M_INVALID_PARAM", async () => {
    const alice = await registerUser();
    const res = await call("POST", "/_matrix/media/v3/upload", { token: alice.access_token, rawBody: "x", headers: { "content-type": `text/${"x".repeat(300)}` } });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });
});

describe("asynchronous upload: POST /v1/create then PUT /upload/{serverName}/{mediaId}", () => {
  it("reserves an id that its creator can upload to once, and that is then served", async () => {
    const alice = await registerUser();
    const before = Date.now();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    expect(created.status).toBe(200);
    expect(created.body.content_uri).toMatch(/^mxc:\/\/test\.local\/[A-Za-z0-9_-]+$/);
    // Spec: 24 hours recommended.
    expect(created.body.unused_expires_at).toBeGreaterThanOrEqual(before + 24 * 3600 * 1000);
    expect(created.body.unused_expires_at).toBeLessThanOrEqual(Date.now() + 24 * 3600 * 1000);
    const path = mxcPath(created.body.content_uri);

    const put = await call("PUT", `/_matrix/media/v3/upload/${path}?filename=cat.png`, {
      token: alice.access_token,
      rawBody: new Uint8Array([137, 80, 78, 71]),
      headers: { "content-type": "image/png" },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({});

    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${path}`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect([...got.bytes]).toEqual([137, 80, 78, 71]);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(got.headers.get("content-disposition")).toBe('inline; filename="cat.png"');

    const again = await call("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, rawBody: "other", headers: { "content-type": "text/plain" } });
    expect(again.status).toBe(409);
    expect(again.body.errcode).toBe("M_CANNOT_OVERWRITE_MEDIA");
    // The first upload is untouched.
    expect([...(await fetchBytes("GET", `/_matrix/client/v1/media/download/${path}`, { token: alice.access_token })).bytes]).toEqual([137, 80, 78, 71]);
  });

  it("refuses an upload by anyone but the creator with 403 M_FORBIDDEN", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    const path = mxcPath(created.body.content_uri);
    const res = await call("PUT", `/_matrix/media/v3/upload/${path}`, { token: bob.access_token, rawBody: "mine", headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    // Alice still can.
    const ok = await call("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, rawBody: "hers", headers: { "content-type": "text/plain" } });
    expect(ok.status).toBe(200);
  });

  it("answers 404 M_NOT_FOUND for an id never created, a malformed id and another server's name", async () => {
    const alice = await registerUser();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    const mediaId = mxcPath(created.body.content_uri).split("/")[1];
    for (const path of ["test.local/neverCreated123", "test.local/bad.id", `other.example/${mediaId}`]) {
      const res = await call("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, rawBody: "x", headers: { "content-type": "text/plain" } });
      expect(res.status, path).toBe(404);
      expect(res.body.errcode, path).toBe("M_NOT_FOUND");
    }
  });

  it("refuses an upload to an expired id with 404 M_NOT_FOUND", async () => {
    const alice = await registerUser();
    const env = { MEDIA_UNUSED_EXPIRY_MS: "1" };
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env });
    expect(created.status).toBe(200);
    await sleep(10);
    const res = await call("PUT", `/_matrix/media/v3/upload/${mxcPath(created.body.content_uri)}`, {
      token: alice.access_token,
      rawBody: "late",
      headers: { "content-type": "text/plain" },
      envOverrides: env,
    });
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });

  it("limits pending ids per user with 429 M_LIMIT_EXCEEDED, and frees a slot once one is uploaded", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const env = { MEDIA_MAX_PENDING_UPLOADS: "2" };
    const first = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env });
    const second = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env });
    expect([first.status, second.status]).toEqual([200, 200]);
    const third = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env });
    expect(third.status).toBe(429);
    expect(third.body.errcode).toBe("M_LIMIT_EXCEEDED");
    expect(third.body.retry_after_ms).toBeGreaterThan(0);
    expect(third.body.retry_after_ms).toBeLessThanOrEqual(24 * 3600 * 1000);
    // Another user has their own allowance.
    expect((await call("POST", "/_matrix/media/v1/create", { token: bob.access_token, envOverrides: env })).status).toBe(200);

    const put = await call("PUT", `/_matrix/media/v3/upload/${mxcPath(first.body.content_uri)}`, {
      token: alice.access_token,
      rawBody: "done",
      headers: { "content-type": "text/plain" },
    });
    expect(put.status).toBe(200);
    expect((await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env })).status).toBe(200);
  });

  it("does not count expired ids against the limit", async () => {
    const alice = await registerUser();
    const env = { MEDIA_MAX_PENDING_UPLOADS: "1", MEDIA_UNUSED_EXPIRY_MS: "1" };
    expect((await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env })).status).toBe(200);
    await sleep(10);
    expect((await call("POST", "/_matrix/media/v1/create", { token: alice.access_token, envOverrides: env })).status).toBe(200);
  });

  it("refuses a too-large body with 413 and lets the creator retry", async () => {
    const alice = await registerUser();
    const created = await call("POST", "/_matrix/media/v1/create", { token: alice.access_token });
    const path = mxcPath(created.body.content_uri);
    const big = await fetchBytes("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, body: byteStream(2000, 100), envOverrides: SMALL });
    expect(big.status).toBe(413);
    expect(big.json.errcode).toBe("M_TOO_LARGE");
    const ok = await fetchBytes("PUT", `/_matrix/media/v3/upload/${path}`, { token: alice.access_token, body: byteStream(500, 100), envOverrides: SMALL });
    expect(ok.status).toBe(200);
    const got = await fetchBytes("GET", `/_matrix/client/v1/media/download/${path}`, { token: alice.access_token });
    expect([...got.bytes]).toEqual(Array.from({ length: 500 }, (_, i) => patternByte(i)));
  });

  it("requires an access token for both steps", async () => {
    expect((await call("POST", "/_matrix/media/v1/create")).status).toBe(401);
    expect((await call("PUT", "/_matrix/media/v3/upload/test.local/abc", { rawBody: "x" })).status).toBe(401);
  });
});
