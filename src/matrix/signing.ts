/**
 * Signing JSON (spec: Appendices § Signing JSON) with ed25519 through WebCrypto, which both
 * workerd and Node ≥ 22 provide natively.
 */
import { decodeBase64, encodeBase64, encodeBase64Url } from "./base64";
import { canonicalJsonBytes, type JsonObject } from "./canonical-json";

export interface SigningKey {
  serverName: string;
  /** e.g. `ed25519:a_XyZw` */
  keyId: string;
  privateKey: CryptoKey;
  /** Unpadded base64 of the 32-byte public key. */
  publicKey: string;
}

/** PKCS#8 header for an ed25519 private key (RFC 8410); the 32-byte seed follows it. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Build a signing key from its 32-byte seed (the NaCl / RFC 8032 private key). */
export async function signingKeyFromSeed(seed: Uint8Array, serverName: string, keyId: string): Promise<SigningKey> {
  if (seed.length !== 32) throw new Error("an ed25519 seed has 32 bytes");
  const pkcs8 = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  pkcs8.set(PKCS8_ED25519_PREFIX);
  pkcs8.set(seed, PKCS8_ED25519_PREFIX.length);
  const extractable = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", extractable)) as JsonWebKey;
  if (!jwk.x) throw new Error("could not derive the ed25519 public key");
  const publicKey = encodeBase64(decodeBase64(jwk.x));
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  return { serverName, keyId, privateKey, publicKey };
}

export async function signBytes(key: SigningKey, bytes: Uint8Array): Promise<string> {
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes);
  return encodeBase64(new Uint8Array(sig));
}

const publicKeyCache = new Map<string, Promise<CryptoKey>>();

function importPublicKey(publicKeyBase64: string): Promise<CryptoKey> {
  let key = publicKeyCache.get(publicKeyBase64);
  if (!key) {
    const raw = decodeBase64(publicKeyBase64);
    if (raw.length !== 32) return Promise.reject(new Error("an ed25519 public key has 32 bytes"));
    key = crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x: encodeBase64Url(raw) }, { name: "Ed25519" }, true, [
      "verify",
    ]);
    key.catch(() => publicKeyCache.delete(publicKeyBase64));
    if (publicKeyCache.size > 1000) publicKeyCache.clear();
    publicKeyCache.set(publicKeyBase64, key);
  }
  return key;
}

export async function verifyBytes(publicKeyBase64: string, bytes: Uint8Array, signatureBase64: string): Promise<boolean> {
  let sig: Uint8Array;
  try {
    sig = decodeBase64(signatureBase64);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  try {
    const key = await importPublicKey(publicKeyBase64);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, sig, bytes);
  } catch {
    return false;
  }
}

/** The bytes a signature covers: the object without `signatures` and `unsigned`, canonically encoded. */
export function signedBytes(obj: JsonObject): Uint8Array {
  const { signatures: _s, unsigned: _u, ...rest } = obj;
  return canonicalJsonBytes(rest);
}

type Signatures = Record<string, Record<string, string>>;

/** Sign `obj`, returning a copy with our signature merged into its existing `signatures`. */
export async function signJson<T extends JsonObject>(obj: T, key: SigningKey): Promise<T> {
  const signature = await signBytes(key, signedBytes(obj));
  const existing = (obj.signatures ?? {}) as Signatures;
  const signatures: Signatures = { ...existing, [key.serverName]: { ...(existing[key.serverName] ?? {}), [key.keyId]: signature } };
  return { ...obj, signatures };
}

/** Whether `obj` carries a valid signature by `serverName` with the given key. */
export async function verifyJsonSignature(
  obj: JsonObject,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): Promise<boolean> {
  const signature = (obj.signatures as Signatures | undefined)?.[serverName]?.[keyId];
  if (typeof signature !== "string") return false;
  return verifyBytes(publicKeyBase64, signedBytes(obj), signature);
}
