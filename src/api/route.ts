/**
 * Route declaration: each route is declared once with every path it answers on, its auth scheme
 * and its input schemas (DESIGN §2). The wrapper authenticates, parses and validates, so handlers
 * receive typed input and only ever see well-formed requests.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { Session } from "../services/sessions";
import { authenticateForUserObject, authenticateRequest, authFirst, type UserObjectAuth } from "../services/sessions";
import type { Deps } from "../services/deps";
import { badJson, invalidParam, MatrixError } from "./errors";
import type { AppEnv } from "./app-env";

/**
 * `user-object`: a user's request that their UserDurableObject answers (/sync, sliding sync); the
 * object checks the token itself, so a poll costs no D1 read (services/sessions.ts).
 */
export type AuthScheme = "none" | "user" | "optional" | "admin" | "user-object";
export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface HandlerInput<B, Q, A extends AuthScheme> {
  c: Context<AppEnv>;
  deps: Deps;
  body: B;
  query: Q;
  params: Record<string, string>;
  session: A extends "none" ? undefined : A extends "optional" ? Session | undefined : A extends "user-object" ? UserObjectAuth : Session;
  /** The client's address, for rate limiting. */
  ip: string;
}

export interface RouteSpec<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined, A extends AuthScheme> {
  method: Method;
  paths: string[];
  auth: A;
  body?: BS;
  query?: QS;
  handler: (
    input: HandlerInput<BS extends z.ZodType ? z.output<BS> : undefined, QS extends z.ZodType ? z.output<QS> : Record<string, never>, A>,
  ) => Promise<unknown> | unknown;
}

/** The spec's client-server path prefixes: r0 for old clients, v3 as the current one. */
export function clientPaths(suffix: string): string[] {
  return [`/_matrix/client/v3${suffix}`, `/_matrix/client/r0${suffix}`];
}

/** Paths introduced with the `v1` prefix (relations, media, …). */
export function clientV1Paths(suffix: string): string[] {
  return [`/_matrix/client/v1${suffix}`];
}

/** Every path any route answers on, so an unmatched method can be told apart from an unknown path. */
export const knownPaths: { method: Method; path: string }[] = [];

function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "Invalid request";
  const where = issue.path.length ? issue.path.join(".") : "request";
  return `${where}: ${issue.message}`;
}

async function readJsonBody(c: Context<AppEnv>, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(c.req.raw, maxBytes);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new MatrixError("M_NOT_JSON", "Content not JSON.");
  }
}

/** Reads the body, refusing it with 413 as soon as it passes the limit (even without Content-Length). */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new MatrixError("M_TOO_LARGE", "Request body too large");
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new MatrixError("M_TOO_LARGE", "Request body too large");
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(all);
  } catch {
    throw new MatrixError("M_NOT_JSON", "Content is not valid UTF-8.");
  }
}

export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip") ?? "unknown";
}

export function route<BS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, A extends AuthScheme = "none">(
  app: Hono<AppEnv>,
  spec: RouteSpec<BS, QS, A>,
): void {
  for (const path of spec.paths) {
    knownPaths.push({ method: spec.method, path });
    app.on(spec.method, path, async (c) => {
      const deps = c.get("deps");
      const session =
        spec.auth === "none"
          ? undefined
          : spec.auth === "user-object"
            ? await authenticateForUserObject(c, deps)
            : await authenticateRequest(c, deps, spec.auth === "optional");
      if (spec.auth === "admin" && !(session as Session | undefined)?.isAdmin) throw new MatrixError("M_FORBIDDEN", "You are not a server admin");

      const answer = async () => {
        let query: unknown = {};
        if (spec.query) {
          const parsed = spec.query.safeParse(c.req.query());
          if (!parsed.success) throw invalidParam(describeZodError(parsed.error));
          query = parsed.data;
        }
        let body: unknown = undefined;
        if (spec.body) {
          const raw = await readJsonBody(c, deps.config.maxRequestBytes);
          if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw badJson("Body must be a JSON object");
          const parsed = spec.body.safeParse(raw);
          if (!parsed.success) throw badJson(describeZodError(parsed.error));
          body = parsed.data;
        }
        const params: Record<string, string> = {};
        for (const [k, v] of Object.entries(c.req.param() as Record<string, string>)) params[k] = v;
        return spec.handler({
          c,
          deps,
          body: body as never,
          query: query as never,
          params,
          session: session as never,
          ip: clientIp(c),
        });
      };
      // The user object checks the token only when the handler calls it: anything refused before
      // that (bad query, body, filter) is refused after D1 has checked the token, so a bad token
      // is still reported first, as on every other route.
      const result = spec.auth === "user-object" ? await authFirst(deps, session as UserObjectAuth, answer) : await answer();
      if (result instanceof Response) return result;
      return c.json(result as object);
    });
  }
}
