/**
 * Reading a room's timeline: /messages, /context and /timestamp_to_event. The room object applies
 * history visibility and filters and answers in stream positions; this turns positions into
 * pagination tokens and the internal shapes into the wire's.
 */
import type { ClientEvent } from "../matrix/client-event";
import type { RoomEventFilter } from "../matrix/filters";
import type { Direction, Viewer as TimelineViewer } from "../objects/room/timeline-reader";
import type { Deps } from "./deps";
import { parseRoomToken, roomToken } from "./pagination-tokens";
import { roomStub, unwrapRead } from "./rooms";

export interface Viewer {
  userId: string;
  deviceId?: string;
}

/**
 * What crosses to the room object: only the fields it reads, not the whole session. The room
 * object also takes the viewer's ignored users; account data (`m.ignored_user_list`) is not
 * stored yet, so there are none to pass.
 */
function viewerOf(v: Viewer): TimelineViewer {
  return { userId: v.userId, deviceId: v.deviceId };
}

export interface MessagesRequest {
  dir: Direction;
  from?: string;
  to?: string;
  limit?: number;
  filter?: RoomEventFilter;
}

export interface MessagesResponse {
  chunk: ClientEvent[];
  start: string;
  end?: string;
  state?: ClientEvent[];
}

export async function roomMessages(deps: Deps, roomId: string, viewer: Viewer, req: MessagesRequest): Promise<MessagesResponse> {
  const page = unwrapRead(
    await roomStub(deps, roomId).messages(viewerOf(viewer), {
      dir: req.dir,
      from: req.from !== undefined ? parseRoomToken(req.from) : undefined,
      to: req.to !== undefined ? parseRoomToken(req.to) : undefined,
      limit: req.limit,
      filter: req.filter,
    }),
  );
  const out: MessagesResponse = { chunk: page.chunk, start: roomToken(page.start) };
  if (page.end !== undefined) out.end = roomToken(page.end);
  if (page.state) out.state = page.state;
  return out;
}

export interface ContextResponse {
  event: ClientEvent;
  events_before: ClientEvent[];
  events_after: ClientEvent[];
  start: string;
  end: string;
  state: ClientEvent[];
}

export async function eventContext(
  deps: Deps,
  roomId: string,
  viewer: Viewer,
  eventId: string,
  req: { limit?: number; filter?: RoomEventFilter },
): Promise<ContextResponse> {
  const ctx = unwrapRead(await roomStub(deps, roomId).eventContext(viewerOf(viewer), eventId, req));
  return {
    event: ctx.event,
    events_before: ctx.eventsBefore,
    events_after: ctx.eventsAfter,
    start: roomToken(ctx.start),
    end: roomToken(ctx.end),
    state: ctx.state,
  };
}

export async function eventAtTimestamp(
  deps: Deps,
  roomId: string,
  userId: string,
  ts: number,
  dir: Direction,
): Promise<{ event_id: string; origin_server_ts: number }> {
  const match = unwrapRead(await roomStub(deps, roomId).eventAtTimestamp(userId, ts, dir));
  return { event_id: match.eventId, origin_server_ts: match.originServerTs };
}
