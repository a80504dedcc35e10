/**
 * Storage for one room's event graph: events, state groups (deltas with periodic snapshots),
 * current state and forward extremities (DESIGN §1). SQL lives here; the rules that decide what
 * to write live in the room engine.
 */
import { splitStateKey, stateKey, type RoomEvent, type StateMap } from "../../matrix/events";
import { first, type Sql } from "../sql";
import { recordThreadReply, refreshThreadAfterRedaction } from "./relations-store";

/** A chain of deltas longer than this is cut by a full snapshot. */
const SNAPSHOT_EVERY = 64;
/** Newest events kept in memory in stream order, so the delivery pump reads what was just appended without SQL. */
const TAIL_SIZE = 256;
/**
 * Meta keys served from memory. Each is written only through `setMeta`, and outside any
 * transaction or in one whose failure calls `resetCaches`, so the copy can't outlive a rollback.
 * (`receipt_stream` is bumped inside receipts.ts's own transaction, so it is always read.)
 */
const CACHED_META = new Set(["room_id", "room_version", "current_state_group", "delivered_stream", "receipts_delivered"]);

export interface StoredEvent {
  stream: number;
  event: RoomEvent;
  stateGroup: number | null;
  rejected: string | null;
  softFailed: boolean;
  outlier: boolean;
  redactedBy: string | null;
}

interface EventRow {
  stream: number;
  event_id: string;
  json: string;
  state_group: number | null;
  rejected: string | null;
  soft_failed: number;
  outlier: number;
  redacted_by: string | null;
}

export interface NewEventRecord {
  event: RoomEvent;
  /** State after the event, as a group id; null for rejected events and outliers. */
  stateGroup: number | null;
  rejected?: string;
  softFailed?: boolean;
  outlier?: boolean;
  txn?: { sender: string; deviceId: string; txnId: string };
}

/** A tiny LRU so hot events and state groups are parsed once. */
class Lru<K, V> {
  private map = new Map<K, V>();
  constructor(private readonly size: number) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as K);
  }
  delete(k: K): void {
    this.map.delete(k);
  }
}

export class RoomStore {
  private events = new Lru<string, StoredEvent>(2000);
  private groups = new Lru<number, StateMap>(64);
  private current: StateMap | undefined;
  private extremities: string[] | undefined;
  private meta = new Map<string, string | undefined>();
  /** Every event inserted since the object started (or since the last reset), newest last, at most TAIL_SIZE. */
  private tail: StoredEvent[] = [];
  /** The transaction each recently inserted event was sent with (null: none), for delivery's echo. */
  private txns = new Lru<string, { deviceId: string; txnId: string } | null>(TAIL_SIZE);
  /** User ids per membership in the current state; dropped whenever a member event changes it. */
  private members = new Map<string, string[]>();

  constructor(readonly sql: Sql) {}

  getMeta(key: string): string | undefined {
    if (this.meta.has(key)) return this.meta.get(key);
    const value = first<{ value: string }>(this.sql, "SELECT value FROM meta WHERE key = ?", key)?.value;
    if (CACHED_META.has(key)) this.meta.set(key, value);
    return value;
  }

  setMeta(key: string, value: string): void {
    this.sql.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
    if (CACHED_META.has(key)) this.meta.set(key, value);
  }

  private fromRow(row: EventRow): StoredEvent {
    const event = JSON.parse(row.json) as RoomEvent;
    event.event_id = row.event_id;
    return {
      stream: row.stream,
      event,
      stateGroup: row.state_group,
      rejected: row.rejected,
      softFailed: row.soft_failed === 1,
      outlier: row.outlier === 1,
      redactedBy: row.redacted_by,
    };
  }

  getEvent(eventId: string): StoredEvent | undefined {
    const cached = this.events.get(eventId);
    if (cached) return cached;
    const row = first<EventRow>(
      this.sql,
      "SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events WHERE event_id = ?",
      eventId,
    );
    if (!row) return undefined;
    const stored = this.fromRow(row);
    this.events.set(eventId, stored);
    return stored;
  }

  getEventByStream(stream: number): StoredEvent | undefined {
    const row = first<EventRow>(
      this.sql,
      "SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events WHERE stream = ?",
      stream,
    );
    return row ? this.fromRow(row) : undefined;
  }

  eventIdForTxn(sender: string, deviceId: string, txnId: string): string | undefined {
    return first<{ event_id: string }>(
      this.sql,
      "SELECT event_id FROM events WHERE txn_sender = ? AND txn_device = ? AND txn_id = ?",
      sender,
      deviceId,
      txnId,
    )?.event_id;
  }

  /** The transaction id a device used to send an event, for echoing it back to that device only. */
  transactionIdFor(eventId: string, sender: string, deviceId: string): string | undefined {
    const stored = first<{ txn_id: string }>(
      this.sql,
      "SELECT txn_id FROM events WHERE event_id = ? AND txn_sender = ? AND txn_device = ?",
      eventId,
      sender,
      deviceId,
    )?.txn_id;
    // Stored as `<endpoint>/<client's id>`; the client gets its own id back.
    return stored === undefined ? undefined : stored.slice(stored.indexOf("/") + 1);
  }

  /** The device and transaction id an event was sent with, if any (client id, without the endpoint scope). */
  txnOf(eventId: string): { deviceId: string; txnId: string } | undefined {
    const known = this.txns.get(eventId);
    if (known !== undefined) return known ?? undefined;
    const row = first<{ txn_device: string | null; txn_id: string | null }>(this.sql, "SELECT txn_device, txn_id FROM events WHERE event_id = ?", eventId);
    if (!row?.txn_device || !row.txn_id) return undefined;
    return { deviceId: row.txn_device, txnId: row.txn_id.slice(row.txn_id.indexOf("/") + 1) };
  }

  /** Every stored event after `stream`, in order, including rejected and soft-failed ones (callers skip them). */
  eventsAfter(stream: number, limit: number): StoredEvent[] {
    // This object is the room's only writer and streams only grow, so when the in-memory tail
    // starts at or before `stream + 1` it holds every event after `stream`.
    const head = this.tail[0];
    if (head && head.stream <= stream + 1) {
      const from = this.tail.findIndex((e) => e.stream > stream);
      return from === -1 ? [] : this.tail.slice(from, from + limit);
    }
    return this.sql
      .all<EventRow>(
        "SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events WHERE stream > ? ORDER BY stream LIMIT ?",
        stream,
        limit,
      )
      .map((r) => this.fromRow(r));
  }

  /** Events of the visible timeline (not rejected, not soft-failed, not outliers) in stream order. */
  timeline(opts: { fromStream: number; dir: "b" | "f"; limit: number; toStream?: number }): StoredEvent[] {
    const cmp = opts.dir === "b" ? "<" : ">";
    const order = opts.dir === "b" ? "DESC" : "ASC";
    const toClause = opts.toStream === undefined ? "" : ` AND stream ${opts.dir === "b" ? ">" : "<"} ${Number(opts.toStream)}`;
    const rows = this.sql.all<EventRow>(
      `SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events
       WHERE stream ${cmp} ? AND rejected IS NULL AND soft_failed = 0 AND outlier = 0${toClause}
       ORDER BY stream ${order} LIMIT ?`,
      opts.fromStream,
      opts.limit,
    );
    return rows.map((r) => this.fromRow(r));
  }

  maxStream(): number {
    return first<{ s: number | null }>(this.sql, "SELECT MAX(stream) AS s FROM events")?.s ?? 0;
  }

  /** The stream position of the newest event at or before `ts` (dir b) or at or after it (dir f). */
  streamAtTimestamp(ts: number, dir: "b" | "f"): StoredEvent | undefined {
    const row = first<EventRow>(
      this.sql,
      `SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events
       WHERE origin_server_ts ${dir === "b" ? "<=" : ">="} ? AND rejected IS NULL AND soft_failed = 0 AND outlier = 0
       ORDER BY origin_server_ts ${dir === "b" ? "DESC" : "ASC"}, stream ${dir === "b" ? "DESC" : "ASC"} LIMIT 1`,
      ts,
    );
    return row ? this.fromRow(row) : undefined;
  }

  forwardExtremities(): string[] {
    this.extremities ??= this.sql.all<{ event_id: string }>("SELECT event_id FROM forward_extremities").map((r) => r.event_id);
    return this.extremities;
  }

  currentState(): StateMap {
    if (!this.current) {
      const map: StateMap = new Map();
      for (const r of this.sql.all<{ type: string; state_key: string; event_id: string }>("SELECT type, state_key, event_id FROM current_state")) {
        map.set(stateKey(r.type, r.state_key), r.event_id);
      }
      this.current = map;
    }
    return this.current;
  }

  currentStateGroup(): number | null {
    const v = this.getMeta("current_state_group");
    return v === undefined ? null : Number(v);
  }

  loadStateGroup(groupId: number): StateMap {
    const cached = this.groups.get(groupId);
    if (cached) return cached;
    // Walk back to the snapshot, then apply deltas oldest first.
    const chain: number[] = [];
    let id: number | null = groupId;
    while (id !== null) {
      chain.push(id);
      const parent: { prev_group: number | null } | undefined = first(this.sql, "SELECT prev_group FROM state_groups WHERE id = ?", id);
      if (!parent) throw new Error(`state group ${id} is missing`);
      id = parent.prev_group;
    }
    const map: StateMap = new Map();
    for (const gid of chain.reverse()) {
      for (const r of this.sql.all<{ type: string; state_key: string; event_id: string | null }>(
        "SELECT type, state_key, event_id FROM state_group_entries WHERE group_id = ?",
        gid,
      )) {
        const k = stateKey(r.type, r.state_key);
        if (r.event_id === null) map.delete(k);
        else map.set(k, r.event_id);
      }
    }
    this.groups.set(groupId, map);
    return map;
  }

  /** Stores `state` as a new group: a delta over `prevGroup` when one is given and the chain is short. */
  createStateGroup(state: StateMap, prevGroup: number | null): number {
    let delta: [string, string | null][];
    let chainLength = 0;
    let parent = prevGroup;
    if (parent !== null) {
      const row = first<{ chain_length: number }>(this.sql, "SELECT chain_length FROM state_groups WHERE id = ?", parent);
      if (!row || row.chain_length >= SNAPSHOT_EVERY) parent = null;
      else chainLength = row.chain_length + 1;
    }
    if (parent !== null) {
      const base = this.loadStateGroup(parent);
      delta = [];
      for (const [k, v] of state) if (base.get(k) !== v) delta.push([k, v]);
      for (const k of base.keys()) if (!state.has(k)) delta.push([k, null]);
    } else {
      delta = [...state];
    }
    const id = first<{ id: number }>(this.sql, "INSERT INTO state_groups (prev_group, chain_length) VALUES (?, ?) RETURNING id", parent, chainLength)!.id;
    for (const [k, v] of delta) {
      const [type, sk] = splitStateKey(k);
      this.sql.run("INSERT INTO state_group_entries (group_id, type, state_key, event_id) VALUES (?, ?, ?, ?)", id, type, sk, v);
    }
    this.groups.set(id, new Map(state));
    return id;
  }

  insertEvent(rec: NewEventRecord): number {
    const ev = rec.event;
    const json = JSON.stringify(ev);
    const stream = first<{ stream: number }>(
      this.sql,
      `INSERT INTO events (event_id, type, state_key, sender, depth, origin_server_ts, json, state_group, rejected, soft_failed, outlier, txn_sender, txn_device, txn_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING stream`,
      ev.event_id,
      ev.type,
      ev.state_key ?? null,
      ev.sender,
      ev.depth,
      ev.origin_server_ts,
      json,
      rec.stateGroup,
      rec.rejected ?? null,
      rec.softFailed ? 1 : 0,
      rec.outlier ? 1 : 0,
      rec.txn?.sender ?? null,
      rec.txn?.deviceId ?? null,
      rec.txn?.txnId ?? null,
    )!.stream;
    // The next append reads this event (it is the new extremity) and the delivery pump reads it
    // too: keep the parsed copy. A rolled-back transaction drops it with resetCaches.
    const stored: StoredEvent = {
      stream,
      event: ev,
      stateGroup: rec.stateGroup,
      rejected: rec.rejected ?? null,
      softFailed: rec.softFailed === true,
      outlier: rec.outlier === true,
      redactedBy: null,
    };
    this.events.set(ev.event_id, stored);
    this.tail.push(stored);
    if (this.tail.length > TAIL_SIZE) this.tail.shift();
    // Same client id form as txnOf: without the endpoint scope.
    const t = rec.txn;
    this.txns.set(ev.event_id, t ? { deviceId: t.deviceId, txnId: t.txnId.slice(t.txnId.indexOf("/") + 1) } : null);
    return stream;
  }

  /** Writes only the difference: on a linear timeline one extremity replaces another, one UPDATE. */
  setForwardExtremities(ids: string[]): void {
    const old = new Set(this.forwardExtremities());
    const next = new Set(ids);
    const removed = [...old].filter((id) => !next.has(id));
    const added = ids.filter((id) => !old.has(id));
    while (removed.length && added.length) this.sql.run("UPDATE forward_extremities SET event_id = ? WHERE event_id = ?", added.shift()!, removed.shift()!);
    for (const id of removed) this.sql.run("DELETE FROM forward_extremities WHERE event_id = ?", id);
    for (const id of added) this.sql.run("INSERT INTO forward_extremities (event_id) VALUES (?)", id);
    this.extremities = [...ids];
  }

  /** Replaces the current state, writing only the keys that changed. */
  setCurrentState(state: StateMap, group: number): void {
    // State groups never change, so the current group again means the same state (a message event).
    if (this.current && String(group) === this.getMeta("current_state_group")) return;
    const old = this.currentState();
    for (const [k, v] of state) {
      if (old.get(k) === v) continue;
      const [type, sk] = splitStateKey(k);
      if (type === "m.room.member") this.members.clear();
      let membership: string | null = null;
      if (type === "m.room.member") {
        const m = this.getEvent(v)?.event.content.membership;
        membership = typeof m === "string" ? m : null;
      }
      this.sql.run(
        `INSERT INTO current_state (type, state_key, event_id, membership) VALUES (?, ?, ?, ?)
         ON CONFLICT (type, state_key) DO UPDATE SET event_id = excluded.event_id, membership = excluded.membership`,
        type,
        sk,
        v,
        membership,
      );
    }
    for (const k of old.keys()) {
      if (state.has(k)) continue;
      const [type, sk] = splitStateKey(k);
      if (type === "m.room.member") this.members.clear();
      this.sql.run("DELETE FROM current_state WHERE type = ? AND state_key = ?", type, sk);
    }
    this.current = new Map(state);
    this.setMeta("current_state_group", String(group));
  }

  /** User ids with the given membership in the current state. */
  membersWith(membership: string): string[] {
    let list = this.members.get(membership);
    if (!list) {
      list = this.sql
        .all<{ state_key: string }>("SELECT state_key FROM current_state WHERE type = 'm.room.member' AND membership = ?", membership)
        .map((r) => r.state_key);
      this.members.set(membership, list);
    }
    return [...list];
  }

  countMembers(membership: string): number {
    return this.members.get(membership)?.length ?? this.membersWith(membership).length;
  }

  markRedacted(eventId: string, redactionId: string): void {
    this.sql.run("UPDATE events SET redacted_by = ? WHERE event_id = ? AND redacted_by IS NULL", redactionId, eventId);
    this.events.delete(eventId);
    const i = this.tail.findIndex((e) => e.event.event_id === eventId);
    if (i !== -1 && this.tail[i]!.redactedBy === null) this.tail[i] = { ...this.tail[i]!, redactedBy: redactionId };
    // A redacted thread reply no longer counts as its thread's latest activity.
    refreshThreadAfterRedaction(this.sql, eventId);
  }

  insertRelation(r: { eventId: string; parentId: string; relType: string; type: string; sender: string; key: string | null; stream: number }): void {
    this.sql.run(
      "INSERT INTO relations (event_id, parent_id, rel_type, type, sender, aggregation_key, stream) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      r.eventId,
      r.parentId,
      r.relType,
      r.type,
      r.sender,
      r.key,
      r.stream,
    );
    if (r.relType === "m.thread") recordThreadReply(this.sql, r.parentId, r.stream);
  }

  /** Drops in-memory caches; used when a transaction rolled back. */
  resetCaches(): void {
    this.current = undefined;
    this.extremities = undefined;
    this.groups = new Lru(64);
    this.events = new Lru(2000);
    this.meta.clear();
    this.tail = [];
    this.txns = new Lru(TAIL_SIZE);
    this.members.clear();
  }

  /**
   * One key of a state group, without materialising the whole group: walks the delta chain
   * (at most SNAPSHOT_EVERY hops) and stops at the first entry for the key. Read paths that need
   * a couple of keys per event (history visibility) use this instead of `loadStateGroup`.
   */
  stateEventIdAt(groupId: number, type: string, key: string): string | undefined {
    const k = stateKey(type, key);
    let id: number | null = groupId;
    while (id !== null) {
      const cached = this.groups.get(id);
      if (cached) return cached.get(k);
      const entry = first<{ event_id: string | null }>(
        this.sql,
        "SELECT event_id FROM state_group_entries WHERE group_id = ? AND type = ? AND state_key = ?",
        id,
        type,
        key,
      );
      if (entry) return entry.event_id ?? undefined;
      const parent: { prev_group: number | null } | undefined = first(this.sql, "SELECT prev_group FROM state_groups WHERE id = ?", id);
      if (!parent) throw new Error(`state group ${id} is missing`);
      id = parent.prev_group;
    }
    return undefined;
  }

  /**
   * Timeline events ordered by `origin_server_ts` from `ts` in `dir` (b: at or before, f: at or
   * after), resuming after `cursor` (the last row of the previous batch) when given.
   */
  timelineByTimestamp(ts: number, dir: "b" | "f", limit: number, cursor?: { ts: number; stream: number }): StoredEvent[] {
    const cmp = dir === "b" ? "<" : ">";
    const order = dir === "b" ? "DESC" : "ASC";
    const where = cursor
      ? `(origin_server_ts ${cmp} ? OR (origin_server_ts = ? AND stream ${cmp} ?))`
      : `origin_server_ts ${cmp}= ?`;
    const bindings = cursor ? [cursor.ts, cursor.ts, cursor.stream] : [ts];
    const rows = this.sql.all<EventRow>(
      `SELECT stream, event_id, json, state_group, rejected, soft_failed, outlier, redacted_by FROM events
       WHERE ${where} AND rejected IS NULL AND soft_failed = 0 AND outlier = 0
       ORDER BY origin_server_ts ${order}, stream ${order} LIMIT ?`,
      ...bindings,
      limit,
    );
    return rows.map((r) => this.fromRow(r));
  }
}
