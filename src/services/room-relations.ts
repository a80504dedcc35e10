/**
 * Event relationships over HTTP: the relations API and the thread list. The room object applies
 * history visibility and answers in stream positions; this turns positions into pagination
 * tokens (pagination-tokens.ts, the same `t<N>` tokens /messages uses, so a /messages `start` is
 * a valid `from`) and applies the server's page-size limits.
 */
import type { ClientEvent } from "../matrix/client-event";
import type { Deps } from "./deps";
import { parseRoomToken, roomToken } from "./pagination-tokens";
import { roomStub, unwrapRead } from "./rooms";

/** Page sizes when the client gives none, and the most the server returns (spec: servers should apply both). */
export const RELATIONS_DEFAULT_LIMIT = 5;
export const THREADS_DEFAULT_LIMIT = 5;
export const MAX_PAGE_LIMIT = 100;

export interface RelationsRequest {
  relType?: string;
  eventType?: string;
  from?: string;
  to?: string;
  limit?: number;
  dir: "b" | "f";
  recurse?: boolean;
}

export interface RelationsResponse {
  chunk: ClientEvent[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
}

export async function relatedEvents(
  deps: Deps,
  roomId: string,
  viewer: { userId: string; deviceId?: string },
  eventId: string,
  req: RelationsRequest,
): Promise<RelationsResponse> {
  const page = unwrapRead(
    await roomStub(deps, roomId).relations(viewer.userId, eventId, {
      relType: req.relType,
      eventType: req.eventType,
      from: req.from !== undefined ? parseRoomToken(req.from) : undefined,
      to: req.to !== undefined ? parseRoomToken(req.to) : undefined,
      limit: Math.min(req.limit ?? RELATIONS_DEFAULT_LIMIT, MAX_PAGE_LIMIT),
      dir: req.dir,
      recurse: req.recurse,
      deviceId: viewer.deviceId,
    }),
  );
  const out: RelationsResponse = { chunk: page.chunk };
  if (page.next !== undefined) out.next_batch = roomToken(page.next);
  // The page started where the client asked it to; without `from` this is the first page.
  if (req.from !== undefined) out.prev_batch = req.from;
  if (page.recursionDepth !== undefined) out.recursion_depth = page.recursionDepth;
  return out;
}

export interface ThreadsRequest {
  include: "all" | "participated";
  from?: string;
  limit?: number;
}

export async function threadRoots(
  deps: Deps,
  roomId: string,
  viewer: { userId: string; deviceId?: string },
  req: ThreadsRequest,
): Promise<{ chunk: ClientEvent[]; next_batch?: string }> {
  const page = unwrapRead(
    await roomStub(deps, roomId).threads(viewer.userId, {
      include: req.include,
      from: req.from !== undefined ? parseRoomToken(req.from) : undefined,
      limit: Math.min(req.limit ?? THREADS_DEFAULT_LIMIT, MAX_PAGE_LIMIT),
      deviceId: viewer.deviceId,
    }),
  );
  return page.next !== undefined ? { chunk: page.chunk, next_batch: roomToken(page.next) } : { chunk: page.chunk };
}
