/** Cross-signing key objects (spec: Client-Server § Cross-signing, CrossSigningKey). Pure. */
import { decodeBase64 } from "./base64";
import type { JsonObject } from "./canonical-json";

/**
 * The public key of a cross-signing key: its `keys` must hold exactly one entry, named
 * `ed25519:<public key>` with the 32-byte public key (unpadded base64) as value. The public key
 * is also the key's ID, e.g. as a target of POST /keys/signatures/upload.
 */
export function crossSigningPublicKey(key: JsonObject): string | undefined {
  const keys = key.keys;
  if (typeof keys !== "object" || keys === null || Array.isArray(keys)) return undefined;
  const entries = Object.entries(keys);
  if (entries.length !== 1) return undefined;
  const [id, value] = entries[0]!;
  if (typeof value !== "string" || id !== `ed25519:${value}`) return undefined;
  try {
    return decodeBase64(value).length === 32 ? value : undefined;
  } catch {
    return undefined;
  }
}
