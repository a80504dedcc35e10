/**
 * The wire form of filters (spec: Client-Server § Filtering, `definitions/sync_filter.yaml`,
 * `event_filter.yaml`, `room_event_filter.yaml`): one validator for every way a filter arrives —
 * the body of POST /user/{userId}/filter, the inline `filter` of /sync, and the RoomEventFilter of
 * /messages and /context. Callers choose the error code (M_BAD_JSON for a body, M_INVALID_PARAM
 * for a query parameter); the checks and messages are the same.
 *
 * Unknown keys are kept, at every level: new spec fields and unstable prefixes must not make a
 * client's filter fail (Synapse allows them too).
 */
import { z } from "zod";
import type { EventFilter, Filter, RoomEventFilter, RoomFilter } from "./model";

const stringList = z.array(z.string());
/** Spec: "must be an integer greater than 0". */
const limit = z.number().int().positive();

const eventFilterShape = {
  limit: limit.optional(),
  types: stringList.optional(),
  not_types: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
};

export const eventFilterWireSchema = z.looseObject(eventFilterShape);

export const roomEventFilterWireSchema = z.looseObject({
  ...eventFilterShape,
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  unread_thread_notifications: z.boolean().optional(),
});

export const roomFilterWireSchema = z.looseObject({
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  include_leave: z.boolean().optional(),
  ephemeral: roomEventFilterWireSchema.optional(),
  state: roomEventFilterWireSchema.optional(),
  timeline: roomEventFilterWireSchema.optional(),
  account_data: roomEventFilterWireSchema.optional(),
});

export const filterWireSchema = z.looseObject({
  event_fields: stringList.optional(),
  event_format: z.enum(["client", "federation"]).optional(),
  presence: eventFilterWireSchema.optional(),
  account_data: eventFilterWireSchema.optional(),
  room: roomFilterWireSchema.optional(),
});

export type EventFilterWire = z.output<typeof eventFilterWireSchema>;
export type RoomEventFilterWire = z.output<typeof roomEventFilterWireSchema>;
export type RoomFilterWire = z.output<typeof roomFilterWireSchema>;
export type FilterWire = z.output<typeof filterWireSchema>;

export type FilterParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** "room.timeline.limit: Too small: …": where the first problem is, then what it is. */
export function describeFilterError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid filter";
  return `${issue.path.length ? issue.path.join(".") : "filter"}: ${issue.message}`;
}

export function eventFilterFromWire(w: EventFilterWire): EventFilter {
  const out: EventFilter = {};
  if (w.limit !== undefined) out.limit = w.limit;
  if (w.types) out.types = w.types;
  if (w.not_types) out.notTypes = w.not_types;
  if (w.senders) out.senders = w.senders;
  if (w.not_senders) out.notSenders = w.not_senders;
  return out;
}

export function roomEventFilterFromWire(w: RoomEventFilterWire): RoomEventFilter {
  const out: RoomEventFilter = eventFilterFromWire(w);
  if (w.rooms) out.rooms = w.rooms;
  if (w.not_rooms) out.notRooms = w.not_rooms;
  if (w.contains_url !== undefined) out.containsUrl = w.contains_url;
  if (w.lazy_load_members !== undefined) out.lazyLoadMembers = w.lazy_load_members;
  if (w.include_redundant_members !== undefined) out.includeRedundantMembers = w.include_redundant_members;
  if (w.unread_thread_notifications !== undefined) out.unreadThreadNotifications = w.unread_thread_notifications;
  return out;
}

function roomFilterFromWire(w: RoomFilterWire): RoomFilter {
  const out: RoomFilter = {};
  if (w.rooms) out.rooms = w.rooms;
  if (w.not_rooms) out.notRooms = w.not_rooms;
  if (w.include_leave !== undefined) out.includeLeave = w.include_leave;
  if (w.ephemeral) out.ephemeral = roomEventFilterFromWire(w.ephemeral);
  if (w.state) out.state = roomEventFilterFromWire(w.state);
  if (w.timeline) out.timeline = roomEventFilterFromWire(w.timeline);
  if (w.account_data) out.accountData = roomEventFilterFromWire(w.account_data);
  return out;
}

export function filterFromWire(w: FilterWire): Filter {
  const out: Filter = {};
  if (w.event_fields) out.eventFields = w.event_fields;
  if (w.event_format) out.eventFormat = w.event_format;
  if (w.presence) out.presence = eventFilterFromWire(w.presence);
  if (w.account_data) out.accountData = eventFilterFromWire(w.account_data);
  if (w.room) out.room = roomFilterFromWire(w.room);
  return out;
}

/** Validates a parsed JSON value as a Filter and converts it. */
export function parseFilter(json: unknown): FilterParseResult<Filter> {
  const parsed = filterWireSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: describeFilterError(parsed.error) };
  return { ok: true, value: filterFromWire(parsed.data) };
}

/** Validates a parsed JSON value as a RoomEventFilter (the /messages and /context form) and converts it. */
export function parseRoomEventFilter(json: unknown): FilterParseResult<RoomEventFilter> {
  const parsed = roomEventFilterWireSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: describeFilterError(parsed.error) };
  return { ok: true, value: roomEventFilterFromWire(parsed.data) };
}

/**
 * Reads the JSON text of an inline filter. Some clients URL-encode it once more than the query
 * string needs; Synapse accepts that, so a second decoding is tried when the first parse fails.
 */
export function decodeFilterJson(raw: string): FilterParseResult<unknown> {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    try {
      return { ok: true, value: JSON.parse(decodeURIComponent(raw)) };
    } catch {
      return { ok: false, error: "filter is not valid JSON" };
    }
  }
}

/** Whether a `filter` parameter is inline JSON rather than a stored filter's id (spec: filter ids never start with `{`). */
export function isInlineFilter(raw: string): boolean {
  return raw.startsWith("{") || /^%7b/i.test(raw);
}
