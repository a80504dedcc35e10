/**
 * End-to-end encryption key management (spec: Client-Server § End-to-End Encryption, § Key
 * management API, § Cross-signing). Key backup is in key-backup.ts, dehydrated devices in
 * dehydrated-device.ts.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import { uploadSignatures, uploadSigningKeys } from "../../services/cross-signing";
import { keyChanges } from "../../services/device-lists";
import { claimKeys, queryKeys, uploadKeys } from "../../services/e2ee-keys";
import { parseSyncToken } from "../../services/sync";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/** `<algorithm>:<key id>`, as one-time and fallback keys are named. */
const keyId = z.string().regex(/^[^:]+:[^:]+$/, "key names must be <algorithm>:<key_id>");
/** A key object: a bare key (`curve25519`) or a signed one (`signed_curve25519`: key, signatures, …). */
const keyObject = z.union([z.string(), z.looseObject({})]);

export const deviceKeys = z.looseObject({
  user_id: z.string(),
  device_id: z.string(),
  algorithms: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  signatures: z.record(z.string(), z.record(z.string(), z.string())),
});

/** The key fields of a POST /keys/upload body, shared with PUT /dehydrated_device (MSC3814). */
export const keyUploadFields = {
  device_keys: deviceKeys.optional(),
  one_time_keys: z.record(keyId, keyObject).optional(),
  fallback_keys: z.record(keyId, keyObject).optional(),
};

export function registerE2eeKeyRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/client/v3/keys/upload — spec: § Key management API, POST /keys/upload
  route(app, {
    method: "POST",
    paths: clientPaths("/keys/upload"),
    auth: "user",
    body: z.looseObject(keyUploadFields),
    handler: ({ deps, session, body }) =>
      uploadKeys(deps, session, {
        device_keys: body.device_keys as JsonObject | undefined,
        one_time_keys: body.one_time_keys as Record<string, JsonObject | string> | undefined,
        fallback_keys: body.fallback_keys as Record<string, JsonObject | string> | undefined,
      }),
  });

  // POST /_matrix/client/v3/keys/query — spec: § Key management API, POST /keys/query
  route(app, {
    method: "POST",
    paths: clientPaths("/keys/query"),
    auth: "user",
    body: z.looseObject({ device_keys: z.record(z.string(), z.array(z.string())), timeout: z.number().optional() }),
    handler: ({ deps, session, body }) => queryKeys(deps, session, body.device_keys),
  });

  // POST /_matrix/client/v3/keys/claim — spec: § Key management API, POST /keys/claim
  route(app, {
    method: "POST",
    paths: clientPaths("/keys/claim"),
    auth: "user",
    body: z.looseObject({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())), timeout: z.number().optional() }),
    handler: ({ deps, body }) => claimKeys(deps, body.one_time_keys),
  });

  // POST /_matrix/client/v3/keys/device_signing/upload — spec: § Cross-signing (UIA to replace keys)
  route(app, {
    method: "POST",
    paths: clientPaths("/keys/device_signing/upload"),
    auth: "user",
    body: z.looseObject({
      master_key: z.looseObject({}).optional(),
      self_signing_key: z.looseObject({}).optional(),
      user_signing_key: z.looseObject({}).optional(),
      auth: z.unknown().optional(),
    }),
    handler: ({ deps, session, body }) =>
      uploadSigningKeys(
        deps,
        session,
        {
          master_key: body.master_key as JsonObject | undefined,
          self_signing_key: body.self_signing_key as JsonObject | undefined,
          user_signing_key: body.user_signing_key as JsonObject | undefined,
        },
        body.auth,
      ),
  });

  // POST /_matrix/client/v3/keys/signatures/upload — spec: § Cross-signing
  route(app, {
    method: "POST",
    paths: clientPaths("/keys/signatures/upload"),
    auth: "user",
    body: z.record(z.string(), z.record(z.string(), z.unknown())),
    handler: ({ deps, session, body }) => uploadSignatures(deps, session, body),
  });

  // GET /_matrix/client/v3/keys/changes?from=&to= — spec: § Key management API, GET /keys/changes
  route(app, {
    method: "GET",
    paths: clientPaths("/keys/changes"),
    auth: "user",
    query: z.looseObject({ from: z.string(), to: z.string() }),
    handler: ({ deps, session, query }) => keyChanges(deps, session.userId, parseSyncToken(query.from), parseSyncToken(query.to)),
  });
}
