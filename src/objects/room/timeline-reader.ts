/**
 * Timeline reads of one room: /messages, /context and /timestamp_to_event (spec: Client-Server
 * § Getting events for a room, § Retrieving events around a given event, and
 * GET /rooms/{roomId}/timestamp_to_event). Every event passes the viewer's history visibility.
 *
 * Positions are room stream orderings with the meaning of `services/pagination-tokens.ts`:
 * position N is just after event N, so backwards from N starts with event N and forwards with
 * N+1. Filters and visibility are applied while scanning in bounded batches: a request examines
 * at most a budget of rows, and when the budget runs out it returns what it found with a position
 * to continue from, so a filter that matches nothing never turns into a scan of the whole room.
 */
import type { ClientEvent } from "../../matrix/client-event";
import { splitStateKey } from "../../matrix/events";
import { filterAllowsEvent, filterAllowsRoom, type RoomEventFilter } from "../../matrix/filters";
import type { ReadResult, RoomReader } from "./room-reader";
import type { RoomStore, StoredEvent } from "./room-store";
import type { VisibilityChecker } from "./visibility";

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 1000;
/** Rows one request examines at most (or twice its limit, when that is larger). */
export const SCAN_BUDGET = 1000;
const BATCH_MIN = 20;
const BATCH_MAX = 250;

export type Direction = "b" | "f";

export interface Viewer {
  userId: string;
  /** The requesting device: its own events carry their `transaction_id`. */
  deviceId?: string;
  /**
   * The viewer's `m.ignored_user_list`: their non-state events are left out (state events are
   * still sent, spec: § Ignoring users), and so are their children in bundled aggregations.
   */
  ignoredUsers?: string[];
}

export interface MessagesQuery {
  dir: Direction;
  /** Position to start from; absent: the newest event for `b`, the oldest for `f`. */
  from?: number;
  /** Position to stop at. */
  to?: number;
  limit?: number;
  filter?: RoomEventFilter;
}

export interface MessagesPage {
  chunk: ClientEvent[];
  start: number;
  /** Absent when there is nothing further in this direction that the viewer could see. */
  end?: number;
  /** With `lazy_load_members`: the member events of the chunk's senders. */
  state?: ClientEvent[];
}

export interface ContextQuery {
  limit?: number;
  filter?: RoomEventFilter;
}

export interface EventContext {
  event: ClientEvent;
  eventsBefore: ClientEvent[];
  eventsAfter: ClientEvent[];
  start: number;
  end: number;
  state: ClientEvent[];
}

export interface TimestampMatch {
  eventId: string;
  originServerTs: number;
}

interface Scan {
  events: StoredEvent[];
  /** Where the next page in the same direction starts. */
  position: number;
  /** The range ended: no stored event is left in this direction. */
  exhausted: boolean;
}

/** The query's limit, else the filter's, else the default; never above MAX_LIMIT. */
export function effectiveLimit(requested: number | undefined, filter?: RoomEventFilter): number {
  return Math.max(0, Math.min(requested ?? filter?.limit ?? DEFAULT_LIMIT, MAX_LIMIT));
}

/** Whether the content a client would see (redacted content has no `url`) carries a `url`. */
function hasUrl(stored: StoredEvent): boolean {
  return stored.redactedBy === null && typeof stored.event.content.url === "string";
}

function matches(filter: RoomEventFilter | undefined, stored: StoredEvent): boolean {
  return filterAllowsEvent(filter, { type: stored.event.type, sender: stored.event.sender, hasUrl: hasUrl(stored) });
}

const forbidden = { ok: false, errcode: "M_FORBIDDEN", error: "You are not allowed to read this room" } as const;

export class TimelineReader {
  constructor(
    private readonly store: RoomStore,
    private readonly reader: RoomReader,
    private readonly roomId: string,
  ) {}

  /**
   * Walks the timeline from `from` in `dir`, up to the `to` position, keeping events that pass
   * `keep`, until `limit` are kept, the range ends, or the scan budget is spent.
   */
  private scan(dir: Direction, from: number, to: number | undefined, limit: number, keep: (s: StoredEvent) => boolean): Scan {
    const events: StoredEvent[] = [];
    let position = from;
    if (limit <= 0) return { events, position, exhausted: false };
    const budget = Math.max(SCAN_BUDGET, limit * 2);
    let scanned = 0;
    for (;;) {
      const size = Math.min(BATCH_MAX, Math.max(BATCH_MIN, (limit - events.length) * 2), budget - scanned);
      const rows =
        dir === "b"
          ? this.store.timeline({ fromStream: position + 1, dir, limit: size, toStream: to })
          : this.store.timeline({ fromStream: position, dir, limit: size, toStream: to === undefined ? undefined : to + 1 });
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        scanned += 1;
        position = dir === "b" ? row.stream - 1 : row.stream;
        if (!keep(row)) continue;
        events.push(row);
        if (events.length === limit) return { events, position, exhausted: i === rows.length - 1 && rows.length < size };
      }
      if (rows.length < size) return { events, position, exhausted: true };
      if (scanned >= budget) return { events, position, exhausted: false };
    }
  }

  private keeper(checker: VisibilityChecker, filter: RoomEventFilter | undefined, viewer: Viewer): (s: StoredEvent) => boolean {
    if (!filterAllowsRoom(filter, this.roomId)) return () => false;
    const ignored = new Set(viewer.ignoredUsers ?? []);
    return (s) => !(ignored.has(s.event.sender) && typeof s.event.state_key !== "string") && matches(filter, s) && checker.canSee(s);
  }

  /**
   * A user who left or was banned reads up to their departure: nothing after it is visible to
   * them unless it was world-readable, and then a stranger could not page it either unless the
   * room is world-readable now, in which case there is no ceiling.
   */
  private ceiling(checker: VisibilityChecker): number | undefined {
    if (checker.membership !== "leave" && checker.membership !== "ban") return undefined;
    if (checker.roomIsWorldReadable()) return undefined;
    return checker.membershipStream;
  }

  /** The member events, in the state after `at`, of the given users. */
  private memberEvents(at: StoredEvent, userIds: Iterable<string>): ClientEvent[] {
    const out: ClientEvent[] = [];
    if (at.stateGroup === null) return out;
    for (const userId of new Set(userIds)) {
      const id = this.store.stateEventIdAt(at.stateGroup, "m.room.member", userId);
      const stored = id ? this.store.getEvent(id) : undefined;
      if (stored) out.push(this.reader.format(stored));
    }
    return out;
  }

  /** GET /rooms/{roomId}/messages. */
  messages(viewer: Viewer, q: MessagesQuery): ReadResult<MessagesPage> {
    const checker = this.reader.visibility(viewer.userId);
    if (!checker.mayReadRoom()) return forbidden;
    const limit = effectiveLimit(q.limit, q.filter);
    let from = q.from ?? (q.dir === "b" ? this.store.maxStream() : 0);
    let to = q.to;
    const ceiling = this.ceiling(checker);
    if (ceiling !== undefined) {
      if (q.dir === "b") from = Math.min(from, ceiling);
      else to = Math.min(to ?? ceiling, ceiling);
    }
    // `start` echoes the client's token (spec); without one it names where this page began.
    const start = q.from ?? from;
    const scan = this.scan(q.dir, from, to, limit, this.keeper(checker, q.filter, viewer));
    const page: MessagesPage = { chunk: scan.events.map((s) => this.reader.format(s, viewer)), start };
    if (!scan.exhausted) page.end = scan.position;
    if (q.filter?.lazyLoadMembers && scan.events.length > 0) {
      // Redundant members are always included: the server keeps no record of what a device was sent.
      const state = this.memberEvents(scan.events[0]!, scan.events.map((s) => s.event.sender));
      if (state.length > 0) page.state = state;
    }
    return { ok: true, value: page };
  }

  /** GET /rooms/{roomId}/context/{eventId}: 404 when the event is unknown or not visible. */
  context(viewer: Viewer, eventId: string, q: ContextQuery): ReadResult<EventContext> {
    const checker = this.reader.visibility(viewer.userId);
    if (!checker.mayReadRoom()) return forbidden;
    const target = this.store.getEvent(eventId);
    if (!target || target.rejected || target.outlier || target.softFailed || !checker.canSee(target)) {
      return { ok: false, errcode: "M_NOT_FOUND", error: "Event not found" };
    }
    // The limit covers both lists (spec), split as Synapse does: the smaller half before.
    const limit = effectiveLimit(q.limit, q.filter);
    const beforeLimit = Math.floor(limit / 2);
    const keep = this.keeper(checker, q.filter, viewer);
    const before = this.scan("b", target.stream - 1, undefined, beforeLimit, keep);
    const after = this.scan("f", target.stream, this.ceiling(checker), limit - beforeLimit, keep);
    const last = after.events[after.events.length - 1] ?? target;
    return {
      ok: true,
      value: {
        event: this.reader.format(target, viewer),
        eventsBefore: before.events.map((s) => this.reader.format(s, viewer)),
        eventsAfter: after.events.map((s) => this.reader.format(s, viewer)),
        start: before.position,
        end: after.position,
        state: this.contextState(last, [...before.events, target, ...after.events], q.filter),
      },
    };
  }

  /**
   * The state after the last event returned, filtered like the events (spec: the filter applies
   * to `state` too); with lazy-loading, member events only for the senders shown.
   */
  private contextState(last: StoredEvent, shown: StoredEvent[], filter: RoomEventFilter | undefined): ClientEvent[] {
    if (last.stateGroup === null || !filterAllowsRoom(filter, this.roomId)) return [];
    const senders = new Set(shown.map((s) => s.event.sender));
    const out: ClientEvent[] = [];
    for (const [k, id] of this.store.loadStateGroup(last.stateGroup)) {
      const [type, key] = splitStateKey(k);
      if (filter?.lazyLoadMembers && type === "m.room.member" && !senders.has(key)) continue;
      const stored = this.store.getEvent(id);
      if (stored && matches(filter, stored)) out.push(this.reader.format(stored));
    }
    return out;
  }

  /** GET /rooms/{roomId}/timestamp_to_event: the closest event the viewer may see, in `dir` from `ts`. */
  eventAtTimestamp(userId: string, ts: number, dir: Direction): ReadResult<TimestampMatch> {
    const checker = this.reader.visibility(userId);
    if (!checker.mayReadRoom()) return forbidden;
    let cursor: { ts: number; stream: number } | undefined;
    for (let scanned = 0; scanned < SCAN_BUDGET; ) {
      const rows = this.store.timelineByTimestamp(ts, dir, BATCH_MAX, cursor);
      for (const row of rows) {
        if (checker.canSee(row)) return { ok: true, value: { eventId: row.event.event_id, originServerTs: row.event.origin_server_ts } };
      }
      scanned += rows.length;
      const last = rows[rows.length - 1];
      if (rows.length < BATCH_MAX || !last) break;
      cursor = { ts: last.event.origin_server_ts, stream: last.stream };
    }
    return { ok: false, errcode: "M_NOT_FOUND", error: `Unable to find event from ${ts} in ${dir === "f" ? "forward" : "backward"} direction` };
  }
}
