/**
 * Verifying the `signed` block of an invite made from a third-party invite (spec: rooms/v1
 * § Authorization rules 5.3.1.7: "If any signature in `signed` matches any public key in the
 * `m.room.third_party_invite` event, allow"; Client-Server API § m.room.third_party_invite for
 * `public_key` and `public_keys`).
 *
 * WebCrypto's ed25519 is asynchronous while the rules are not, so the caller runs this first and
 * passes the answer to `checkEventAuth` as `options.verifyThirdPartyInvite`.
 */
import type { RoomEvent } from "../events";
import { verifyJsonSignature } from "../signing";
import { isJsonObject, own, ownObject, ownString } from "./json";

/** The public keys of an `m.room.third_party_invite`: `public_key` then each `public_keys[].public_key`. */
export function thirdPartyInvitePublicKeys(invite: RoomEvent): string[] {
  const keys: string[] = [];
  const single = ownString(invite.content, "public_key");
  if (single !== undefined) keys.push(single);
  const list = own(invite.content, "public_keys");
  if (Array.isArray(list)) {
    for (const entry of list) {
      const key = isJsonObject(entry) ? ownString(entry, "public_key") : undefined;
      if (key !== undefined) keys.push(key);
    }
  }
  return keys;
}

/**
 * Whether any ed25519 signature in `content.third_party_invite.signed` of `event` verifies with any
 * public key of `invite`. The signing server is whoever the identity server says it is: the key
 * comes from the invite event itself, so which server name the signature is filed under does not
 * matter, only that the key matches.
 */
export async function verifyThirdPartyInviteSignature(event: RoomEvent, invite: RoomEvent): Promise<boolean> {
  const signed = ownObject(ownObject(event.content, "third_party_invite"), "signed");
  const signatures = ownObject(signed, "signatures");
  if (!signed || !signatures) return false;
  const publicKeys = thirdPartyInvitePublicKeys(invite);
  for (const [server, block] of Object.entries(signatures)) {
    if (!isJsonObject(block)) continue;
    for (const [keyId, signature] of Object.entries(block)) {
      if (!keyId.startsWith("ed25519:") || typeof signature !== "string") continue;
      for (const publicKey of publicKeys) {
        if (await verifyJsonSignature(signed, server, keyId, publicKey)) return true;
      }
    }
  }
  return false;
}
