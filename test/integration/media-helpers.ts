/** Helpers for media tests: uploads, and requests whose responses are bytes rather than JSON. */
import { exports } from "cloudflare:workers";
import { buildApp } from "../../src/app";
import type { Env } from "../../src/env";
import { call, testEnv } from "./helpers";

export interface BytesResponse {
  status: number;
  bytes: Uint8Array;
  headers: Headers;
  /** The body parsed as JSON when it is JSON (errors), else undefined. */
  json: any;
}

let overriddenApp: ReturnType<typeof buildApp> | undefined;

/** A request that keeps the response body as bytes. */
export async function fetchBytes(
  method: string,
  path: string,
  opts: { token?: string; headers?: Record<string, string>; body?: BodyInit; envOverrides?: Partial<Env> } = {},
): Promise<BytesResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const request = new Request(`https://test.local${path}`, { method, headers, body: opts.body, duplex: "half" } as RequestInit);
  let res: Response;
  if (opts.envOverrides) {
    overriddenApp ??= buildApp();
    res = await overriddenApp.fetch(request, { ...testEnv, ...opts.envOverrides }, { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext);
  } else {
    res = await (exports as any).default.fetch(request);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: any = undefined;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) json = JSON.parse(new TextDecoder().decode(bytes));
  return { status: res.status, bytes, headers: res.headers, json };
}

/** Uploads bytes with POST /_matrix/media/v3/upload and returns the mxc URI, failing the test otherwise. */
export async function uploadOk(token: string, bytes: Uint8Array | string, contentType = "application/octet-stream", filename?: string): Promise<string> {
  const q = filename === undefined ? "" : `?filename=${encodeURIComponent(filename)}`;
  const res = await call("POST", `/_matrix/media/v3/upload${q}`, {
    token,
    rawBody: typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes,
    headers: { "content-type": contentType },
  });
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.content_uri as string;
}

/** `mxc://server/id` → `server/id`, as the download and thumbnail paths take it. */
export function mxcPath(mxc: string): string {
  const m = /^mxc:\/\/([^/]+)\/([^/]+)$/.exec(mxc);
  if (!m) throw new Error(`not an mxc URI: ${mxc}`);
  return `${m[1]}/${m[2]}`;
}

/** The byte at position `i` of a `byteStream`: varied, so a misplaced or repeated chunk shows. */
export function patternByte(i: number): number {
  return (i * 7 + (i >> 16)) % 251;
}

/** A stream of `total` bytes (see `patternByte`) in `chunk`-byte pieces: a request body without Content-Length. */
export function byteStream(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) {
        controller.close();
        return;
      }
      const n = Math.min(chunk, total - sent);
      const piece = new Uint8Array(n);
      for (let i = 0; i < n; i++) piece[i] = patternByte(sent + i);
      controller.enqueue(piece);
      sent += n;
    },
  });
}
