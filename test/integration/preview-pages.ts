/**
 * Global setup for the URL preview tests: a real HTTP server on 127.0.0.1 (a free port) that the
 * Worker under test fetches, so the loopback guard is tested against a real loopback address.
 * Its address reaches the tests as `inject("previewOrigin")`; `/_hits?path=` counts requests per
 * path so tests can tell a cached preview from a fetched one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { png } from "../support/images";

declare module "vitest" {
  export interface ProvidedContext {
    /** e.g. http://127.0.0.1:41234 — the preview test pages. */
    previewOrigin: string;
  }
}

const PAGE = `<!doctype html>
<html><head>
<title>Ignored: og:title wins</title>
<meta property="og:title" content="Stratus &amp; friends">
<meta property="og:description" content="A page about   previews">
<meta property="og:image" content="/image.png">
<meta property="og:image:width" content="999">
<meta name="description" content="not used">
</head><body><p>Hello</p></body></html>`;

const PLAIN = `<html><head><title>Plain
  page</title><meta name="description" content="Only a description"></head><body></body></html>`;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const image = png(200, 100);
  const hugeImage = png(1200, 1200);
  const hits = new Map<string, number>();
  const html = (res: ServerResponse, body: string, status = 200) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
    res.end(body);
  };

  // The same pages on a second loopback address, as a redirect target that a policy allowing only
  // 127.0.0.1 must refuse. Traffic to it never leaves this machine.
  let otherPort = 0;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/_hits") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ hits: hits.get(url.searchParams.get("path") ?? "") ?? 0 }));
      return;
    }
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    switch (url.pathname) {
      case "/page.html":
      case "/counted.html":
        return html(res, PAGE);
      case "/plain.html":
        return html(res, PLAIN);
      case "/image.png":
        res.writeHead(200, { "content-type": "image/png" });
        return res.end(image);
      case "/huge.png":
        res.writeHead(200, { "content-type": "image/png" });
        return res.end(hugeImage);
      case "/huge-image.html":
        return html(res, `<html><head><title>Big picture</title><meta property="og:image" content="/huge.png"></head></html>`);
      case "/fake-image.html":
        // An "image" that is really HTML must not become media.
        return html(res, `<html><head><title>Fake</title><meta property="og:image" content="/plain.html"></head></html>`);
      case "/long.html":
        return html(res, `<html><head><title>Long page</title></head><body>${"x".repeat(2 * 1024 * 1024)}</body></html>`);
      case "/latin1.html":
        res.writeHead(200, { "content-type": "text/html; charset=iso-8859-1" });
        return res.end(Buffer.from("<title>Caf\xe9</title>", "latin1"));
      case "/odd-charset.html":
        res.writeHead(200, { "content-type": "text/html; charset=x-no-such-charset" });
        return res.end("<title>Odd</title>");
      case "/doc.pdf":
        res.writeHead(200, { "content-type": "application/pdf" });
        return res.end("%PDF-1.4");
      case "/missing":
        return html(res, "<title>gone</title>", 404);
      case "/redirect":
        res.writeHead(302, { location: "/page.html" });
        return res.end();
      case "/redirect-elsewhere":
        // Another loopback address: refused unless allowed, and never leaves this machine.
        res.writeHead(302, { location: `http://127.0.0.2:${otherPort}/page.html` });
        return res.end();
      case "/loop":
        res.writeHead(302, { location: "/loop" });
        return res.end();
      case "/slow":
        setTimeout(() => html(res, "<title>late</title>"), 3_000);
        return;
      default:
        if (url.pathname.startsWith("/img/")) {
          res.writeHead(200, { "content-type": "image/png" });
          return res.end(image);
        }
        return html(res, "<title>not found</title>", 404);
    }
  };
  const server = createServer(handle);
  const other = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.2", resolve));
  otherPort = (other.address() as AddressInfo).port;
  const { port } = server.address() as AddressInfo;
  project.provide("previewOrigin", `http://127.0.0.1:${port}`);
  return async () => {
    for (const s of [server, other]) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  };
}
