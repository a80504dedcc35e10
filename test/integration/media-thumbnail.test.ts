/**
 * GET /_matrix/client/v1/media/thumbnail and the legacy /_matrix/media/v3/thumbnail (spec:
 * Client-Server § Content repository § Thumbnails). Images are generated in the test; the returned
 * thumbnails are measured from their own bytes, never from response headers.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../src/config";
import { SPEC_THUMBNAIL_SIZES } from "../../src/matrix/media/thumbnail-size";
import { thumbnailPrefix } from "../../src/storage/r2/media";
import { gif, imageSize, isReddish, jpeg, makeImage, pixelAt, png, webp } from "../support/images";
import { call, registerUser, testEnv } from "./helpers";
import { fetchBytes, mxcPath, uploadOk } from "./media-helpers";

const DYNAMIC = { THUMBNAIL_DYNAMIC: "on" };

let token: string;
let photo: string; // a 640x480 PNG, red at the left and right edges
let photoJpeg: string;

beforeAll(async () => {
  token = (await registerUser()).access_token;
  photo = mxcPath(await uploadOk(token, png(640, 480), "image/png", "photo.png"));
  photoJpeg = mxcPath(await uploadOk(token, jpeg(640, 480), "image/jpeg"));
});

function thumbnail(path: string, query: string, opts: { envOverrides?: Record<string, string>; token?: string | null } = {}) {
  return fetchBytes("GET", `/_matrix/client/v1/media/thumbnail/${path}?${query}`, {
    token: opts.token === null ? undefined : (opts.token ?? token),
    envOverrides: opts.envOverrides,
  });
}

describe("thumbnail sizes (the issue's 640x480 PNG)", () => {
  it("scale fits within 64x64 keeping the aspect ratio: 64x48", async () => {
    const res = await thumbnail(photo, "width=64&height=64&method=scale", { envOverrides: DYNAMIC });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(imageSize(res.bytes)).toEqual({ type: "png", width: 64, height: 48 });
    // Scaling keeps the whole picture: the red edge is still there.
    expect(isReddish(pixelAt(res.bytes, 0, 24))).toBe(true);
  });

  it("crop fills exactly 64x64 from the centre", async () => {
    const res = await thumbnail(photo, "width=64&height=64&method=crop", { envOverrides: DYNAMIC });
    expect(res.status).toBe(200);
    expect(imageSize(res.bytes)).toEqual({ type: "png", width: 64, height: 64 });
    // The sides were cut off: no red at either edge.
    expect(isReddish(pixelAt(res.bytes, 0, 32))).toBe(false);
    expect(isReddish(pixelAt(res.bytes, 63, 32))).toBe(false);
  });

  it("without a method, scales", async () => {
    const res = await thumbnail(photo, "width=64&height=64", { envOverrides: DYNAMIC });
    expect(imageSize(res.bytes)).toMatchObject({ width: 64, height: 48 });
  });

  it("is the exact requested size by default", async () => {
    expect(imageSize((await thumbnail(photo, "width=64&height=64&method=crop")).bytes)).toMatchObject({ width: 64, height: 64 });
    expect(imageSize((await thumbnail(photo, "width=64&height=64&method=scale")).bytes)).toMatchObject({ width: 64, height: 48 });
  });

  it("with THUMBNAIL_DYNAMIC=off serves the smallest of the spec's sizes that covers the request", async () => {
    const FIXED = { envOverrides: { THUMBNAIL_DYNAMIC: "off" } };
    const crop = await thumbnail(photo, "width=64&height=64&method=crop", FIXED);
    expect(imageSize(crop.bytes)).toMatchObject({ width: 96, height: 96 });
    const scale = await thumbnail(photo, "width=64&height=64&method=scale", FIXED);
    expect(imageSize(scale.bytes)).toMatchObject({ width: 320, height: 240 });
    const small = await thumbnail(photo, "width=20&height=20&method=crop", FIXED);
    expect(imageSize(small.bytes)).toMatchObject({ width: 32, height: 32 });
  });

  it("dynamic sizes are bounded by the largest configured size", async () => {
    const res = await thumbnail(photoJpeg, "width=5000&height=5000&method=crop", { envOverrides: DYNAMIC });
    expect(imageSize(res.bytes)).toMatchObject({ width: 640, height: 480 });
    const configured = await thumbnail(photo, "width=50&height=50&method=crop", { envOverrides: { ...DYNAMIC, THUMBNAIL_SIZES: "40x40 crop" } });
    expect(imageSize(configured.bytes)).toMatchObject({ width: 40, height: 40 });
  });

  it("never upscales a small image", async () => {
    const tiny = mxcPath(await uploadOk(token, png(20, 10), "image/png"));
    const scale = await thumbnail(tiny, "width=800&height=600&method=scale");
    expect(imageSize(scale.bytes)).toMatchObject({ width: 20, height: 10 });
    const crop = await thumbnail(tiny, "width=96&height=96&method=crop");
    expect(imageSize(crop.bytes)).toMatchObject({ width: 20, height: 10 });
  });
});

describe("input formats", () => {
  it("JPEG in, JPEG out", async () => {
    const res = await thumbnail(photoJpeg, "width=96&height=96&method=crop");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-disposition")).toBe('inline; filename="thumbnail.jpg"');
    expect(imageSize(res.bytes)).toEqual({ type: "jpeg", width: 96, height: 96 });
  });

  it("WebP in, PNG out", async () => {
    const mxc = mxcPath(await uploadOk(token, webp(400, 200), "image/webp"));
    const res = await thumbnail(mxc, "width=100&height=100&method=scale", { envOverrides: DYNAMIC });
    expect(res.status).toBe(200);
    expect(imageSize(res.bytes)).toEqual({ type: "png", width: 100, height: 50 });
  });

  it("GIF in (first frame), PNG out", async () => {
    const mxc = mxcPath(await uploadOk(token, gif(160, 120), "image/gif"));
    const res = await thumbnail(mxc, "width=32&height=32&method=crop", { envOverrides: DYNAMIC });
    expect(res.status).toBe(200);
    expect(imageSize(res.bytes)).toEqual({ type: "png", width: 32, height: 32 });
    expect(isReddish(pixelAt(res.bytes, 16, 16))).toBe(false);
    const scaled = await thumbnail(mxc, "width=80&height=80&method=scale", { envOverrides: DYNAMIC });
    expect(imageSize(scaled.bytes)).toEqual({ type: "png", width: 80, height: 60 });
    expect(isReddish(pixelAt(scaled.bytes, 0, 30))).toBe(true);
  });

  it("animated=true still gets a still image (Stratus makes no animated thumbnails)", async () => {
    const mxc = mxcPath(await uploadOk(token, gif(64, 64), "image/gif"));
    const res = await thumbnail(mxc, "width=32&height=32&method=crop&animated=true");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
  });

  it("judges the bytes, not the uploaded Content-Type", async () => {
    const mislabelled = mxcPath(await uploadOk(token, jpeg(100, 100), "image/png"));
    const res = await thumbnail(mislabelled, "width=32&height=32&method=crop");
    expect(res.status).toBe(200);
    expect(imageSize(res.bytes)).toEqual({ type: "jpeg", width: 32, height: 32 });
    expect(res.headers.get("content-type")).toBe("image/jpeg");
  });
});

describe("serving", () => {
  it("carries the safe-serving headers", async () => {
    const res = await thumbnail(photo, "width=32&height=32&method=crop");
    expect(res.headers.get("content-disposition")).toBe('inline; filename="thumbnail.png"');
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Number(res.headers.get("content-length"))).toBe(res.bytes.byteLength);
  });

  it("keeps each generated size in R2 and serves it from there the next time", async () => {
    const mxc = mxcPath(await uploadOk(token, png(300, 300), "image/png"));
    const mediaId = mxc.split("/")[1]!;
    const first = await thumbnail(mxc, "width=96&height=96&method=crop");
    expect(imageSize(first.bytes)).toMatchObject({ width: 96, height: 96 });
    const listed = await testEnv.MEDIA.list({ prefix: thumbnailPrefix(mediaId) });
    expect(listed.objects.map((o) => o.key)).toEqual([`${thumbnailPrefix(mediaId)}96x96-crop.png`]);

    // Replace the stored thumbnail with a marker: a second request that regenerated would not return it.
    const marker = makeImage(7, 7);
    await testEnv.MEDIA.put(listed.objects[0]!.key, marker.get_bytes(), { httpMetadata: { contentType: "image/png" } });
    marker.free();
    const second = await thumbnail(mxc, "width=96&height=96&method=crop");
    expect(imageSize(second.bytes)).toMatchObject({ width: 7, height: 7 });
    // Another size is another object.
    await thumbnail(mxc, "width=32&height=32&method=crop");
    expect((await testEnv.MEDIA.list({ prefix: thumbnailPrefix(mediaId) })).objects).toHaveLength(2);
  });
});

describe("errors", () => {
  it("content that is not an image: 400 M_UNKNOWN", async () => {
    const text = mxcPath(await uploadOk(token, "just words", "text/plain"));
    const res = await thumbnail(text, "width=32&height=32");
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe("M_UNKNOWN");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    const svg = mxcPath(await uploadOk(token, "<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"));
    expect((await thumbnail(svg, "width=32&height=32")).json.errcode).toBe("M_UNKNOWN");
  });

  it("bytes that do not decode: 400 M_UNKNOWN", async () => {
    const broken = png(50, 50).slice(0, 60);
    const mxc = mxcPath(await uploadOk(token, broken, "image/png"));
    const res = await thumbnail(mxc, "width=32&height=32");
    expect(res.status).toBe(400);
    expect(res.json.errcode).toBe("M_UNKNOWN");
  });

  it("an image over the pixel or byte limit: 413 M_TOO_LARGE", async () => {
    // Sizes nobody asked for before, so nothing comes from the R2 cache.
    const res = await thumbnail(photo, "width=32&height=32&method=crop", { envOverrides: { THUMBNAIL_MAX_PIXELS: "300000", THUMBNAIL_SIZES: "33x33 crop", THUMBNAIL_DYNAMIC: "off" } });
    expect(res.status).toBe(413);
    expect(res.json.errcode).toBe("M_TOO_LARGE");
    const bytes = await thumbnail(photo, "width=32&height=32&method=crop", { envOverrides: { THUMBNAIL_MAX_SOURCE_BYTES: "100", THUMBNAIL_SIZES: "34x34 crop", THUMBNAIL_DYNAMIC: "off" } });
    expect(bytes.status).toBe(413);
    expect(bytes.json.errcode).toBe("M_TOO_LARGE");
  });

  it("unknown, remote and quarantined media: 404 M_NOT_FOUND", async () => {
    expect((await thumbnail("test.local/doesNotExist", "width=32&height=32")).json.errcode).toBe("M_NOT_FOUND");
    expect((await thumbnail(`other.example/${photo.split("/")[1]}`, "width=32&height=32")).status).toBe(404);
    const mxc = mxcPath(await uploadOk(token, png(40, 40), "image/png"));
    await testEnv.DB.prepare("UPDATE media SET quarantined = 1 WHERE media_id = ?").bind(mxc.split("/")[1]).run();
    const res = await thumbnail(mxc, "width=32&height=32");
    expect(res.status).toBe(404);
    expect(res.json.errcode).toBe("M_NOT_FOUND");
  });

  it("an id reserved but not uploaded: 504 M_NOT_YET_UPLOADED after timeout_ms", async () => {
    const created = await call("POST", "/_matrix/media/v1/create", { token });
    expect(created.status).toBe(200);
    const res = await thumbnail(mxcPath(created.body.content_uri), "width=32&height=32&timeout_ms=0");
    expect(res.status).toBe(504);
    expect(res.json.errcode).toBe("M_NOT_YET_UPLOADED");
  });

  it("bad parameters: 400 M_INVALID_PARAM", async () => {
    for (const query of ["height=32", "width=32", "width=0&height=32", "width=-5&height=32", "width=abc&height=32", "width=32&height=32&method=fit", "width=32&height=32&animated=yes", "width=3.5&height=32"]) {
      const res = await thumbnail(photo, query);
      expect(res.status, query).toBe(400);
      expect(res.json.errcode, query).toBe("M_INVALID_PARAM");
    }
  });

  it("needs an access token", async () => {
    const res = await thumbnail(photo, "width=32&height=32", { token: null });
    expect(res.status).toBe(401);
    expect(res.json.errcode).toBe("M_MISSING_TOKEN");
  });
});

describe("legacy /_matrix/media/v3/thumbnail", () => {
  it("is frozen (404 M_NOT_FOUND) unless unauthenticated media is switched on", async () => {
    const frozen = await fetchBytes("GET", `/_matrix/media/v3/thumbnail/${photo}?width=32&height=32&method=crop`);
    expect(frozen.status).toBe(404);
    expect(frozen.json.errcode).toBe("M_NOT_FOUND");

    const on = { MEDIA_LEGACY_UNAUTHENTICATED: "on" };
    for (const prefix of ["v3", "r0"]) {
      const res = await fetchBytes("GET", `/_matrix/media/${prefix}/thumbnail/${photo}?width=32&height=32&method=crop`, { envOverrides: on });
      expect(res.status).toBe(200);
      expect(imageSize(res.bytes)).toEqual({ type: "png", width: 32, height: 32 });
    }
  });
});

describe("configuration", () => {
  it("defaults to exact sizes bounded by the spec's, and refuses malformed settings", () => {
    expect(readConfig(testEnv).thumbnails).toMatchObject({ dynamic: true, sizes: SPEC_THUMBNAIL_SIZES });
    expect(() => readConfig({ ...testEnv, THUMBNAIL_SIZES: "32x32" })).toThrow(ConfigError);
    expect(() => readConfig({ ...testEnv, THUMBNAIL_DYNAMIC: "true" })).toThrow(ConfigError);
    expect(() => readConfig({ ...testEnv, THUMBNAIL_MAX_PIXELS: "-1" })).toThrow(ConfigError);
  });
});
