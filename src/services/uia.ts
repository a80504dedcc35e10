/**
 * User-Interactive Authentication (spec: Client-Server § User-Interactive Authentication API),
 * written once and used by every endpoint that needs it.
 *
 * A request without `auth` starts a session and gets 401 with `flows`, `params`, `session` and
 * `completed`. Each further request completes one stage; a failed stage answers 401 with the same
 * body plus `errcode`/`error`. When every stage of one flow is done the request proceeds and the
 * session is deleted, so it can't be replayed. A session is bound to the endpoint (and user) it
 * was started for.
 */
import { MatrixError } from "../api/errors";
import { getUser } from "../storage/d1/users";
import { getUiaSession, insertUiaSession, setUiaProgress, deleteUiaSession, type UiaSessionRow } from "../storage/d1/uia";
import type { Deps } from "./deps";
import { verifyPassword } from "./passwords";
import { randomToken } from "./random";
import { checkRegistrationToken } from "./registration-tokens";
import { resolveUserId } from "./user-ids";
import { enforceRateLimit } from "./rate-limit";

export type UiaStage = "m.login.password" | "m.login.dummy" | "m.login.registration_token";

export interface UiaRequirement {
  /** e.g. "POST /register": a session only works where it was started. */
  endpoint: string;
  flows: UiaStage[][];
  /** The authenticated user, for stages that prove identity. */
  userId?: string;
}

export interface UiaResult {
  /** Facts the stages established, e.g. `registration_token`. */
  data: Record<string, string>;
}

/** The 401 body of the spec: flows, params, session and completed, and errcode only after a failed stage. */
export class UiaChallenge extends MatrixError {
  constructor(
    private readonly body: Record<string, unknown>,
    failure?: { errcode: string; error: string },
  ) {
    super(failure?.errcode ?? "M_UNAUTHORIZED", failure?.error ?? "Additional authentication required", {}, 401);
    if (failure) Object.assign(this.body, failure);
  }

  override toJSON(): Record<string, unknown> {
    return this.body;
  }
}

const SESSION_LIFETIME_MS = 30 * 60 * 1000;

function challengeBody(req: UiaRequirement, sessionId: string, completed: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  return { flows: req.flows.map((stages) => ({ stages })), params, session: sessionId, completed };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function loadSession(deps: Deps, req: UiaRequirement, sessionId: string): Promise<UiaSessionRow> {
  const row = await getUiaSession(deps.env.DB, sessionId);
  if (!row || row.created_ts + SESSION_LIFETIME_MS < deps.now()) throw new MatrixError("M_UNKNOWN", "Unknown or expired UIA session");
  if (row.endpoint !== req.endpoint || (row.user_id ?? undefined) !== req.userId) {
    throw new MatrixError("M_FORBIDDEN", "This UIA session belongs to another request");
  }
  return row;
}

type StageOutcome = { ok: true; data?: Record<string, string> } | { ok: false; errcode: string; error: string };

async function runStage(deps: Deps, req: UiaRequirement, stage: UiaStage, auth: Record<string, unknown>): Promise<StageOutcome> {
  switch (stage) {
    case "m.login.dummy":
      return { ok: true };
    case "m.login.password": {
      if (!req.userId) return { ok: false, errcode: "M_FORBIDDEN", error: "Password stage needs a logged-in user" };
      const identifier = isObject(auth.identifier) ? auth.identifier : { type: "m.id.user", user: auth.user };
      if (identifier.type !== "m.id.user" || typeof identifier.user !== "string") {
        return { ok: false, errcode: "M_UNKNOWN", error: "Only m.id.user identifiers are supported" };
      }
      const claimed = resolveUserId(identifier.user, deps.config.serverName);
      if (claimed !== req.userId) return { ok: false, errcode: "M_FORBIDDEN", error: "Identifier does not match the logged-in user" };
      await enforceRateLimit(deps, "login-account", req.userId, deps.config.rateLimits.loginPerAccount);
      const user = await getUser(deps.env.DB, req.userId);
      const ok = typeof auth.password === "string" && user?.password_hash ? await verifyPassword(auth.password, user.password_hash) : false;
      return ok ? { ok: true } : { ok: false, errcode: "M_FORBIDDEN", error: "Invalid password" };
    }
    case "m.login.registration_token": {
      if (typeof auth.token !== "string") return { ok: false, errcode: "M_MISSING_PARAM", error: "Missing token" };
      // The registration route already charged this attempt to the client's address.
      const valid = await checkRegistrationToken(deps, auth.token);
      return valid ? { ok: true, data: { registration_token: auth.token } } : { ok: false, errcode: "M_FORBIDDEN", error: "Invalid registration token" };
    }
  }
}

/**
 * Runs UIA for one request. Returns when a flow is complete; otherwise throws the 401 challenge.
 */
export async function requireUia(deps: Deps, req: UiaRequirement, auth: unknown): Promise<UiaResult> {
  const db = deps.env.DB;
  let row: UiaSessionRow;
  if (isObject(auth) && typeof auth.session === "string") {
    row = await loadSession(deps, req, auth.session);
  } else {
    const sessionId = randomToken(18);
    await insertUiaSession(db, { sessionId, endpoint: req.endpoint, userId: req.userId ?? null, now: deps.now() });
    row = { session_id: sessionId, endpoint: req.endpoint, user_id: req.userId ?? null, completed: "[]", data: "{}", created_ts: deps.now() };
  }
  const completed = JSON.parse(row.completed) as string[];
  const data = JSON.parse(row.data) as Record<string, string>;

  if (!isObject(auth) || auth.type === undefined) {
    throw new UiaChallenge(challengeBody(req, row.session_id, completed));
  }
  const stage = auth.type;
  if (typeof stage !== "string" || !req.flows.some((flow) => (flow as string[]).includes(stage))) {
    throw new UiaChallenge(challengeBody(req, row.session_id, completed), {
      errcode: "M_UNRECOGNIZED",
      error: `Stage ${String(stage)} is not offered here`,
    });
  }
  const outcome = await runStage(deps, req, stage as UiaStage, auth);
  if (!outcome.ok) {
    throw new UiaChallenge(challengeBody(req, row.session_id, completed), { errcode: outcome.errcode, error: outcome.error });
  }
  if (!completed.includes(stage)) completed.push(stage);
  Object.assign(data, outcome.data ?? {});

  if (req.flows.some((flow) => flow.every((s) => completed.includes(s)))) {
    await deleteUiaSession(db, row.session_id);
    return { data };
  }
  await setUiaProgress(db, row.session_id, completed, data);
  throw new UiaChallenge(challengeBody(req, row.session_id, completed));
}
