/**
 * The relations API and the thread list, through the viewer's eyes (spec: Client-Server
 * § Relationships API, § Querying threads in a room). Every event returned carries its bundled
 * aggregations (RoomReader.format with a viewer).
 *
 * Positions are room stream orderings as in pagination-tokens.ts: `t<N>` is the point just after
 * event N. Backwards from N covers events ≤ N; forwards from N covers events > N. `to` bounds
 * the other end the same way (backwards: > to, forwards: ≤ to).
 */
import type { ClientEvent } from "../../matrix/client-event";
import type { RoomVersion } from "../../matrix/room-versions";
import { redactEvent } from "../../matrix/redaction";
import { RelationsStore } from "./relations-store";
import type { FormatViewer, ReadResult, RoomReader } from "./room-reader";
import type { RoomStore, StoredEvent } from "./room-store";

/** How deep `recurse` follows relations of relations (spec: homeservers SHOULD traverse at least 3 levels). */
export const RELATIONS_RECURSION_DEPTH = 3;

export interface RelationsQuery {
  relType?: string;
  eventType?: string;
  from?: number;
  to?: number;
  limit: number;
  dir: "b" | "f";
  /** Undefined when the client didn't pass `recurse` (then `recursion_depth` must be absent). */
  recurse?: boolean;
  deviceId?: string;
  ignoredUsers?: string[];
}

export interface RelationsPage {
  chunk: ClientEvent[];
  /** Position for the next page (`next_batch`), absent at the end. */
  next?: number;
  recursionDepth?: number;
}

export interface ThreadsQuery {
  include: "all" | "participated";
  from?: number;
  limit: number;
  deviceId?: string;
  ignoredUsers?: string[];
}

export interface ThreadsPage {
  chunk: ClientEvent[];
  next?: number;
}

function notFound(): ReadResult<never> {
  return { ok: false, errcode: "M_NOT_FOUND", error: "Event not found" };
}

function forbidden(): ReadResult<never> {
  return { ok: false, errcode: "M_FORBIDDEN", error: "You are not allowed to view this room" };
}

export class RelationsReader {
  private readonly relations: RelationsStore;

  constructor(
    private readonly store: RoomStore,
    private readonly reader: RoomReader,
    private readonly version: RoomVersion,
  ) {
    this.relations = new RelationsStore(store.sql);
  }

  /**
   * GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]: 403 when the viewer can't
   * read the room, 404 when the parent is unknown here or hidden from them. Children the viewer
   * may not see are skipped, and pages are filled past them.
   */
  relationsOf(userId: string, parentId: string, q: RelationsQuery): ReadResult<RelationsPage> {
    const checker = this.reader.visibility(userId);
    if (!checker.mayReadRoom()) return forbidden();
    const parent = this.store.getEvent(parentId);
    if (!parent || parent.rejected || parent.outlier || parent.softFailed || !checker.canSee(parent)) return notFound();

    const viewer: FormatViewer = { userId, deviceId: q.deviceId, ignoredUsers: q.ignoredUsers };
    const ignored = new Set(q.ignoredUsers ?? []);
    const depth = q.recurse ? RELATIONS_RECURSION_DEPTH : 1;
    const batch = q.limit + 1;
    const chunk: ClientEvent[] = [];
    let cursor = q.from;
    let more = false;
    scan: for (;;) {
      const rows = this.relations.page({ parentId, relType: q.relType, eventType: q.eventType, depth, dir: q.dir, from: cursor, to: q.to, limit: batch });
      for (const row of rows) {
        if (chunk.length === q.limit) {
          more = true;
          break scan;
        }
        cursor = q.dir === "b" ? row.stream - 1 : row.stream;
        const child = this.store.getEvent(row.event_id);
        if (!child || ignored.has(child.event.sender) || !checker.canSee(child)) continue;
        chunk.push(this.reader.format(child, viewer));
      }
      if (rows.length < batch) break;
    }
    const page: RelationsPage = { chunk };
    if (more && cursor !== undefined) page.next = cursor;
    if (q.recurse !== undefined) page.recursionDepth = depth;
    return { ok: true, value: page };
  }

  /**
   * GET /rooms/{roomId}/threads: thread roots the viewer may see, most recently active first
   * (by their latest reply), each with its bundled `m.thread`. A root sent by a user the viewer
   * ignores is served redacted, as the spec asks.
   */
  threads(userId: string, q: ThreadsQuery): ReadResult<ThreadsPage> {
    const checker = this.reader.visibility(userId);
    if (!checker.mayReadRoom()) return forbidden();
    const viewer: FormatViewer = { userId, deviceId: q.deviceId, ignoredUsers: q.ignoredUsers };
    const ignored = new Set(q.ignoredUsers ?? []);
    const batch = q.limit + 1;
    const chunk: ClientEvent[] = [];
    let cursor = q.from ?? Number.MAX_SAFE_INTEGER;
    let more = false;
    scan: for (;;) {
      const rows = this.relations.threadRoots({ upTo: cursor, limit: batch, participant: q.include === "participated" ? userId : undefined });
      for (const row of rows) {
        if (chunk.length === q.limit) {
          more = true;
          break scan;
        }
        cursor = row.latest_stream - 1;
        const root = this.store.getEvent(row.root_id);
        if (!root || !checker.canSee(root)) continue;
        chunk.push(ignored.has(root.event.sender) ? this.redacted(root, viewer) : this.reader.format(root, viewer));
      }
      if (rows.length < batch) break;
    }
    return { ok: true, value: more ? { chunk, next: cursor } : { chunk } };
  }

  private redacted(root: StoredEvent, viewer: FormatViewer): ClientEvent {
    const event = this.reader.format(root, viewer);
    return { ...event, content: redactEvent(root.event, this.version).content };
  }
}
