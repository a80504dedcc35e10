/**
 * Cross-signing (spec: Client-Server § Cross-signing): uploading a user's master, self-signing and
 * user-signing keys (POST /keys/device_signing/upload) and signatures of keys
 * (POST /keys/signatures/upload). /keys/query hands both out (services/e2ee-keys.ts).
 * docs/design/e2ee-keys.md describes the choices.
 */
import { forbidden, invalidParam, MatrixError, missingParam } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { domainOf, isValidUserId } from "../matrix/auth/ids";
import { crossSigningPublicKey } from "../matrix/cross-signing-keys";
import { verifyJsonSignature } from "../matrix/signing";
import { putCrossSigningKeysStatements, putSignatures, signaturesOnKeysOf, type CrossSigningKeyType, type SignatureRow } from "../storage/d1/cross-signing";
import { deviceIdsOfUsers } from "../storage/d1/devices";
import { crossSigningKeysOfUsers, deviceKeysOfUsers } from "../storage/d1/e2ee-keys";
import type { Deps } from "./deps";
import { notifyDeviceListChange } from "./device-lists";
import { canonical, type KeysSession } from "./e2ee-keys";
import { requireUia } from "./uia";
import { notifyUser } from "./user-stream";

export interface SigningKeysUpload {
  master_key?: JsonObject;
  self_signing_key?: JsonObject;
  user_signing_key?: JsonObject;
}

const FIELDS: [keyof SigningKeysUpload, CrossSigningKeyType][] = [
  ["master_key", "master"],
  ["self_signing_key", "self_signing"],
  ["user_signing_key", "user_signing"],
];

const UIA_ENDPOINT = "POST /keys/device_signing/upload";

const invalidSignature = (message: string) => new MatrixError("M_INVALID_SIGNATURE", message);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks one uploaded cross-signing key: the uploader's, with exactly the expected usage and one
 * ed25519 key, and — except the master key — signed by the master key `masterPublicKey`.
 * Returns its public key.
 */
async function checkCrossSigningKey(key: JsonObject, userId: string, type: CrossSigningKeyType, masterPublicKey?: string): Promise<string> {
  if (key.user_id !== userId) throw invalidParam(`The ${type} key must belong to ${userId}`);
  const usage = key.usage;
  if (!Array.isArray(usage) || usage.length !== 1 || usage[0] !== type) throw invalidParam(`The ${type} key's usage must be ["${type}"]`);
  const publicKey = crossSigningPublicKey(key);
  if (!publicKey) throw invalidParam(`The ${type} key must hold exactly one key, named ed25519:<public key>`);
  if (masterPublicKey !== undefined && !(await verifyJsonSignature(key, userId, `ed25519:${masterPublicKey}`, masterPublicKey))) {
    throw invalidSignature(`The ${type} key must be signed by the master key`);
  }
  return publicKey;
}

/**
 * POST /keys/device_signing/upload. UIA is needed to replace keys, not to set them up the first
 * time (the user has no master key yet) nor to upload the stored keys again, as in Synapse.
 * Everything is checked before UIA runs, so a request that can't succeed spends no UIA session.
 */
export async function uploadSigningKeys(deps: Deps, session: KeysSession, body: SigningKeysUpload, auth: unknown): Promise<Record<string, never>> {
  const db = deps.env.DB;
  const userId = session.userId;
  const given = FIELDS.filter(([field]) => body[field] !== undefined).map(([field, type]) => ({
    type,
    key: body[field]!,
    json: canonical(body[field], field),
  }));
  if (given.length === 0) throw missingParam("No cross-signing keys given");
  const stored = new Map((await crossSigningKeysOfUsers(db, [userId])).map((r) => [r.key_type, r.key_json]));

  if (!given.every((k) => stored.get(k.type) === k.json)) {
    const newMaster = given.find((k) => k.type === "master");
    const storedMaster = stored.get("master");
    let masterPublicKey: string;
    if (newMaster) masterPublicKey = await checkCrossSigningKey(newMaster.key, userId, "master");
    else if (storedMaster) masterPublicKey = crossSigningPublicKey(JSON.parse(storedMaster) as JsonObject)!;
    else throw missingParam("No master key available: upload one with the other keys");
    const publicKeys = [masterPublicKey];
    for (const k of given) if (k.type !== "master") publicKeys.push(await checkCrossSigningKey(k.key, userId, k.type, masterPublicKey));
    // A key's public key is its key ID, which must not be mistaken for a device (spec: 403).
    const deviceIds = new Set((await deviceIdsOfUsers(db, [userId])).get(userId) ?? []);
    if (publicKeys.some((pk) => deviceIds.has(pk))) throw forbidden("Key ID in use: a cross-signing key's public key equals one of your device IDs");

    const keys = given.map((k) => ({ type: k.type, json: k.json }));
    const firstSetup = storedMaster === undefined;
    if (!firstSetup) await requireUia(deps, { endpoint: UIA_ENDPOINT, flows: [["m.login.password"]], userId }, auth);
    const results = await db.batch(putCrossSigningKeysStatements(db, userId, keys, deps.now(), firstSetup));
    if (firstSetup && results[results.length - 1]?.meta.changes !== 1) {
      // Another request set up cross-signing meanwhile: this one now replaces keys, which needs UIA.
      await requireUia(deps, { endpoint: UIA_ENDPOINT, flows: [["m.login.password"]], userId }, auth);
      await db.batch(putCrossSigningKeysStatements(db, userId, keys, deps.now(), false));
    }
  }
  // The same keys again notify too, so a retry after a failed fan-out completes it. Master and
  // self-signing keys are part of what others verify, like device keys; the user-signing key
  // is only ever shown to its owner (spec: POST /keys/query).
  if (given.some((k) => k.type !== "user_signing")) await notifyDeviceListChange(deps, userId);
  else await notifyUser(deps, userId, { kind: "device_list", userId });
  return {};
}

export type SignatureFailure = { errcode: string; error: string };

class SignatureRefused extends Error {
  constructor(
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

function withoutSignatures(obj: JsonObject): JsonObject {
  const { signatures: _s, unsigned: _u, ...rest } = obj;
  return rest;
}

/** A key that may sign a target: its key ID and public key. */
type Signer = { keyId: string; publicKey: string };

/**
 * Checks one signed object of POST /keys/signatures/upload against the stored key it must equal
 * (but for `signatures` and `unsigned`) and returns the uploader's new signatures on it, each
 * verified with the one key allowed to make it. A signature already stored — in the key itself or
 * from an earlier upload, as /keys/query hands them out — is skipped: clients send back what they
 * were given, including signatures by devices that may be gone since.
 */
async function signaturesOf(
  uploader: string,
  target: { userId: string; keyId: string },
  signed: Record<string, unknown>,
  storedJson: string,
  storedSignatures: SignatureRow[],
  signerFor: (signingKeyId: string) => Signer | undefined,
): Promise<SignatureRow[]> {
  const obj = signed as JsonObject;
  const stored = JSON.parse(storedJson) as JsonObject;
  let same: boolean;
  try {
    same = canonical(withoutSignatures(obj), "key") === canonical(withoutSignatures(stored), "key");
  } catch {
    same = false;
  }
  if (!same) throw new SignatureRefused("M_INVALID_PARAM", "The signed key does not match the stored key");
  const mine = (obj.signatures as Record<string, unknown> | undefined)?.[uploader];
  if (!isObject(mine) || Object.keys(mine).length === 0) throw new SignatureRefused("M_INVALID_SIGNATURE", `No signature by ${uploader}`);
  const already: Record<string, string> = { ...((stored.signatures as Record<string, Record<string, string>> | undefined)?.[uploader] ?? {}) };
  for (const row of storedSignatures) {
    if (row.signer_user_id === uploader && row.target_user_id === target.userId && row.target_key_id === target.keyId) already[row.signing_key_id] = row.signature;
  }
  const rows: SignatureRow[] = [];
  for (const [signingKeyId, signature] of Object.entries(mine)) {
    if (already[signingKeyId] === signature) continue;
    const signer = signerFor(signingKeyId);
    if (!signer) throw new SignatureRefused("M_INVALID_SIGNATURE", `${signingKeyId} may not sign this key`);
    if (typeof signature !== "string" || !(await verifyJsonSignature(obj, uploader, signer.keyId, signer.publicKey))) {
      throw new SignatureRefused("M_INVALID_SIGNATURE", `Invalid signature by ${signingKeyId}`);
    }
    rows.push({ signer_user_id: uploader, signing_key_id: signingKeyId, target_user_id: target.userId, target_key_id: target.keyId, signature });
  }
  return rows;
}

/**
 * POST /keys/signatures/upload. What may sign what (spec: § Cross-signing): the uploader's own
 * devices are signed by their self-signing key, their own master key by one of their devices,
 * and another user's master key by the uploader's user-signing key. Each signed object succeeds
 * or fails on its own; failures are reported per user and key ID.
 */
export async function uploadSignatures(
  deps: Deps,
  session: KeysSession,
  request: Record<string, Record<string, unknown>>,
): Promise<{ failures: Record<string, Record<string, SignatureFailure>> }> {
  const db = deps.env.DB;
  const uploader = session.userId;
  const failures: Record<string, Record<string, SignatureFailure>> = {};
  const fail = (userId: string, keyId: string, errcode: string, error: string) => ((failures[userId] ??= {})[keyId] = { errcode, error });

  const local: string[] = [];
  for (const userId of Object.keys(request)) {
    if (!isValidUserId(userId)) throw invalidParam(`Invalid user id: ${userId}`);
    if (domainOf(userId) === deps.config.serverName) local.push(userId);
    else for (const keyId of Object.keys(request[userId]!)) fail(userId, keyId, "M_UNRECOGNIZED", "Keys of users on other servers can't be signed yet (no federation)");
  }
  const [crossSigningRows, ownDevices, storedSignatures] = await Promise.all([
    crossSigningKeysOfUsers(db, [...new Set([uploader, ...local])]),
    local.length ? deviceKeysOfUsers(db, [uploader]) : Promise.resolve([]),
    signaturesOnKeysOf(db, local, uploader),
  ]);
  const crossSigning = new Map(crossSigningRows.map((r) => [`${r.user_id}\u0000${r.key_type}`, r.key_json]));
  const keyOf = (userId: string, type: CrossSigningKeyType) => {
    const json = crossSigning.get(`${userId}\u0000${type}`);
    return json === undefined ? undefined : { json, publicKey: crossSigningPublicKey(JSON.parse(json) as JsonObject) };
  };
  const signerByKey = (key: { publicKey?: string } | undefined) => (signingKeyId: string) =>
    key?.publicKey && signingKeyId === `ed25519:${key.publicKey}` ? { keyId: signingKeyId, publicKey: key.publicKey } : undefined;

  const rows: SignatureRow[] = [];
  let ownKeysSigned = false;
  const othersSigned = new Set<string>();
  for (const userId of local) {
    for (const [keyId, signed] of Object.entries(request[userId]!)) {
      try {
        if (!isObject(signed)) throw new SignatureRefused("M_BAD_JSON", "A signed key must be a JSON object");
        if (userId === uploader) {
          const master = keyOf(uploader, "master");
          const device = ownDevices.find((d) => d.device_id === keyId);
          if (master?.publicKey === keyId) {
            // The own master key, signed by one of the uploader's devices with its ed25519 key.
            const devicesById = new Map(ownDevices.map((d) => [d.device_id, JSON.parse(d.key_json) as JsonObject]));
            const bySigningDevice = (signingKeyId: string): Signer | undefined => {
              const deviceId = signingKeyId.startsWith("ed25519:") ? signingKeyId.slice("ed25519:".length) : undefined;
              const publicKey = deviceId !== undefined ? (devicesById.get(deviceId)?.keys as Record<string, string> | undefined)?.[signingKeyId] : undefined;
              return typeof publicKey === "string" ? { keyId: signingKeyId, publicKey } : undefined;
            };
            rows.push(...(await signaturesOf(uploader, { userId, keyId }, signed, master.json, storedSignatures, bySigningDevice)));
          } else if (device) {
            // An own device, signed by the self-signing key.
            const selfSigning = keyOf(uploader, "self_signing");
            if (!selfSigning) throw new SignatureRefused("M_NOT_FOUND", "You have no self-signing key to sign devices with");
            rows.push(...(await signaturesOf(uploader, { userId, keyId }, signed, device.key_json, storedSignatures, signerByKey(selfSigning))));
          } else {
            throw new SignatureRefused("M_NOT_FOUND", "No device or master key with this ID");
          }
          ownKeysSigned = true;
        } else {
          // Another user's master key, signed by the uploader's user-signing key.
          const master = keyOf(userId, "master");
          if (!master || master.publicKey !== keyId) throw new SignatureRefused("M_NOT_FOUND", `No master key with this ID for ${userId}`);
          const userSigning = keyOf(uploader, "user_signing");
          if (!userSigning) throw new SignatureRefused("M_NOT_FOUND", "You have no user-signing key to sign other users' keys with");
          rows.push(...(await signaturesOf(uploader, { userId, keyId }, signed, master.json, storedSignatures, signerByKey(userSigning))));
          othersSigned.add(userId);
        }
      } catch (err) {
        if (!(err instanceof SignatureRefused)) throw err;
        fail(userId, keyId, err.errcode, err.message);
      }
    }
  }
  await putSignatures(db, rows);
  // As in Synapse: signatures of own keys change what everyone sharing a room verifies; a
  // signature of another user's key only concerns the signer, whose client re-checks that user.
  if (ownKeysSigned) await notifyDeviceListChange(deps, uploader);
  for (const userId of othersSigned) await notifyUser(deps, uploader, { kind: "device_list", userId });
  return { failures };
}
