/** Helpers for integration tests: requests go through the Worker's own fetch handler inside workerd. */
import { env, exports } from "cloudflare:workers";
import { buildApp } from "../../src/app";
import type { Env } from "../../src/env";

export const testEnv = env as unknown as Env;

export const PASSWORD = "correct horse battery staple";

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as is: a string, raw bytes (e.g. invalid UTF-8) or a stream (no Content-Length). */
  rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
  token?: string;
  headers?: Record<string, string>;
  /** Run against a variant of the environment (e.g. another registration mode). */
  envOverrides?: Partial<Env>;
}

let overriddenApp: ReturnType<typeof buildApp> | undefined;

export async function call<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] = "application/json";
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const request = new Request(`https://test.local${path}`, { method, headers, body } as RequestInit);
  let res: Response;
  if (opts.envOverrides) {
    overriddenApp ??= buildApp();
    res = await overriddenApp.fetch(request, { ...testEnv, ...opts.envOverrides }, { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext);
  } else {
    res = await (exports as any).default.fetch(request);
  }
  const text = await res.text();
  let parsed: any = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let counter = 0;
export function uniqueName(prefix = "user"): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Registers a user through the open-registration flow and returns its login. */
export async function registerUser(username = uniqueName(), password = PASSWORD, extra: Record<string, unknown> = {}) {
  const res = await call("POST", "/_matrix/client/v3/register", {
    body: { username, password, auth: { type: "m.login.dummy" }, ...extra },
  });
  if (res.status !== 200) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(res.body as { user_id: string; access_token: string; device_id: string; refresh_token?: string }), username, password };
}

/** Password login; returns the raw response so tests can assert on failures too. */
export function login(user: string, password: string = PASSWORD, extra: Record<string, unknown> = {}, opts: RequestOptions = {}) {
  return call("POST", "/_matrix/client/v3/login", {
    ...opts,
    body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password, ...extra },
  });
}

/** Logs in and fails the test if that doesn't work. */
export async function loginOk(user: string, password: string = PASSWORD, extra: Record<string, unknown> = {}) {
  const res = await login(user, password, extra);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { user_id: string; access_token: string; device_id: string; refresh_token?: string; expires_in_ms?: number };
}

/** The `auth` dict of an m.login.password UIA stage. */
export function passwordAuth(userId: string, password: string = PASSWORD, session?: string) {
  return { type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password, ...(session ? { session } : {}) };
}

export function whoami(token: string) {
  return call("GET", "/_matrix/client/v3/account/whoami", { token });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
