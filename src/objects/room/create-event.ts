/**
 * Builds a room's `m.room.create` event. It is made before the room's Durable Object is chosen,
 * because in room version 12 the room id is derived from this event's id (spec: rooms/v12).
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { computeEventId, newLegacyEventId, roomIdFromCreateEvent } from "../../matrix/event-id";
import type { Pdu, RoomEvent } from "../../matrix/events";
import type { RoomVersion } from "../../matrix/room-versions";

export interface CreateEventInput {
  version: RoomVersion;
  creator: string;
  /** `creation_content` from the client; `room_version` and (before v11) `creator` are set here. */
  content: JsonObject;
  serverName: string;
  now: number;
  randomId: () => string;
  sign: (pdu: Pdu, version: RoomVersion) => Promise<Pdu>;
}

export async function buildCreateEvent(input: CreateEventInput): Promise<{ event: RoomEvent; roomId: string }> {
  const { version } = input;
  const content: JsonObject = { ...input.content, room_version: version.id };
  // Before v11 the creator is named in content; from v11 on it is the sender (spec: rooms/v11).
  if (!version.implicitRoomCreator) content.creator = input.creator;
  else delete content.creator;
  const pdu: Pdu = {
    room_id: `!${input.randomId()}:${input.serverName}`,
    sender: input.creator,
    type: "m.room.create",
    state_key: "",
    content,
    prev_events: [],
    auth_events: [],
    depth: 1,
    origin_server_ts: input.now,
  };
  if (version.roomIdFromCreateEvent) delete (pdu as Partial<Pdu>).room_id;
  if (version.eventIdFormat === "v1") {
    pdu.event_id = newLegacyEventId(input.randomId(), input.serverName);
    pdu.origin = input.serverName;
  }
  const signed = await input.sign(pdu, version);
  const eventId = await computeEventId(signed, version);
  const roomId = version.roomIdFromCreateEvent ? await roomIdFromCreateEvent(signed, version) : pdu.room_id;
  return { event: { ...signed, event_id: eventId } as RoomEvent, roomId };
}
