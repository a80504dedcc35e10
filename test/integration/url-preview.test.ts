/**
 * GET /_matrix/client/v1/media/preview_url and the legacy /_matrix/media/v3/preview_url (spec:
 * Client-Server § Content repository). The pages are served by a real HTTP server on 127.0.0.1
 * (preview-pages.ts), so the loopback guard is exercised against a real loopback address.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { imageSize } from "../support/images";
import { ConfigError, readConfig } from "../../src/config";
import { call, registerUser, testEnv } from "./helpers";
import { fetchBytes, mxcPath } from "./media-helpers";

const origin = inject("previewOrigin");
const port = new URL(origin).port;
/** Previews on, and exactly the test server's address allowed. */
const LOOPBACK_ALLOWED = { URL_PREVIEW_ENABLED: "on", URL_PREVIEW_ALLOW: "127.0.0.1" };

let token: string;
beforeAll(async () => {
  token = (await registerUser()).access_token;
});

/** Each test asks for its own URL (a query string), so the KV cache of one test can't answer another. */
let unique = 0;
function pageUrl(path: string): string {
  unique += 1;
  return `${origin}${path}${path.includes("?") ? "&" : "?"}t=${Date.now()}-${unique}`;
}

function preview(url: string, envOverrides: Record<string, string> = LOOPBACK_ALLOWED, extra = "", prefix = "/_matrix/client/v1/media") {
  return call("GET", `${prefix}/preview_url?url=${encodeURIComponent(url)}${extra}`, { token, envOverrides });
}

async function hits(path: string): Promise<number> {
  return ((await (await fetch(`${origin}/_hits?path=${encodeURIComponent(path)}`)).json()) as { hits: number }).hits;
}

describe("the issue's loopback test", () => {
  it("a page on 127.0.0.1 is previewed only when loopback is allowed", async () => {
    const url = pageUrl("/page.html");
    const refused = await preview(url, { URL_PREVIEW_ENABLED: "on" });
    expect(refused.status).toBe(403);
    expect(refused.body.errcode).toBe("M_FORBIDDEN");

    const res = await preview(url);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      "og:title": "Stratus & friends",
      "og:description": "A page about previews",
      "og:image:type": "image/png",
      // Measured from the image itself, not the page's claim of 999.
      "og:image:width": 200,
      "og:image:height": 100,
    });
    expect(res.body["og:image"]).toMatch(/^mxc:\/\/test\.local\/[A-Za-z0-9_-]+$/);

    // The image is now in the media repository, byte for byte.
    const image = await fetchBytes("GET", `/_matrix/client/v1/media/download/${mxcPath(res.body["og:image"])}`, { token });
    expect(image.status).toBe(200);
    expect(image.bytes.byteLength).toBe(res.body["matrix:image:size"]);
    expect(imageSize(image.bytes)).toEqual({ type: "png", width: 200, height: 100 });
  });
});

describe("previews", () => {
  it("fall back to <title> and the meta description", async () => {
    const res = await preview(pageUrl("/plain.html"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ "og:title": "Plain page", "og:description": "Only a description" });
  });

  it("a URL that is an image becomes an mxc:// image", async () => {
    const res = await preview(pageUrl("/image.png"));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ "og:image:type": "image/png", "og:image:width": 200, "og:image:height": 100 });
    expect(res.body["og:image"]).toMatch(/^mxc:\/\//);
    // A file name that is not valid percent-encoding is kept as written, not a server error.
    const odd = await preview(pageUrl("/img/50%zz.png"));
    expect(odd.status).toBe(200);
    expect(odd.body["og:image:type"]).toBe("image/png");
  });

  it("reads pages in the charset they declare, and unknown charsets as UTF-8", async () => {
    expect((await preview(pageUrl("/latin1.html"))).body).toEqual({ "og:title": "Caf\u00e9" });
    const odd = await preview(pageUrl("/odd-charset.html"));
    expect(odd.status).toBe(200);
    expect(odd.body).toEqual({ "og:title": "Odd" });
  });

  it("other content gives an empty preview", async () => {
    const res = await preview(pageUrl("/doc.pdf"));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it("a page longer than the size cap is read up to the cap", async () => {
    const res = await preview(pageUrl("/long.html"), { ...LOOPBACK_ALLOWED, URL_PREVIEW_MAX_BYTES: "65536" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ "og:title": "Long page" });
  });

  it("an image over the size cap, or one that is not an image, is left out", async () => {
    const big = await preview(pageUrl("/huge-image.html"), { ...LOOPBACK_ALLOWED, URL_PREVIEW_MAX_BYTES: "2048" });
    expect(big.status).toBe(200);
    expect(big.body).toEqual({ "og:title": "Big picture" });
    const fake = await preview(pageUrl("/fake-image.html"));
    expect(fake.body).toEqual({ "og:title": "Fake" });
  });

  it("follows redirects it is allowed to", async () => {
    const res = await preview(pageUrl("/redirect"));
    expect(res.status).toBe(200);
    expect(res.body["og:title"]).toBe("Stratus & friends");
  });

  it("are cached: a second request does not fetch the page again, unless asked for a newer one", async () => {
    const url = `${origin}/counted.html`;
    const first = await preview(url);
    expect(first.status).toBe(200);
    expect(await hits("/counted.html")).toBe(1);
    const again = await preview(url);
    expect(again.body).toEqual(first.body);
    const older = await preview(url, LOOPBACK_ALLOWED, "&ts=1000");
    expect(older.body).toEqual(first.body);
    expect(await hits("/counted.html")).toBe(1);
    await preview(url, LOOPBACK_ALLOWED, `&ts=${Date.now() + 60_000}`);
    expect(await hits("/counted.html")).toBe(2);
  });
});

describe("server-side request forgery guard", () => {
  it("checks every redirect target", async () => {
    const res = await preview(pageUrl("/redirect-elsewhere"));
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    // Allowing the other address lets it through.
    const allowed = await preview(pageUrl("/redirect-elsewhere"), { URL_PREVIEW_ENABLED: "on", URL_PREVIEW_ALLOW: "127.0.0.0/8" });
    expect(allowed.status).toBe(200);
  });

  it("refuses loopback however it is written, and local names", async () => {
    const on = { URL_PREVIEW_ENABLED: "on" };
    for (const host of ["127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]", "localhost", "LocalHost.", "api.localhost", "printer.local", "router"]) {
      const res = await preview(`http://${host}:${port}/page.html`, on);
      expect(res.status, host).toBe(403);
      expect(res.body.errcode, host).toBe("M_FORBIDDEN");
    }
  });

  it("a denied address stays denied when a wider range is allowed", async () => {
    const res = await preview(pageUrl("/page.html"), { URL_PREVIEW_ENABLED: "on", URL_PREVIEW_ALLOW: "127.0.0.0/8", URL_PREVIEW_DENY: "127.0.0.1" });
    expect(res.status).toBe(403);
  });
});

describe("errors", () => {
  it("previews are off unless enabled: 404 M_UNRECOGNIZED", async () => {
    const res = await preview(pageUrl("/page.html"), {});
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_UNRECOGNIZED");
  });

  it("a page answering an error: 502", async () => {
    const res = await preview(pageUrl("/missing"));
    expect(res.status).toBe(502);
    expect(res.body.errcode).toBe("M_UNKNOWN");
  });

  it("too many redirects: 502", async () => {
    const res = await preview(`${origin}/loop`);
    expect(res.status).toBe(502);
    expect(res.body.errcode).toBe("M_UNKNOWN");
  });

  it("a page slower than the timeout: 504", async () => {
    const res = await preview(pageUrl("/slow"), { ...LOOPBACK_ALLOWED, URL_PREVIEW_TIMEOUT_MS: "300" });
    expect(res.status).toBe(504);
    expect(res.body.errcode).toBe("M_UNKNOWN");
  });

  it("URLs that are not http(s), and bad parameters: 400", async () => {
    for (const url of ["ftp://example.com/", "not a url", "file:///etc/passwd", "https://user:secret@example.com/"]) {
      const res = await preview(url);
      expect(res.status, url).toBe(400);
      expect(res.body.errcode, url).toBe("M_INVALID_PARAM");
    }
    const missing = await call("GET", "/_matrix/client/v1/media/preview_url", { token, envOverrides: LOOPBACK_ALLOWED });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_INVALID_PARAM");
    const badTs = await preview(pageUrl("/page.html"), LOOPBACK_ALLOWED, "&ts=yesterday");
    expect(badTs.status).toBe(400);
  });

  it("needs an access token", async () => {
    const res = await call("GET", `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent(origin)}`, { envOverrides: LOOPBACK_ALLOWED });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });
});

describe("legacy /_matrix/media/v3/preview_url", () => {
  it("answers only while the legacy media switch is on", async () => {
    const off = await preview(pageUrl("/plain.html"), LOOPBACK_ALLOWED, "", "/_matrix/media/v3");
    expect(off.status).toBe(404);
    expect(off.body.errcode).toBe("M_UNRECOGNIZED");
    const on = await preview(pageUrl("/plain.html"), { ...LOOPBACK_ALLOWED, MEDIA_LEGACY_UNAUTHENTICATED: "on" }, "", "/_matrix/media/v3");
    expect(on.status).toBe(200);
    expect(on.body["og:title"]).toBe("Plain page");
  });
});

describe("configuration", () => {
  it("refuses malformed lists and switches at start-up", () => {
    expect(() => readConfig({ ...testEnv, URL_PREVIEW_ALLOW: "127.0.0.1, not a host!" })).toThrow(ConfigError);
    expect(() => readConfig({ ...testEnv, URL_PREVIEW_DENY: "10.0.0.0/99" })).toThrow(ConfigError);
    expect(() => readConfig({ ...testEnv, URL_PREVIEW_ENABLED: "yes" })).toThrow(ConfigError);
    expect(() => readConfig({ ...testEnv, URL_PREVIEW_TIMEOUT_MS: "0" })).toThrow(ConfigError);
    const config = readConfig({ ...testEnv, URL_PREVIEW_ENABLED: "on", URL_PREVIEW_ALLOW: "10.0.0.0/8, *.corp.example" });
    expect(config.urlPreview.enabled).toBe(true);
    expect(config.urlPreview.policy.allowHosts).toEqual(["*.corp.example"]);
    expect(readConfig(testEnv).urlPreview.enabled).toBe(false);
  });
});
