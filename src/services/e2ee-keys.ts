/**
 * End-to-end encryption keys (spec: Client-Server § End-to-End Encryption, § Key management API):
 * uploading a device's identity, one-time and fallback keys, querying them, claiming one-time
 * keys, and the E2EE fields of /sync. Keys live in D1 (storage/d1/e2ee-keys.ts); changes of a
 * device list reach other users through services/device-lists.ts.
 *
 * Users of other servers would need federation, which is not built: they are reported under
 * `failures`, keyed by their server name, as the spec does for unreachable servers.
 */
import { invalidParam, MatrixError } from "../api/errors";
import { canonicalJson, CanonicalJsonError, type JsonObject } from "../matrix/canonical-json";
import { domainOf, isValidUserId } from "../matrix/auth/ids";
import { crossSigningPublicKey } from "../matrix/cross-signing-keys";
import { verifyJsonSignature } from "../matrix/signing";
import type { DeviceListNews } from "../objects/user/device-lists";
import { typedStub } from "../objects/rpc";
import type { UserDurableObject } from "../objects/user/user-object";
import {
  claimFallbackKeys,
  claimOneTimeKeys,
  countOneTimeKeys,
  crossSigningKeysOfUsers,
  deviceKeysOfUsers,
  getDeviceKeys,
  insertOneTimeKeys,
  oneTimeKeysById,
  putDeviceKeys,
  putFallbackKeyStatement,
  unusedFallbackKeyTypes,
  type ClaimedKey,
  type KeyClaim,
} from "../storage/d1/e2ee-keys";
import { signaturesOnKeysOf, type SignatureRow } from "../storage/d1/cross-signing";
import type { Deps } from "./deps";
import { notifyDeviceListChange, resolveDeviceLists, type DeviceListsWire } from "./device-lists";

export interface KeysSession {
  userId: string;
  deviceId: string;
}

export interface UploadKeysInput {
  device_keys?: JsonObject;
  one_time_keys?: Record<string, JsonObject | string>;
  fallback_keys?: Record<string, JsonObject | string>;
}

/** Failure entry for a server we can't reach (no federation yet). */
const FEDERATION_FAILURE = { status: 503, message: "Federation is not supported yet" } as const;

/** Canonical JSON of a client-supplied value; a value that has none (e.g. a float) is 400 M_BAD_JSON. */
export function canonical(value: unknown, what: string): string {
  try {
    return canonicalJson(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new MatrixError("M_BAD_JSON", `${what}: ${err.message}`);
    throw err;
  }
}

/** `<algorithm>:<key id>` → its algorithm (the schema has already checked the shape). */
function algorithmOf(keyId: string): string {
  return keyId.slice(0, keyId.indexOf(":"));
}

/**
 * One-time key counts as /keys/upload and /sync report them. `signed_curve25519` is always
 * present, as in Synapse: clients read a missing count as "unknown" rather than zero.
 */
export async function oneTimeKeyCounts(deps: Deps, userId: string, deviceId: string): Promise<Record<string, number>> {
  return { signed_curve25519: 0, ...(await countOneTimeKeys(deps.env.DB, userId, deviceId)) };
}

/**
 * Checks uploaded device keys: they must be this session's user and device (400 M_BAD_JSON with
 * Synapse's wording), carry `ed25519:<device_id>`, and be signed with it by the user (400
 * M_INVALID_PARAM otherwise). Returns the canonical JSON to store, without `unsigned`, which is
 * the server's to fill in.
 */
async function checkDeviceKeys(session: KeysSession, deviceKeys: JsonObject): Promise<string> {
  if (deviceKeys.user_id !== session.userId) {
    throw new MatrixError("M_BAD_JSON", "Provided `user_id` in `device_keys` does not match that of the authenticated user");
  }
  if (deviceKeys.device_id !== session.deviceId) {
    throw new MatrixError("M_BAD_JSON", "Provided `device_id` in `device_keys` does not match that of the authenticated user device");
  }
  const keyId = `ed25519:${session.deviceId}`;
  const ed25519 = (deviceKeys.keys as Record<string, string>)[keyId];
  if (typeof ed25519 !== "string") throw invalidParam(`device_keys.keys must hold the device's ${keyId} key`);
  const { unsigned: _unsigned, ...stored } = deviceKeys;
  const json = canonical(stored, "device_keys");
  if (!(await verifyJsonSignature(stored, session.userId, keyId, ed25519))) {
    throw invalidParam(`device_keys must be signed by ${session.userId} with ${keyId}`);
  }
  return json;
}

interface PreparedKey {
  keyId: string;
  algorithm: string;
  json: string;
}

/** Refuses a one-time key whose id is already stored with other content; returns the keys not stored yet. */
function newOneTimeKeys(wanted: PreparedKey[], existing: Map<string, string>): PreparedKey[] {
  for (const k of wanted) {
    const stored = existing.get(k.keyId);
    if (stored !== undefined && stored !== k.json) throw invalidParam(`One-time key ${k.keyId} already exists with different content`);
  }
  return wanted.filter((k) => !existing.has(k.keyId));
}

/**
 * Stores one-time keys (all or none, one statement). A key stored meanwhile by a concurrent upload
 * of the same ids makes the insert fail as a whole: look again and retry.
 */
async function storeOneTimeKeys(deps: Deps, session: KeysSession, wanted: PreparedKey[], existing: Map<string, string>): Promise<void> {
  const db = deps.env.DB;
  for (let attempt = 0; ; attempt++) {
    try {
      await insertOneTimeKeys(db, { userId: session.userId, deviceId: session.deviceId, keys: newOneTimeKeys(wanted, existing), now: deps.now() });
      return;
    } catch (err) {
      if (attempt >= 2 || !/UNIQUE/i.test(String(err))) throw err;
    }
    existing = await oneTimeKeysById(db, session.userId, session.deviceId, wanted.map((k) => k.keyId));
  }
}

function prepareKeys(keys: Record<string, JsonObject | string> | undefined, what: string): PreparedKey[] {
  return Object.entries(keys ?? {}).map(([keyId, key]) => ({ keyId, algorithm: algorithmOf(keyId), json: canonical(key, `${what}.${keyId}`) }));
}

/** A checked /keys/upload body, ready to be written. */
export interface PreparedKeyUpload {
  deviceKeysJson: string | undefined;
  oneTimeKeys: PreparedKey[];
  fallback: PreparedKey[];
  existing: Map<string, string>;
}

/**
 * Checks a /keys/upload body (also the keys of a dehydrated device) without writing anything.
 * `newDevice`: the device is being created, so it has no stored one-time keys to compare with.
 */
export async function prepareKeyUpload(deps: Deps, session: KeysSession, input: UploadKeysInput, newDevice = false): Promise<PreparedKeyUpload> {
  const deviceKeysJson = input.device_keys ? await checkDeviceKeys(session, input.device_keys) : undefined;
  const fallback = new Map<string, PreparedKey>();
  for (const k of prepareKeys(input.fallback_keys, "fallback_keys")) {
    if (fallback.has(k.algorithm)) throw invalidParam(`Only one fallback key per algorithm may be uploaded (${k.algorithm})`);
    fallback.set(k.algorithm, k);
  }
  const oneTimeKeys = prepareKeys(input.one_time_keys, "one_time_keys");
  const existing =
    oneTimeKeys.length && !newDevice
      ? await oneTimeKeysById(deps.env.DB, session.userId, session.deviceId, oneTimeKeys.map((k) => k.keyId))
      : new Map<string, string>();
  newOneTimeKeys(oneTimeKeys, existing);
  return { deviceKeysJson, oneTimeKeys, fallback: [...fallback.values()], existing };
}

/** Writes a prepared upload. A change of identity keys is detected by the write itself (which then writes nothing). */
export async function applyKeyUpload(deps: Deps, session: KeysSession, prepared: PreparedKeyUpload): Promise<void> {
  const db = deps.env.DB;
  const { deviceKeysJson, oneTimeKeys, fallback, existing } = prepared;
  if (deviceKeysJson !== undefined) {
    const stored = await putDeviceKeys(db, { userId: session.userId, deviceId: session.deviceId, json: deviceKeysJson, now: deps.now() });
    if (!stored) {
      if (await getDeviceKeys(db, session.userId, session.deviceId)) {
        // Other devices may have the old keys; changing them in place breaks encryption with them.
        throw invalidParam("This device already has different identity keys; log in as a new device to use new keys");
      }
      throw new MatrixError("M_UNKNOWN_TOKEN", "This device has been deleted", { soft_logout: false });
    }
  }
  if (oneTimeKeys.length) await storeOneTimeKeys(deps, session, oneTimeKeys, existing);
  if (fallback.length > 0) {
    await db.batch(fallback.map((k) => putFallbackKeyStatement(db, { userId: session.userId, deviceId: session.deviceId, ...k })));
  }
  if (oneTimeKeys.length > 0 || fallback.length > 0) await keyCountsChanged(deps, [session.userId]);
  // Last, once every key is stored: the notification wakes the uploader's own long-poll, whose
  // answer must already count the new one-time keys, or the client uploads another batch.
  // Every accepted device_keys upload notifies, changed or not: a retry after a failed fan-out
  // then completes it.
  if (deviceKeysJson !== undefined) await notifyDeviceListChange(deps, session.userId);
}

/**
 * POST /keys/upload. Everything that can be refused is checked before anything is written —
 * except a change of identity keys, which the write itself detects (and then writes nothing).
 */
export async function uploadKeys(deps: Deps, session: KeysSession, input: UploadKeysInput): Promise<{ one_time_key_counts: Record<string, number> }> {
  await applyKeyUpload(deps, session, await prepareKeyUpload(deps, session, input));
  return { one_time_key_counts: await oneTimeKeyCounts(deps, session.userId, session.deviceId) };
}

/** Splits requested user ids into local ones and failures for other servers; refuses malformed ids. */
function splitUsers(deps: Deps, userIds: string[]): { local: string[]; failures: Record<string, JsonObject> } {
  const local: string[] = [];
  const failures: Record<string, JsonObject> = {};
  for (const userId of userIds) {
    if (!isValidUserId(userId)) throw invalidParam(`Invalid user id: ${userId}`);
    const server = domainOf(userId)!;
    if (server === deps.config.serverName) local.push(userId);
    else failures[server] = { ...FEDERATION_FAILURE };
  }
  return { local, failures };
}

/** POST /keys/query */
export async function queryKeys(deps: Deps, session: KeysSession, request: Record<string, string[]>): Promise<JsonObject> {
  const { local, failures } = splitUsers(deps, Object.keys(request));
  const db = deps.env.DB;
  const [rows, crossSigning, signatures] = await Promise.all([
    deviceKeysOfUsers(db, local),
    crossSigningKeysOfUsers(db, local),
    signaturesOnKeysOf(db, local, session.userId),
  ]);
  const signaturesOn = new Map<string, SignatureRow[]>();
  for (const sig of signatures) {
    const k = `${sig.target_user_id}\u0000${sig.target_key_id}`;
    signaturesOn.set(k, [...(signaturesOn.get(k) ?? []), sig]);
  }
  const withSignatures = (userId: string, keyId: string | undefined, key: JsonObject): JsonObject => {
    const extra = keyId === undefined ? undefined : signaturesOn.get(`${userId}\u0000${keyId}`);
    if (!extra) return key;
    const all = (key.signatures ?? {}) as Record<string, Record<string, string>>;
    for (const sig of extra) all[sig.signer_user_id] = { ...(all[sig.signer_user_id] ?? {}), [sig.signing_key_id]: sig.signature };
    return { ...key, signatures: all };
  };
  const deviceKeys: Record<string, Record<string, JsonObject>> = {};
  for (const userId of local) deviceKeys[userId] = {};
  for (const row of rows) {
    const wanted = request[row.user_id] ?? [];
    if (wanted.length > 0 && !wanted.includes(row.device_id)) continue;
    const keys = withSignatures(row.user_id, row.device_id, JSON.parse(row.key_json) as JsonObject);
    keys.unsigned = row.display_name !== null ? { device_display_name: row.display_name } : {};
    deviceKeys[row.user_id]![row.device_id] = keys;
  }
  const out: JsonObject = { device_keys: deviceKeys, failures };
  const sections: Record<string, string> = { master: "master_keys", self_signing: "self_signing_keys", user_signing: "user_signing_keys" };
  for (const row of crossSigning) {
    const section = sections[row.key_type];
    // A user's user-signing key is only for themselves (spec: POST /keys/query, user_signing_keys).
    if (!section || (row.key_type === "user_signing" && row.user_id !== session.userId)) continue;
    const map = (out[section] ??= {}) as JsonObject;
    const key = JSON.parse(row.key_json) as JsonObject;
    map[row.user_id] = withSignatures(row.user_id, crossSigningPublicKey(key), key);
  }
  return out;
}

/** POST /keys/claim: a one-time key per requested device and algorithm, or its fallback key when none is left. */
export async function claimKeys(deps: Deps, request: Record<string, Record<string, string>>): Promise<JsonObject> {
  const { local, failures } = splitUsers(deps, Object.keys(request));
  const claims: KeyClaim[] = local.flatMap((userId) => Object.entries(request[userId]!).map(([deviceId, algorithm]) => ({ userId, deviceId, algorithm })));
  const oneTimeKeys: Record<string, Record<string, Record<string, JsonObject | string>>> = {};
  const add = (k: ClaimedKey) => {
    const devices = (oneTimeKeys[k.user_id] ??= {});
    (devices[k.device_id] ??= {})[k.key_id] = JSON.parse(k.key_json) as JsonObject | string;
  };
  const claimed = await claimOneTimeKeys(deps.env.DB, claims);
  claimed.forEach(add);
  const got = new Set(claimed.map((k) => `${k.user_id}\u0000${k.device_id}`));
  const missing = claims.filter((c) => !got.has(`${c.userId}\u0000${c.deviceId}`));
  const fallbacks = await claimFallbackKeys(deps.env.DB, missing);
  fallbacks.forEach(add);
  await keyCountsChanged(deps, [...claimed, ...fallbacks].map((k) => k.user_id));
  return { one_time_keys: oneTimeKeys, failures };
}

/** What a sync tells a device about its own keys: one-time key counts and unused fallback key types. */
export interface DeviceKeyCounts {
  oneTimeKeys: Record<string, number>;
  unusedFallbackTypes: string[];
}

/** Read from D1 for the user object, which keeps them until `keyCountsChanged` (objects/user/user-object.ts). */
export async function deviceKeyCounts(deps: Deps, userId: string, deviceId: string): Promise<DeviceKeyCounts> {
  const [oneTimeKeys, unusedFallbackTypes] = await Promise.all([oneTimeKeyCounts(deps, userId, deviceId), unusedFallbackKeyTypes(deps.env.DB, userId, deviceId)]);
  return { oneTimeKeys, unusedFallbackTypes };
}

/**
 * After a durable upload or claim of the user's one-time or fallback keys: their object drops the
 * counts it keeps. A failure is logged, not thrown (the keys are already claimed or stored): the
 * object re-reads its counts within SESSION_MAX_AGE_MS anyway.
 */
async function keyCountsChanged(deps: Deps, userIds: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(userIds)].map(async (userId) => {
      try {
        await typedStub<UserDurableObject, "forgetKeyCounts">(deps.env.USERS.getByName(userId)).forgetKeyCounts(userId);
      } catch (err) {
        console.error(JSON.stringify({ user_id: userId, error: `key-count notification failed: ${String(err)}` }));
      }
    }),
  );
}

/**
 * The E2EE fields of a /sync response for the syncing device (spec: GET /sync, end-to-end
 * encryption). `counts` are the user object's (no D1 read) when the caller has them.
 */
export async function e2eeSyncFields(
  deps: Deps,
  userId: string,
  deviceId: string,
  news: DeviceListNews | undefined,
  counts?: DeviceKeyCounts,
): Promise<{ device_one_time_keys_count: Record<string, number>; device_unused_fallback_key_types: string[]; device_lists: DeviceListsWire }> {
  const [own, deviceLists] = await Promise.all([counts ?? deviceKeyCounts(deps, userId, deviceId), resolveDeviceLists(deps, userId, news)]);
  return { device_one_time_keys_count: own.oneTimeKeys, device_unused_fallback_key_types: own.unusedFallbackTypes, device_lists: deviceLists };
}
