/**
 * Device-list news in a user's stream (docs/design/sync.md § Device lists): what /sync's
 * `device_lists` and GET /keys/changes are computed from. The user object records facts as they
 * reach it; which users end up in `changed` and `left` is decided when they are read, against
 * the D1 membership index (services/device-lists.ts), because only D1 knows a room's members and
 * whether two users still share a room.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import type { Sql } from "../sql";
import type { StreamRow } from "./user-store";

/** A user's device keys changed, or that user started sharing a room with this one: `data.user_id`. */
export const DEVICE_LIST_CHANGED = "device_list";
/** That user stopped being joined to a room shared with this one (may have left the last one): `data.user_id`. */
export const DEVICE_LIST_LEFT = "device_list_left";
/** This user joined `room_id`: its members are `changed`. */
export const DEVICE_LIST_ROOM_JOINED = "device_list_room_join";
/** This user left `room_id`: its members may be `left`. */
export const DEVICE_LIST_ROOM_LEFT = "device_list_room_leave";

export const DEVICE_LIST_KINDS = new Set([DEVICE_LIST_CHANGED, DEVICE_LIST_LEFT, DEVICE_LIST_ROOM_JOINED, DEVICE_LIST_ROOM_LEFT]);

export interface DeviceListNews {
  /** Users whose keys changed or who joined a room shared with this user. */
  changed: string[];
  /** Users who stopped being joined to a room shared with this user. */
  left: string[];
  /** Rooms this user joined: all their joined members count as changed. */
  joinedRooms: string[];
  /** Rooms this user left: their members may no longer share a room with this user. */
  leftRooms: string[];
}

export interface DeviceListRow {
  kind: string;
  roomId: string | null;
  data: JsonObject | null;
}

const LEAVING = new Set(["leave", "ban"]);

/**
 * The rows another member's membership event adds to this user's stream: a join (not a profile
 * change, which keeps `prev_content.membership` at join) makes them `changed`; a leave, kick or
 * ban of a joined member makes them a `left` candidate.
 */
export function otherMemberRows(ev: ClientEvent): DeviceListRow[] {
  if (ev.type !== "m.room.member" || typeof ev.state_key !== "string") return [];
  const membership = ev.content.membership;
  const prev = (ev.unsigned?.prev_content as JsonObject | undefined)?.membership;
  if (membership === "join" && prev !== "join") return [{ kind: DEVICE_LIST_CHANGED, roomId: null, data: { user_id: ev.state_key } }];
  if (typeof membership === "string" && LEAVING.has(membership) && (prev === "join" || prev === undefined)) {
    return [{ kind: DEVICE_LIST_LEFT, roomId: null, data: { user_id: ev.state_key } }];
  }
  return [];
}

/** The row this user's own membership change in a room adds, comparing before and after a delivery. */
export function ownMembershipRow(roomId: string, before: string | undefined, after: string): DeviceListRow | undefined {
  if (after === "join" && before !== "join") return { kind: DEVICE_LIST_ROOM_JOINED, roomId, data: null };
  if (LEAVING.has(after) && before === "join") return { kind: DEVICE_LIST_ROOM_LEFT, roomId, data: null };
  return undefined;
}

/** Gathers the device-list rows among `rows`, in stream order. */
export function collectDeviceListNews(rows: StreamRow[]): DeviceListNews {
  const changed = new Set<string>();
  const left = new Set<string>();
  const joinedRooms = new Set<string>();
  const leftRooms = new Set<string>();
  for (const row of rows) {
    if (!DEVICE_LIST_KINDS.has(row.kind)) continue;
    if (row.kind === DEVICE_LIST_ROOM_JOINED || row.kind === DEVICE_LIST_ROOM_LEFT) {
      if (row.room_id) (row.kind === DEVICE_LIST_ROOM_JOINED ? joinedRooms : leftRooms).add(row.room_id);
      continue;
    }
    const userId = (JSON.parse(row.data ?? "{}") as { user_id?: unknown }).user_id;
    if (typeof userId !== "string") continue;
    (row.kind === DEVICE_LIST_CHANGED ? changed : left).add(userId);
  }
  return { changed: [...changed], left: [...left], joinedRooms: [...joinedRooms], leftRooms: [...leftRooms] };
}

export function hasDeviceListNews(news: DeviceListNews): boolean {
  return news.changed.length + news.left.length + news.joinedRooms.length + news.leftRooms.length > 0;
}

/** Device-list news in the stream positions (from, to] (GET /keys/changes). */
export function deviceListNewsBetween(sql: Sql, from: number, to: number): DeviceListNews {
  const kinds = JSON.stringify([...DEVICE_LIST_KINDS]);
  const rows = sql.all<StreamRow>(
    "SELECT pos, kind, room_id, room_stream, data FROM stream WHERE pos > ? AND pos <= ? AND kind IN (SELECT value FROM json_each(?)) ORDER BY pos",
    from,
    to,
    kinds,
  );
  return collectDeviceListNews(rows);
}
