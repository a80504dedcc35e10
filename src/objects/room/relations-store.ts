/**
 * SQL for event relationships (spec: Client-Server § Forming relationships between events): the
 * children of a parent, pages of them for the relations API, and the thread index used by the
 * thread list. The rules (validity, visibility, aggregation formats) live in aggregations.ts and
 * relations.ts.
 *
 * `relations` rows are written by the engine for every accepted event with an `m.relates_to`,
 * whether or not the parent is known: a relation whose parent is in another room (or not here
 * yet) is stored but never aggregated, because aggregation always starts from a parent served
 * out of this room.
 */
import { first, type Sql, type SqlValue } from "../sql";

/**
 * A child counts while its `events` row (alias `e`) is in the visible timeline and not redacted:
 * redacting a child breaks the relationship (spec: § Aggregations of child events).
 */
const LIVE = "e.rejected IS NULL AND e.soft_failed = 0 AND e.outlier = 0 AND e.redacted_by IS NULL";

export interface ChildRow {
  event_id: string;
  stream: number;
}

/** A live thread reply, with what history visibility needs to judge it without parsing its JSON. */
export interface ThreadReplyRow {
  event_id: string;
  stream: number;
  state_group: number | null;
  sender: string;
  type: string;
  /** 1 for a state event (rare: its visibility needs the event itself). */
  is_state: number;
}

export interface RelationsPageQuery {
  parentId: string;
  relType?: string;
  eventType?: string;
  /** 1: direct children only; more: children of children, and so on. */
  depth: number;
  dir: "b" | "f";
  /** Room stream bounds (room tokens): see relations.ts for their meaning per direction. */
  from?: number;
  to?: number;
  limit: number;
}

export class RelationsStore {
  constructor(private readonly sql: Sql) {}

  /** The relation types with at least one live child of `parentId`. */
  childRelTypes(parentId: string): string[] {
    return this.sql
      .all<{ rel_type: string }>(
        `SELECT DISTINCT r.rel_type FROM relations r JOIN events e ON e.event_id = r.event_id WHERE r.parent_id = ? AND ${LIVE}`,
        parentId,
      )
      .map((r) => r.rel_type);
  }

  /**
   * Candidate edits of an event: live `m.replace` children with the same sender and type and no
   * state key, most recent first (spec: § Server-side aggregation of m.replace relationships —
   * by origin_server_ts, then the lexicographically largest event id).
   */
  replacementCandidates(parentId: string, sender: string, type: string, limit: number, offset: number): string[] {
    return this.sql
      .all<{ event_id: string }>(
        `SELECT r.event_id FROM relations r JOIN events e ON e.event_id = r.event_id
         WHERE r.parent_id = ? AND r.rel_type = 'm.replace' AND r.sender = ? AND r.type = ? AND e.state_key IS NULL AND ${LIVE}
         ORDER BY e.origin_server_ts DESC, e.event_id DESC LIMIT ? OFFSET ?`,
        parentId,
        sender,
        type,
        limit,
        offset,
      )
      .map((r) => r.event_id);
  }

  /** Every live reply of a thread. */
  threadReplies(rootId: string): ThreadReplyRow[] {
    return this.sql.all<ThreadReplyRow>(
      `SELECT r.event_id, r.stream, e.state_group, r.sender, r.type, e.state_key IS NOT NULL AS is_state
       FROM relations r JOIN events e ON e.event_id = r.event_id
       WHERE r.parent_id = ? AND r.rel_type = 'm.thread' AND ${LIVE}`,
      rootId,
    );
  }

  /** Live children of one relation type, by stream: newest first (`b`) or oldest first (`f`), strictly past `after`. */
  children(parentId: string, relType: string, dir: "b" | "f", limit: number, after?: number): ChildRow[] {
    const bound = after === undefined ? "" : ` AND r.stream ${dir === "b" ? "<" : ">"} ${Number(after)}`;
    return this.sql.all<ChildRow>(
      `SELECT r.event_id, r.stream FROM relations r JOIN events e ON e.event_id = r.event_id
       WHERE r.parent_id = ? AND r.rel_type = ? AND ${LIVE}${bound}
       ORDER BY r.stream ${dir === "b" ? "DESC" : "ASC"} LIMIT ?`,
      parentId,
      relType,
      limit,
    );
  }

  /**
   * One page of the relations API: the live children of `parentId` (and, with depth > 1, their
   * live children, and so on), filtered by relation and event type at every level — a child
   * reached only through a non-matching intermediate event is left out (spec: § Relationships API).
   */
  page(q: RelationsPageQuery): ChildRow[] {
    const filters: string[] = [];
    const filterArgs: SqlValue[] = [];
    if (q.relType !== undefined) {
      filters.push("r.rel_type = ?");
      filterArgs.push(q.relType);
    }
    if (q.eventType !== undefined) {
      filters.push("r.type = ?");
      filterArgs.push(q.eventType);
    }
    const filter = filters.map((f) => ` AND ${f}`).join("");
    const bounds: string[] = [];
    const boundArgs: SqlValue[] = [];
    if (q.from !== undefined) {
      bounds.push(q.dir === "b" ? "e.stream <= ?" : "e.stream > ?");
      boundArgs.push(q.from);
    }
    if (q.to !== undefined) {
      bounds.push(q.dir === "b" ? "e.stream > ?" : "e.stream <= ?");
      boundArgs.push(q.to);
    }
    const where = bounds.map((b) => ` AND ${b}`).join("");
    return this.sql.all<ChildRow>(
      `WITH RECURSIVE tree(event_id, depth) AS (
         SELECT r.event_id, 1 FROM relations r JOIN events e ON e.event_id = r.event_id
         WHERE r.parent_id = ? AND ${LIVE}${filter}
         UNION
         SELECT r.event_id, tree.depth + 1 FROM tree
         JOIN relations r ON r.parent_id = tree.event_id
         JOIN events e ON e.event_id = r.event_id
         WHERE tree.depth < ? AND ${LIVE}${filter}
       )
       SELECT DISTINCT e.event_id, e.stream FROM tree JOIN events e ON e.event_id = tree.event_id
       WHERE e.event_id != ?${where}
       ORDER BY e.stream ${q.dir === "b" ? "DESC" : "ASC"} LIMIT ?`,
      q.parentId,
      ...filterArgs,
      q.depth,
      ...filterArgs,
      q.parentId,
      ...boundArgs,
      q.limit,
    );
  }

  /**
   * Thread roots known in this room whose latest reply is at or before `upTo`, most recently
   * active first. With `participant`, only threads that user started or replied to (spec:
   * § Server-side aggregation of m.thread relationships, current_user_participated).
   */
  threadRoots(q: { upTo: number; limit: number; participant?: string }): { root_id: string; latest_stream: number }[] {
    const participated =
      q.participant === undefined
        ? ""
        : ` AND (e.sender = ? OR EXISTS (SELECT 1 FROM relations r JOIN events c ON c.event_id = r.event_id
              WHERE r.parent_id = t.root_id AND r.rel_type = 'm.thread' AND r.sender = ? AND c.redacted_by IS NULL))`;
    const args: SqlValue[] = [q.upTo];
    if (q.participant !== undefined) args.push(q.participant, q.participant);
    args.push(q.limit);
    return this.sql.all(
      `SELECT t.root_id, t.latest_stream FROM threads t JOIN events e ON e.event_id = t.root_id
       WHERE t.latest_stream <= ? AND e.rejected IS NULL AND e.soft_failed = 0 AND e.outlier = 0${participated}
       ORDER BY t.latest_stream DESC LIMIT ?`,
      ...args,
    );
  }
}

/** Keeps the thread index current when a thread reply is accepted (called with the relation row). */
export function recordThreadReply(sql: Sql, rootId: string, stream: number): void {
  sql.run(
    `INSERT INTO threads (root_id, latest_stream) VALUES (?, ?)
     ON CONFLICT (root_id) DO UPDATE SET latest_stream = MAX(latest_stream, excluded.latest_stream)`,
    rootId,
    stream,
  );
}

/** After `eventId` was redacted: if it was a thread reply, its thread's latest reply is recomputed. */
export function refreshThreadAfterRedaction(sql: Sql, eventId: string): void {
  const rel = first<{ parent_id: string }>(sql, "SELECT parent_id FROM relations WHERE event_id = ? AND rel_type = 'm.thread'", eventId);
  if (!rel) return;
  const latest = first<{ s: number | null }>(
    sql,
    `SELECT MAX(r.stream) AS s FROM relations r JOIN events e ON e.event_id = r.event_id
     WHERE r.parent_id = ? AND r.rel_type = 'm.thread' AND ${LIVE}`,
    rel.parent_id,
  )?.s;
  if (latest === null || latest === undefined) sql.run("DELETE FROM threads WHERE root_id = ?", rel.parent_id);
  else sql.run("UPDATE threads SET latest_stream = ? WHERE root_id = ?", latest, rel.parent_id);
}
