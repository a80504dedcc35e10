/**
 * Receipts (spec: Client-Server § Receipts), owned by the room object (DESIGN §1): the latest
 * receipt of each (user, receipt type, thread) in the room's SQLite, and their delivery to local
 * users' objects. Delivery keeps its own cursor over the room's receipt stream, like event
 * delivery (docs/design/sync.md), so a receipt is never lost between storing and delivering it.
 */
import type { DeliveredReceipt } from "../user/stream-types";
import { first, type Sql } from "../sql";
import type { RoomReader } from "./room-reader";
import type { RoomStore } from "./room-store";

export type ReceiptType = "m.read" | "m.read.private";

/** The thread id of the main timeline (spec: § Threaded read receipts). */
export const MAIN_THREAD = "main";
/** How far a relation chain is followed to find an event's thread (the spec recommends 3 hops). */
const THREAD_HOPS = 3;
/** Receipts a user who has just joined gets: the newest public ones, plus all of their own. */
const JOIN_RECEIPTS = 100;

export type ReceiptResult =
  /** `changed` is false when the user already had this or a later receipt: nothing to deliver. */
  | { ok: true; changed: boolean }
  | { ok: false; errcode: "M_FORBIDDEN" | "M_NOT_FOUND" | "M_INVALID_PARAM"; error: string };

interface ReceiptRow {
  user_id: string;
  receipt_type: string;
  thread_id: string;
  event_id: string;
  event_stream: number;
  ts: number;
  stream: number;
}

export interface ReceiptPlan {
  /** Move the receipt cursor here once every delivery has been accepted. */
  upTo: number;
  deliveries: Map<string, DeliveredReceipt[]>;
}

function toDelivered(row: ReceiptRow): DeliveredReceipt {
  const out: DeliveredReceipt = {
    userId: row.user_id,
    receiptType: row.receipt_type as ReceiptType,
    eventId: row.event_id,
    eventStream: row.event_stream,
    ts: row.ts,
    stream: row.stream,
  };
  if (row.thread_id !== "") out.threadId = row.thread_id;
  return out;
}

const COLUMNS = "user_id, receipt_type, thread_id, event_id, event_stream, ts, stream";

export class RoomReceipts {
  private readonly sql: Sql;

  constructor(
    private readonly store: RoomStore,
    private readonly reader: RoomReader,
    private readonly serverName: string,
  ) {
    this.sql = store.sql;
  }

  /**
   * The thread an event belongs to: the root of the first `m.thread` relation found following its
   * relations (at most THREAD_HOPS), `main` otherwise. Thread roots and events related to them by
   * other relations are in the main timeline (spec: § Threaded read receipts).
   */
  threadOf(eventId: string): string {
    let current = eventId;
    for (let hop = 0; hop < THREAD_HOPS; hop++) {
      const rel = first<{ parent_id: string; rel_type: string }>(this.sql, "SELECT parent_id, rel_type FROM relations WHERE event_id = ?", current);
      if (!rel) break;
      if (rel.rel_type === "m.thread") return rel.parent_id;
      current = rel.parent_id;
    }
    return MAIN_THREAD;
  }

  /**
   * POST /rooms/{roomId}/receipt (and the receipts of /read_markers). The user must be joined and
   * able to see the event. A `threadId` must name the event's thread: `main` for the main
   * timeline, or the thread's root (the root itself is accepted for its own thread too, as it
   * opens it); anything else is 400 ("The event_id is not related to the thread_id").
   */
  post(userId: string, receiptType: ReceiptType, eventId: string, threadId: string | undefined, ts: number): ReceiptResult {
    const checker = this.reader.visibility(userId);
    if (checker.membership !== "join") return { ok: false, errcode: "M_FORBIDDEN", error: "You are not joined to this room" };
    const stored = this.store.getEvent(eventId);
    if (!stored || stored.rejected || stored.outlier || !checker.canSee(stored)) {
      return { ok: false, errcode: "M_NOT_FOUND", error: "Event not found" };
    }
    if (threadId !== undefined) {
      if (threadId === "") return { ok: false, errcode: "M_INVALID_PARAM", error: "thread_id field must be a non-empty string" };
      const thread = this.threadOf(eventId);
      const fits = threadId === thread || (threadId === eventId && thread === MAIN_THREAD);
      if (!fits) return { ok: false, errcode: "M_INVALID_PARAM", error: `The event is not in thread ${threadId}` };
    }
    const thread = threadId ?? "";
    return this.sql.transaction(() => {
      const held = first<{ event_stream: number }>(
        this.sql,
        "SELECT event_stream FROM receipts WHERE user_id = ? AND receipt_type = ? AND thread_id = ?",
        userId,
        receiptType,
        thread,
      );
      // Receipts are "up to" markers: one for an event at or before the held one says nothing new.
      if (held && held.event_stream >= stored.stream) return { ok: true as const, changed: false };
      const stream = Number(this.store.getMeta("receipt_stream") ?? "0") + 1;
      this.store.setMeta("receipt_stream", String(stream));
      this.sql.run(
        `INSERT INTO receipts (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, receipt_type, thread_id) DO UPDATE SET
           event_id = excluded.event_id, event_stream = excluded.event_stream, ts = excluded.ts, stream = excluded.stream`,
        userId,
        receiptType,
        thread,
        eventId,
        stored.stream,
        ts,
        stream,
      );
      return { ok: true as const, changed: true };
    });
  }

  private isLocal(userId: string): boolean {
    return userId.endsWith(`:${this.serverName}`);
  }

  private localJoined(): string[] {
    return this.store.membersWith("join").filter((u) => this.isLocal(u));
  }

  cursor(): number {
    return Number(this.store.getMeta("receipts_delivered") ?? "0");
  }

  advance(upTo: number): void {
    this.store.setMeta("receipts_delivered", String(upTo));
  }

  /**
   * The receipts stored after the cursor and who gets each: `m.read` every local user joined now,
   * `m.read.private` its owner alone ("Servers MUST NOT send the m.read.private receipt to any
   * other user than the one which originally sent it").
   */
  plan(limit = 200): ReceiptPlan | undefined {
    const rows = this.sql.all<ReceiptRow>(`SELECT ${COLUMNS} FROM receipts WHERE stream > ? ORDER BY stream LIMIT ?`, this.cursor(), limit);
    if (rows.length === 0) return undefined;
    const deliveries = new Map<string, DeliveredReceipt[]>();
    const add = (userId: string, r: DeliveredReceipt) => {
      const list = deliveries.get(userId);
      if (list) list.push(r);
      else deliveries.set(userId, [r]);
    };
    let joined: string[] | undefined;
    for (const row of rows) {
      const r = toDelivered(row);
      if (row.receipt_type === "m.read.private") {
        if (this.isLocal(row.user_id)) add(row.user_id, r);
      } else {
        for (const userId of (joined ??= this.localJoined())) add(userId, r);
      }
    }
    return { upTo: rows[rows.length - 1]!.stream, deliveries };
  }

  /**
   * What a user who has just joined gets with the room: the public receipts on the newest events
   * (bounded), and their own receipts of every type from an earlier membership.
   */
  forNewMember(userId: string): DeliveredReceipt[] {
    const recent = this.sql.all<ReceiptRow>(
      `SELECT ${COLUMNS} FROM receipts WHERE receipt_type = 'm.read' ORDER BY event_stream DESC LIMIT ?`,
      JOIN_RECEIPTS,
    );
    const own = this.sql.all<ReceiptRow>(`SELECT ${COLUMNS} FROM receipts WHERE user_id = ?`, userId);
    const seen = new Set<string>();
    const out: DeliveredReceipt[] = [];
    for (const row of [...recent, ...own]) {
      const key = `${row.user_id}\u0000${row.receipt_type}\u0000${row.thread_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(toDelivered(row));
    }
    return out;
  }
}
