/**
 * Pushers (spec: Client-Server § Push Notifications, GET /pushers and POST /pushers/set), stored
 * in D1 (DESIGN §1). The user's object caches their pushers to deliver notifications
 * (docs/design/push-notifications.md), so every change tells the objects of the users it touched.
 */
import { MatrixError } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import { deletePusher, listPushers, upsertPusher, type PusherRow } from "../storage/d1/pushers";
import type { Deps } from "./deps";
import { checkOutboundUrl, type UrlPolicy } from "../matrix/media/url-policy";

/** The one path a push gateway answers notifications on (spec: Push Gateway API; POST /pushers/set, `data.url`). */
export const PUSH_NOTIFY_PATH = "/_matrix/push/v1/notify";
const MAX_APP_ID_CHARS = 64;
const MAX_PUSHKEY_BYTES = 512;

/** A pusher in its wire form (GET /pushers), plus what delivery needs. */
export interface Pusher {
  pushkey: string;
  kind: string;
  app_id: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag?: string;
  lang: string;
  data: JsonObject;
  /** When the pushkey was last set, in ms. */
  pushkeyTs: number;
}

function fromRow(row: PusherRow): Pusher {
  const p: Pusher = {
    pushkey: row.pushkey,
    kind: row.kind,
    app_id: row.app_id,
    app_display_name: row.app_display_name,
    device_display_name: row.device_display_name,
    lang: row.lang,
    data: JSON.parse(row.data) as JsonObject,
    pushkeyTs: row.pushkey_ts,
  };
  if (row.profile_tag !== null) p.profile_tag = row.profile_tag;
  return p;
}

export async function getPushers(deps: Deps, userId: string): Promise<Pusher[]> {
  return (await listPushers(deps.env.DB, userId)).map(fromRow);
}

/** GET /pushers: the wire fields only. */
export async function pushersForClient(deps: Deps, userId: string): Promise<JsonObject[]> {
  return (await getPushers(deps, userId)).map(({ pushkeyTs: _, ...wire }) => wire as unknown as JsonObject);
}

/** The body of POST /pushers/set after schema checks: types are right, presence is not checked yet. */
export interface PusherSetRequest {
  kind?: string | null;
  app_id?: string;
  pushkey?: string;
  app_display_name?: string;
  device_display_name?: string;
  profile_tag?: string;
  lang?: string;
  data?: JsonObject;
  append?: boolean;
}

function missing(names: string[]): MatrixError {
  return new MatrixError("M_MISSING_PARAM", `Missing parameters: ${names.join(", ")}`);
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * `data.url` of an http pusher: "MUST be an HTTPS URL with a path of /_matrix/push/v1/notify".
 * Plain http is accepted for a gateway on the loopback interface only, for development and tests.
 */
function checkGatewayUrl(url: unknown, policy: UrlPolicy): string {
  if (url === undefined) throw missing(["data.url"]);
  if (typeof url !== "string") throw new MatrixError("M_INVALID_PARAM", "data.url must be a string");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MatrixError("M_INVALID_PARAM", "data.url is not a valid URL");
  }
  if (parsed.pathname !== PUSH_NOTIFY_PATH) throw new MatrixError("M_INVALID_PARAM", `data.url must have the path ${PUSH_NOTIFY_PATH}`);
  const secure = parsed.protocol === "https:" || (parsed.protocol === "http:" && LOOPBACK_HOSTS.has(parsed.hostname));
  if (!secure) throw new MatrixError("M_INVALID_PARAM", "data.url must be an https URL");
  // The public internet only, unless PUSH_GATEWAY_ALLOW allows an address or name; checked again
  // before each request (objects/user/notifications-push.ts), so a narrowed policy also applies
  // to pushers set before it.
  const verdict = checkOutboundUrl(url, policy);
  if (!verdict.ok) throw new MatrixError("M_INVALID_PARAM", `data.url can't be used: ${verdict.reason}`);
  return url;
}

async function tellUsers(deps: Deps, userIds: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(userIds)].map((u) => typedStub<UserDurableObject, "pushersChanged">(deps.env.USERS.getByName(u)).pushersChanged(u)),
  );
}

/**
 * POST /pushers/set. `kind: null` deletes the user's pusher for (app_id, pushkey) (a missing one
 * is no error, as in Synapse); otherwise it is created or replaced, and unless `append` that pair
 * is removed from every other user.
 */
export async function setPusher(deps: Deps, userId: string, deviceId: string | undefined, req: PusherSetRequest): Promise<void> {
  const absent = (["kind", "app_id", "pushkey"] as const).filter((k) => req[k] === undefined);
  if (absent.length) throw missing(absent);
  const appId = req.app_id!;
  const pushkey = req.pushkey!;
  if (appId === "" || [...appId].length > MAX_APP_ID_CHARS) throw new MatrixError("M_INVALID_PARAM", `app_id must be 1 to ${MAX_APP_ID_CHARS} characters`);
  if (pushkey === "" || new TextEncoder().encode(pushkey).length > MAX_PUSHKEY_BYTES) {
    throw new MatrixError("M_INVALID_PARAM", `pushkey must be 1 to ${MAX_PUSHKEY_BYTES} bytes`);
  }
  if (req.kind === null) {
    if (await deletePusher(deps.env.DB, userId, appId, pushkey)) await tellUsers(deps, [userId]);
    return;
  }
  const required = (["app_display_name", "device_display_name", "lang", "data"] as const).filter((k) => req[k] === undefined);
  if (required.length) throw missing(required);
  const data = req.data!;
  switch (req.kind) {
    case "http":
      checkGatewayUrl(data.url, deps.config.pushGatewayPolicy);
      if (data.format !== undefined && data.format !== "event_id_only") throw new MatrixError("M_INVALID_PARAM", 'data.format must be "event_id_only" when given');
      break;
    case "email":
      // An email pusher's pushkey must be one of the user's validated email addresses; Stratus
      // has no third-party ids yet, so none is (Synapse answers the same for an unknown address).
      throw new MatrixError("M_THREEPID_NOT_FOUND", "Email pushers need a validated email address on the account; this server has none");
    default:
      throw new MatrixError("M_INVALID_PARAM", `Unknown pusher kind ${JSON.stringify(req.kind)}`);
  }
  const removedFrom = await upsertPusher(
    deps.env.DB,
    {
      user_id: userId,
      app_id: appId,
      pushkey,
      kind: req.kind,
      app_display_name: req.app_display_name!,
      device_display_name: req.device_display_name!,
      profile_tag: req.profile_tag ?? null,
      lang: req.lang!,
      data: JSON.stringify(data),
      pushkey_ts: deps.now(),
      device_id: deviceId ?? null,
    },
    req.append === true,
  );
  await tellUsers(deps, [userId, ...removedFrom]);
}

/** Pushkeys a gateway listed as `rejected` (spec: Push Gateway API): "the homeserver MUST remove them". */
export async function removeRejectedPushkeys(deps: Deps, userId: string, appId: string, pushkeys: string[]): Promise<void> {
  for (const pushkey of pushkeys) await deletePusher(deps.env.DB, userId, appId, pushkey);
}
