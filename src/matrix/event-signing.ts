/**
 * Hashing and signing events (spec: Server-Server API § Signing Events).
 *
 * A signature covers the *redacted* event (including `hashes`), so it stays checkable after a
 * redaction; the content hash covers the full event, so tampering with redactable content is
 * still detected, and is handled by falling back to the redacted copy rather than dropping.
 */
import type { JsonObject } from "./canonical-json";
import { addContentHash, withoutDerivedId } from "./event-hashes";
import { computeEventId } from "./event-id";
import { redactEvent, type PduLike } from "./redaction";
import type { RoomVersion } from "./room-versions";
import { signJson, verifyJsonSignature, type SigningKey } from "./signing";

type Signatures = Record<string, Record<string, string>>;

async function redactedSignatures(event: PduLike, key: SigningKey, version: RoomVersion): Promise<Signatures> {
  const redacted = redactEvent(withoutDerivedId(event, version), version) as JsonObject;
  const signed = await signJson(redacted, key);
  return signed.signatures as Signatures;
}

/**
 * Hash and sign an event this server creates (spec: "Adding hashes and signatures to outgoing
 * events"): set `hashes.sha256` to the content hash, redact, sign the redacted event with
 * `key`, and copy the signature back onto the full event. Existing signatures by other servers
 * are kept; `unsigned` is kept as it is (the spec's worked example keeps it).
 *
 * From room version 3 on, the content hash changes the event id; an `event_id` present on the
 * input is therefore recomputed rather than left stale, and an input without one stays without.
 */
export async function signEvent<T extends PduLike>(event: T, key: SigningKey, version: RoomVersion): Promise<T> {
  const hashed = await addContentHash(withoutDerivedId(event, version), version);
  const signed: T = { ...hashed, signatures: await redactedSignatures(hashed, key, version) };
  if (version.eventIdFormat !== "v1" && typeof event.event_id === "string") {
    return { ...signed, event_id: await computeEventId(signed, version) };
  }
  return signed;
}

/**
 * Add this server's signature to an event another server created and hashed, leaving its hashes
 * alone: the resident server co-signing a restricted join (`join_authorised_via_users_server`,
 * spec: `PUT /send_join`) or an invited server signing an invite (spec: `PUT /invite`).
 */
export async function addEventSignature<T extends PduLike>(event: T, key: SigningKey, version: RoomVersion): Promise<T> {
  return { ...event, signatures: await redactedSignatures(event, key, version) };
}

/**
 * Whether `event` carries a valid signature by `serverName` with key `keyId`/`publicKey`, checked
 * over the redacted event (spec: "Validating hashes and signatures on received events": "this
 * step should succeed whether we have been sent the full event or a redacted copy"). Key validity
 * at `origin_server_ts` (room version 5+) is the caller's job, as it owns the key store.
 */
export async function verifyEventSignature(
  event: PduLike,
  version: RoomVersion,
  serverName: string,
  keyId: string,
  publicKey: string,
): Promise<boolean> {
  const redacted = redactEvent(withoutDerivedId(event, version), version) as JsonObject;
  return verifyJsonSignature(redacted, serverName, keyId, publicKey);
}

/**
 * Why a server's signature is required:
 * - `sender`: the server of the `sender` (spec: "only the signature(s) from the originating server
 *   (the server the `sender` belongs to) are required").
 * - `event_id`: room versions 1 and 2 also need the server in the `event_id`, if different.
 * - `authorising_server`: room version 8+ `m.room.member` events with
 *   `join_authorised_via_users_server` must be signed by that user's server. The spec states this
 *   as an authorisation rule (rooms/v8+ rule 4.2, "If the event is not validly signed by the
 *   homeserver of the user ID denoted by the key, reject"), so a missing or bad signature of this
 *   kind means *reject*, whereas the other two mean *drop* (spec: "Checks performed on receipt of
 *   a PDU", steps 2 and 4).
 */
export type SignatureRequirementReason = "sender" | "event_id" | "authorising_server";

export interface RequiredSignature {
  server: string;
  reasons: SignatureRequirementReason[];
}

export type RequiredSignaturesResult = { ok: true; servers: RequiredSignature[] } | { ok: false; error: string };

/** The server part of a user id (`@local:server`) or v1 event id (`$opaque:server`): everything after the first `:`. */
function serverPart(id: unknown, sigil: string): string | undefined {
  if (typeof id !== "string" || !id.startsWith(sigil)) return undefined;
  const colon = id.indexOf(":");
  if (colon < 0 || colon === id.length - 1) return undefined;
  return id.slice(colon + 1);
}

/** spec: a "3rd party invite" is an invite membership event carrying `content.third_party_invite`. */
function isThirdPartyInvite(event: PduLike): boolean {
  return (
    event.type === "m.room.member" &&
    event.content.membership === "invite" &&
    Object.prototype.hasOwnProperty.call(event.content, "third_party_invite")
  );
}

/**
 * The servers whose signatures an event received over federation must carry (spec: "Validating
 * hashes and signatures on received events"; rooms/v8+ authorisation rule 4.2).
 *
 * For a third-party invite the sender's server is not required: "the sender must already match
 * the 3rd party invite, and the server which actually sends the event may be a different server".
 * Such an event is authenticated instead by the auth rules' check of
 * `content.third_party_invite.signed` against the `m.room.third_party_invite` public keys, so in
 * room versions 3+ the list can be empty. Policy server signatures (spec v1.18) are not covered.
 *
 * Fails when a server that must sign cannot be determined (malformed `sender`, v1/v2 `event_id`
 * or `join_authorised_via_users_server`); no signature can satisfy such a requirement.
 */
export function requiredSignatureServers(event: PduLike, version: RoomVersion): RequiredSignaturesResult {
  const required = new Map<string, SignatureRequirementReason[]>();
  const add = (server: string, reason: SignatureRequirementReason): void => {
    required.set(server, [...(required.get(server) ?? []), reason]);
  };

  const senderServer = serverPart(event.sender, "@");
  if (senderServer === undefined) return { ok: false, error: "sender is not a user id" };
  if (!isThirdPartyInvite(event)) add(senderServer, "sender");

  if (version.eventIdFormat === "v1") {
    const idServer = serverPart(event.event_id, "$");
    if (idServer === undefined) return { ok: false, error: `room version ${version.id} events need an event_id with a server name` };
    // "if it differs from the originating server": a server already required as the sender
    // covers it; for a third-party invite the sender's server is not required, so add it then.
    if (!required.has(idServer)) add(idServer, "event_id");
  }

  if (version.restrictedJoins && event.type === "m.room.member" && Object.prototype.hasOwnProperty.call(event.content, "join_authorised_via_users_server")) {
    const authorisingServer = serverPart(event.content.join_authorised_via_users_server, "@");
    if (authorisingServer === undefined) return { ok: false, error: "join_authorised_via_users_server is not a user id" };
    add(authorisingServer, "authorising_server");
  }

  return { ok: true, servers: [...required].map(([server, reasons]) => ({ server, reasons })) };
}
