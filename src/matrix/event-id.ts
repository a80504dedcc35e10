/**
 * Event ids and derived room ids (spec: Rooms § Event IDs of each room version; Appendices §
 * Event IDs and § Room IDs).
 *
 * - Room versions 1 and 2: `$opaque_id:domain`, chosen by the server that creates the event and
 *   carried in the event itself (fragment v1-event-ids).
 * - Room version 3: `$` + unpadded base64 of the reference hash (rooms/v3.md § Event IDs).
 * - Room version 4+: `$` + URL-safe unpadded base64 of the reference hash (fragment v4-event-ids).
 * - Room version 12: the room id is the create event's id with the sigil `!` instead of `$`
 *   (Appendices § Room IDs), and the create event itself carries no `room_id`.
 */
import { encodeBase64, encodeBase64Url } from "./base64";
import { referenceHash } from "./event-hashes";
import type { PduLike } from "./redaction";
import type { RoomVersion } from "./room-versions";

export { stripForFederation, withoutDerivedId } from "./event-hashes";

/** Thrown when an event cannot have an id: a v1/v2 event without `event_id`, or misuse of the v12 room id. */
export class EventIdError extends Error {}

/** Appendices § Event IDs: "the length of an event ID ... MUST NOT exceed 255 bytes". */
const MAX_ID_BYTES = 255;

/**
 * A new event id for an event this server creates in a room version 1 or 2 room. `opaque` is a
 * locally unique string from an injected random source (the core has no randomness of its own).
 */
export function newLegacyEventId(opaque: string, serverName: string): string {
  // A `:` in the opaque part would make the domain ambiguous to anything that splits the id.
  if (opaque.length === 0 || opaque.includes(":")) throw new EventIdError("the opaque part of an event id must be non-empty and contain no ':'");
  const id = `$${opaque}:${serverName}`;
  if (new TextEncoder().encode(id).length > MAX_ID_BYTES) throw new EventIdError("an event id must not exceed 255 bytes");
  return id;
}

/**
 * The event id of `event` under `version`. For room versions 1 and 2 that is the `event_id` the
 * event carries; from v3 on it is computed from the reference hash, ignoring any `event_id` field.
 * The event must already carry its content hash (`hashes.sha256`), which the reference hash covers.
 */
export async function computeEventId(event: PduLike, version: RoomVersion): Promise<string> {
  switch (version.eventIdFormat) {
    case "v1":
      if (typeof event.event_id !== "string") throw new EventIdError(`room version ${version.id} events carry their event_id`);
      return event.event_id;
    case "v3":
      return `$${encodeBase64(await referenceHash(event, version))}`;
    case "v4":
      return `$${encodeBase64Url(await referenceHash(event, version))}`;
  }
}

/**
 * The room id of a room version 12 room: the id of its `m.room.create` event with `!` instead of
 * `$`, with no server part (Appendices § Room IDs; rooms/v12.md rule 1.2 note).
 */
export async function roomIdFromCreateEvent(create: PduLike, version: RoomVersion): Promise<string> {
  if (!version.roomIdFromCreateEvent) throw new EventIdError(`room version ${version.id} room ids are not derived from the create event`);
  if (create.type !== "m.room.create" || create.state_key !== "") throw new EventIdError("not an m.room.create event");
  return `!${(await computeEventId(create, version)).slice(1)}`;
}

/**
 * The event as the rest of Stratus handles it: with its `event_id` attached, whatever the room
 * version. The result for v3+ is what `computeEventId` returns; a stale `event_id` on the input is
 * replaced. `room_id` is left as it is: a room version 12 `m.room.create` event stays without one
 * (its room id is `roomIdFromCreateEvent`), so the auth rule "if the create event has a
 * `room_id`, reject" still sees the event as it was sent.
 */
export async function toRoomEvent<T extends PduLike>(event: T, version: RoomVersion): Promise<T & { event_id: string }> {
  const eventId = await computeEventId(event, version);
  return { ...event, event_id: eventId };
}
