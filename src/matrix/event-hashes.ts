/**
 * Content hash and reference hash of an event (spec: Server-Server API § Signing Events,
 * "Calculating the content hash for an event" and "Calculating the reference hash for an event").
 *
 * Both hashes, the event signature and the v3+ event id are defined over the event as it travels
 * over federation. Stratus keeps `event_id` on every event internally (see events.ts), but from
 * room version 3 on the id is derived from the event rather than part of it, so it is removed
 * (`withoutDerivedId`) before anything is hashed or signed. That makes every function here give
 * the same answer for the internal form and the wire form of an event.
 */
import { decodeBase64, encodeBase64 } from "./base64";
import { canonicalJsonBytes, type JsonObject } from "./canonical-json";
import { sha256 } from "./hashes";
import { redactEvent, type PduLike } from "./redaction";
import type { RoomVersion } from "./room-versions";

/**
 * The event without the fields that room version 3+ derives rather than carries: `event_id`
 * (spec: Rooms v3 § Event format, "the `event_id` field is no longer included"). Room versions 1
 * and 2 carry `event_id` in the event itself, and it is covered by hashes and signatures.
 */
export function withoutDerivedId<T extends PduLike>(event: T, version: RoomVersion): T {
  if (version.eventIdFormat === "v1" || !("event_id" in event)) return event;
  const { event_id: _id, ...rest } = event;
  return rest as T;
}

/**
 * An event as it is sent to another server: without a derived `event_id` (v3+) and without
 * `unsigned`, which holds data local to this server (`transaction_id`, `prev_content`,
 * `redacted_because`, …) and is not covered by signatures. A sender that wants to convey `age`
 * or invite room state adds a fresh `unsigned` itself.
 */
export function stripForFederation<T extends PduLike>(event: T, version: RoomVersion): T {
  const { unsigned: _unsigned, ...rest } = withoutDerivedId(event, version);
  return rest as T;
}

/**
 * SHA-256 over the canonical JSON of the event without `unsigned`, `signatures` and `hashes`
 * (spec: "Calculating the content hash for an event"). Covers the unredacted content.
 */
export async function contentHash(event: PduLike, version: RoomVersion): Promise<Uint8Array> {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = withoutDerivedId(event, version);
  return sha256(canonicalJsonBytes(rest));
}

/**
 * The event with `hashes` set to `{ sha256: <content hash> }` in unpadded base64 (spec: "Adding
 * hashes and signatures to outgoing events"). Any previous `hashes` object is replaced: it is
 * excluded from the hash, and a stale entry for another algorithm would not match the content.
 */
export async function addContentHash<T extends PduLike>(event: T, version: RoomVersion): Promise<T> {
  const hash = encodeBase64(await contentHash(event, version));
  return { ...event, hashes: { sha256: hash } };
}

export type ContentHashCheck = "valid" | "mismatch" | "missing";

/**
 * Compare the event's `hashes.sha256` with its computed content hash (spec: "Validating hashes
 * and signatures on received events"). On `mismatch` or `missing` the receiver must carry on with
 * the redacted copy of the event, not drop it: the sender may legitimately have sent a redacted
 * event.
 */
export async function checkContentHash(event: PduLike, version: RoomVersion): Promise<ContentHashCheck> {
  const hashes = event.hashes;
  const claimed = typeof hashes === "object" && hashes !== null && !Array.isArray(hashes) ? hashes.sha256 : undefined;
  if (typeof claimed !== "string") return "missing";
  let claimedBytes: Uint8Array;
  try {
    claimedBytes = decodeBase64(claimed);
  } catch {
    return "mismatch";
  }
  const actual = await contentHash(event, version);
  if (claimedBytes.length !== actual.length) return "mismatch";
  // Not secret, so no constant-time comparison is needed.
  for (let i = 0; i < actual.length; i++) if (claimedBytes[i] !== actual[i]) return "mismatch";
  return "valid";
}

/**
 * The reference hash (spec: "Calculating the reference hash for an event"): redact the event,
 * remove `signatures` and `unsigned`, canonical-JSON encode, SHA-256. Older spec text also named a
 * top-level `age_ts`; redaction already removes every top-level key outside its keep list, so
 * that makes no difference.
 */
export async function referenceHash(event: PduLike, version: RoomVersion): Promise<Uint8Array> {
  const redacted = redactEvent(withoutDerivedId(event, version), version) as JsonObject;
  const { signatures: _s, unsigned: _u, ...rest } = redacted;
  return sha256(canonicalJsonBytes(rest));
}
