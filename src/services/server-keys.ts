/**
 * This server's ed25519 signing key (spec: Server-Server § Retrieving server keys). It comes from
 * the SIGNING_KEY secret when set; otherwise one is generated on first start and kept in D1.
 */
import { decodeBase64, encodeBase64 } from "../matrix/base64";
import type { JsonObject } from "../matrix/canonical-json";
import { signingKeyFromSeed, signJson, type SigningKey } from "../matrix/signing";
import { insertFirstServerKey, listServerKeys } from "../storage/d1/server-keys";
import type { Deps } from "./deps";
import { randomBytes, randomToken } from "./random";

/** How long other servers may cache our key response. */
const KEY_VALIDITY_MS = 24 * 60 * 60 * 1000;

const cached = new Map<string, Promise<SigningKey>>();

async function loadOrCreate(deps: Deps): Promise<SigningKey> {
  const { serverName, signingKeySeed } = deps.config;
  if (signingKeySeed) {
    // "ed25519 <version> <seed>" (Synapse's signing.key format) or a bare unpadded-base64 seed.
    const parts = signingKeySeed.trim().split(/\s+/);
    const [keyId, seed] = parts.length === 3 ? [`ed25519:${parts[1]}`, parts[2]!] : ["ed25519:auto", parts[0]!];
    return signingKeyFromSeed(decodeBase64(seed), serverName, keyId);
  }
  const db = deps.env.DB;
  let current = (await listServerKeys(db)).find((k) => k.expired_ts === null);
  if (!current) {
    const seed = randomBytes(32);
    const keyId = `ed25519:a_${randomToken(3).replace(/[-_]/g, "x")}`;
    const key = await signingKeyFromSeed(seed, serverName, keyId);
    await insertFirstServerKey(db, { key_id: keyId, seed: encodeBase64(seed), public_key: key.publicKey, created_ts: deps.now() });
    current = (await listServerKeys(db)).find((k) => k.expired_ts === null);
    if (!current) throw new Error("signing key was not stored");
  }
  return signingKeyFromSeed(decodeBase64(current.seed), serverName, current.key_id);
}

/** The current signing key, loaded once per isolate. */
export function getSigningKey(deps: Deps): Promise<SigningKey> {
  const cacheKey = `${deps.config.serverName}|${deps.config.signingKeySeed ?? ""}`;
  let key = cached.get(cacheKey);
  if (!key) {
    key = loadOrCreate(deps);
    key.catch(() => cached.delete(cacheKey));
    cached.set(cacheKey, key);
  }
  return key;
}

/** The signed body of GET /_matrix/key/v2/server. */
export async function serverKeysResponse(deps: Deps): Promise<JsonObject> {
  const key = await getSigningKey(deps);
  const old = deps.config.signingKeySeed ? [] : (await listServerKeys(deps.env.DB)).filter((k) => k.expired_ts !== null);
  const body: JsonObject = {
    server_name: deps.config.serverName,
    valid_until_ts: deps.now() + KEY_VALIDITY_MS,
    verify_keys: { [key.keyId]: { key: key.publicKey } },
    old_verify_keys: Object.fromEntries(old.map((k) => [k.key_id, { key: k.public_key, expired_ts: k.expired_ts! }])),
  };
  return signJson(body, key);
}

