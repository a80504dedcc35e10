/**
 * Helpers for the E2EE integration tests: keys built and signed with real ed25519 keys, as a
 * client's crypto library does, and sync helpers for device-list news.
 */
import type { JsonObject } from "../../src/matrix/canonical-json";
import { signingKeyFromSeed, signJson, type SigningKey } from "../../src/matrix/signing";
import { call } from "./helpers";

export const V3 = "/_matrix/client/v3";

export interface Session {
  user_id: string;
  device_id: string;
  access_token: string;
}

export function newSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** The device's own ed25519 key, named `ed25519:<device_id>` and "owned" by the user (signJson's serverName slot). */
export function deviceSigningKey(s: { user_id: string; device_id: string }, seed = newSeed()): Promise<SigningKey> {
  return signingKeyFromSeed(seed, s.user_id, `ed25519:${s.device_id}`);
}

/** Device keys for `s`, self-signed with `own`. */
export async function deviceKeys(s: { user_id: string; device_id: string }, own: SigningKey, extra: JsonObject = {}): Promise<JsonObject> {
  return signJson(
    {
      user_id: s.user_id,
      device_id: s.device_id,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: { [`ed25519:${s.device_id}`]: own.publicKey, [`curve25519:${s.device_id}`]: `curve${s.device_id}` },
      ...extra,
    },
    own,
  );
}

/** A signed one-time (or fallback) key object as Rust crypto uploads them. */
export function signedKey(own: SigningKey, key: string, fallback = false): Promise<JsonObject> {
  return signJson({ key, ...(fallback ? { fallback: true } : {}) }, own);
}

/** A fresh cross-signing key pair for `userId`, named `ed25519:<public key>` as the spec wants. */
export async function crossSigningPair(userId: string): Promise<SigningKey> {
  const k = await signingKeyFromSeed(newSeed(), userId, "ed25519:tmp");
  return { ...k, keyId: `ed25519:${k.publicKey}` };
}

/** The public cross-signing key object for `pair`, signed by `signer` if given. */
export async function crossSigningKey(userId: string, usage: string, pair: SigningKey, signer?: SigningKey): Promise<JsonObject> {
  const key: JsonObject = { user_id: userId, usage: [usage], keys: { [pair.keyId]: pair.publicKey } };
  return signer ? signJson(key, signer) : key;
}

/** A complete, correctly signed set of cross-signing keys. */
export async function crossSigningSet(userId: string) {
  const master = await crossSigningPair(userId);
  const selfSigning = await crossSigningPair(userId);
  const userSigning = await crossSigningPair(userId);
  return {
    master,
    selfSigning,
    userSigning,
    body: {
      master_key: await crossSigningKey(userId, "master", master),
      self_signing_key: await crossSigningKey(userId, "self_signing", selfSigning, master),
      user_signing_key: await crossSigningKey(userId, "user_signing", userSigning, master),
    },
  };
}

export async function uploadKeysOk(s: Session, body: unknown): Promise<Record<string, number>> {
  const res = await call("POST", `${V3}/keys/upload`, { token: s.access_token, body });
  if (res.status !== 200) throw new Error(`keys/upload: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.one_time_key_counts;
}

export function queryKeys(s: Session, request: Record<string, string[]>) {
  return call("POST", `${V3}/keys/query`, { token: s.access_token, body: { device_keys: request } });
}

export async function sync(s: Session, since?: string, timeout = 0): Promise<any> {
  const res = await call("GET", `${V3}/sync?timeout=${timeout}${since ? `&since=${since}` : ""}`, { token: s.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Syncs forward from `since` until a sync has no news, and returns the token to continue from. */
export async function settle(s: Session, since?: string): Promise<string> {
  let token = since ?? (await sync(s)).next_batch;
  for (;;) {
    const body = await sync(s, token, 300);
    if (body.next_batch === token) return token;
    token = body.next_batch;
  }
}

/** Everything `device_lists` mentions between `since` and now, over as many syncs as it takes. */
export async function deviceListsSince(s: Session, since: string): Promise<{ changed: string[]; left: string[] }> {
  const changed = new Set<string>();
  const left = new Set<string>();
  let token = since;
  for (;;) {
    const body = await sync(s, token, 300);
    for (const u of body.device_lists?.changed ?? []) changed.add(u);
    for (const u of body.device_lists?.left ?? []) left.add(u);
    if (body.next_batch === token) return { changed: [...changed].sort(), left: [...left].sort() };
    token = body.next_batch;
  }
}
