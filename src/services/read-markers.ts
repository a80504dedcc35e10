/**
 * Read markers (spec: Client-Server § Read Markers): the fully-read marker is the room account
 * data `m.fully_read`; `m.read` and `m.read.private` in the same request are receipts.
 */
import { forbidden, notFound } from "../api/errors";
import { FULLY_READ_TYPE, writeRoomAccountData } from "./account-data";
import type { Deps } from "./deps";
import { postReceipt } from "./receipts";
import { assertRoomId, roomStub } from "./rooms";

export interface ReadMarkers {
  fullyRead?: string;
  read?: string;
  readPrivate?: string;
}

/**
 * POST /rooms/{roomId}/read_markers. The user must be joined, and every event named must be in
 * the room and visible to them ("The event MUST belong to the room"); all of it is checked
 * before anything is written, so a refused request changes nothing.
 */
export async function setReadMarkers(deps: Deps, userId: string, roomId: string, markers: ReadMarkers): Promise<void> {
  assertRoomId(roomId);
  const stub = roomStub(deps, roomId);
  if ((await stub.membership(userId)) !== "join") throw forbidden("You are not joined to this room");
  const eventIds = [...new Set([markers.fullyRead, markers.read, markers.readPrivate].filter((id): id is string => id !== undefined))];
  const found = await Promise.all(eventIds.map((id) => stub.getEvent(userId, id)));
  if (found.some((r) => !r.ok)) throw notFound("Event not found in this room");
  // Receipts first (the room object checks them again): a refused one leaves the marker where it was.
  if (markers.read !== undefined) await postReceipt(deps, roomId, userId, "m.read", markers.read);
  if (markers.readPrivate !== undefined) await postReceipt(deps, roomId, userId, "m.read.private", markers.readPrivate);
  if (markers.fullyRead !== undefined) await writeRoomAccountData(deps, userId, roomId, FULLY_READ_TYPE, { event_id: markers.fullyRead });
}
