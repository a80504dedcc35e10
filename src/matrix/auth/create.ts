/**
 * Rule 1 of every room version: `m.room.create` (spec: rooms/v1.md, v11.md, v12.md
 * § Authorization rules, rule 1).
 */
import { prevEventIds, type RoomEvent } from "../events";
import { getRoomVersion, type RoomVersion } from "../room-versions";
import { domainOf, isValidUserId } from "./ids";
import { has, own } from "./json";
import { ALLOW, deny, type AuthResult } from "./types";

/**
 * The room id a v12 create event implies: its event id with the sigil `!` instead of `$`
 * (rooms/v12 § Authorization rules 1.2 note and rule 2).
 */
export function roomIdForCreateEventId(createEventId: string): string | undefined {
  return createEventId.startsWith("$") ? `!${createEventId.slice(1)}` : undefined;
}

export function checkCreateEvent(event: RoomEvent, version: RoomVersion): AuthResult {
  // 1.1 If it has any prev_events, reject.
  if (prevEventIds(event).length > 0) return deny("m.room.create must not have prev_events");

  if (version.roomIdFromCreateEvent) {
    // v12 1.2: if the event has a room_id, reject. We keep every event's room_id internally, so a
    // create event may carry the id derived from its own event id. That value cannot have been on
    // the wire: the event id hashes the event, so a room_id inside it would have to predict its
    // own hash. Any other value did come from the wire and is refused.
    if (event.room_id !== undefined && event.room_id !== roomIdForCreateEventId(event.event_id)) {
      return deny("m.room.create must not have a room_id in this room version");
    }
  } else {
    // 1.2 If the domain of the room_id does not match the domain of the sender, reject.
    const roomDomain = typeof event.room_id === "string" ? domainOf(event.room_id) : undefined;
    if (roomDomain === undefined || roomDomain !== domainOf(event.sender)) {
      return deny("the room id's domain does not match the sender's domain");
    }
  }

  // 1.3 If content.room_version is present and is not a recognised version, reject.
  if (has(event.content, "room_version")) {
    const rv = own(event.content, "room_version");
    if (typeof rv !== "string" || getRoomVersion(rv) === undefined) {
      return deny("content.room_version is not a recognised room version");
    }
  }

  // v1–10 1.4: if content has no creator property, reject. From v11 the sender is the creator.
  if (!version.implicitRoomCreator && !has(event.content, "creator")) {
    return deny("m.room.create has no content.creator");
  }

  // v12 1.4: additional_creators, if present, must be an array of valid user ids.
  if (version.privilegedCreators && has(event.content, "additional_creators")) {
    const extra = own(event.content, "additional_creators");
    if (!Array.isArray(extra) || !extra.every((id) => isValidUserId(id))) {
      return deny("content.additional_creators must be an array of valid user ids");
    }
  }

  return ALLOW;
}
