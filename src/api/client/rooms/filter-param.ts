/**
 * The `filter` query parameter of /messages and /context: a JSON RoomEventFilter (spec:
 * Client-Server § Filtering). Parsed here, at the wire boundary, into the internal form.
 */
import { z } from "zod";
import type { RoomEventFilter } from "../../../objects/room/event-filter";
import { invalidParam } from "../../errors";

const stringList = z.array(z.string()).max(1000);

const roomEventFilterSchema = z.looseObject({
  types: stringList.optional(),
  not_types: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  contains_url: z.boolean().optional(),
  limit: z.number().int().positive().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
});

export function parseRoomEventFilterParam(raw: string | undefined): RoomEventFilter | undefined {
  if (raw === undefined || raw === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // Some clients encode the JSON twice; Synapse accepts that too.
    try {
      json = JSON.parse(decodeURIComponent(raw));
    } catch {
      throw invalidParam("filter must be a JSON RoomEventFilter");
    }
  }
  const parsed = roomEventFilterSchema.safeParse(json);
  if (!parsed.success) throw invalidParam(`filter: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  const f = parsed.data;
  const out: RoomEventFilter = {};
  if (f.types) out.types = f.types;
  if (f.not_types) out.notTypes = f.not_types;
  if (f.senders) out.senders = f.senders;
  if (f.not_senders) out.notSenders = f.not_senders;
  if (f.rooms) out.rooms = f.rooms;
  if (f.not_rooms) out.notRooms = f.not_rooms;
  if (f.contains_url !== undefined) out.containsUrl = f.contains_url;
  if (f.limit !== undefined) out.limit = f.limit;
  if (f.lazy_load_members !== undefined) out.lazyLoadMembers = f.lazy_load_members;
  if (f.include_redundant_members !== undefined) out.includeRedundantMembers = f.include_redundant_members;
  return out;
}
