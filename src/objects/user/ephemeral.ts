/**
 * Ephemeral room data in a user's object (docs/design/sync.md § Ephemeral events): typing sets
 * and receipts delivered by rooms, and the `m.typing` / `m.receipt` events /sync shows for them.
 *
 * Both live in the user's stream so a sync token covers them and their arrival wakes long-polls,
 * but neither makes it grow without bound: a room has at most one `typing` row and one `receipt`
 * row, replaced (deleted and appended again at a new position) on every change. Receipts keep
 * the position of their own change in the `receipts` table, so an incremental sync still gets
 * exactly the receipts that changed after its token.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { first } from "../sql";
import type { DeliveredReceipt, EphemeralDelivery } from "./stream-types";
import type { StreamRow, UserStore } from "./user-store";

/** Stream kinds written here; a row of either kind marks its room as changed. */
export const EPHEMERAL_KINDS: ReadonlySet<string> = new Set(["typing", "receipt"]);

/** Receipts an initial sync carries per room, newest first: those on cached events and the user's own. */
const INITIAL_RECEIPTS = 200;

interface TypingData {
  serial: number;
  user_ids: string[];
  expires_at: number;
}

interface ReceiptRow {
  user_id: string;
  receipt_type: string;
  thread_id: string;
  event_id: string;
  ts: number;
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export class EphemeralState {
  constructor(
    private readonly store: UserStore,
    private readonly userId: string,
    private readonly now: () => number,
  ) {}

  private row(kind: string, roomId: string): StreamRow | undefined {
    return first<StreamRow>(this.store.sql, "SELECT pos, kind, room_id, room_stream, data FROM stream WHERE room_id = ? AND kind = ?", roomId, kind);
  }

  /** Replaces the room's row of `kind` by a new one at the end of the stream; its position. */
  private bump(kind: string, roomId: string, data: JsonObject | null): number {
    this.store.sql.run("DELETE FROM stream WHERE room_id = ? AND kind = ?", roomId, kind);
    return this.store.appendStream(kind, roomId, null, data);
  }

  /** Takes a room's delivery; true when the stream moved (so waiting syncs should wake). */
  take(d: EphemeralDelivery): boolean {
    return this.store.sql.transaction(() => (d.kind === "typing" ? this.takeTyping(d) : this.takeReceipts(d.roomId, d.receipts)));
  }

  private takeTyping(d: Extract<EphemeralDelivery, { kind: "typing" }>): boolean {
    // Only members see typing; a set sent while our join is still on its way is not worth keeping.
    if (this.store.getRoom(d.roomId)?.membership !== "join") return false;
    const held = this.row("typing", d.roomId);
    const prev = held?.data ? (JSON.parse(held.data) as TypingData) : undefined;
    // Typing is sent without ordering: an older set than the one held is stale.
    if (prev && prev.serial >= d.serial) return false;
    const data: TypingData = { serial: d.serial, user_ids: [...d.userIds].sort(), expires_at: d.expiresAt };
    if (held && prev && sameSet(prev.user_ids, data.user_ids)) {
      // Same people (a re-announcement): keep the position, nobody needs to hear it again.
      this.store.sql.run("UPDATE stream SET data = ? WHERE pos = ?", JSON.stringify(data), held.pos);
      return false;
    }
    if (!held && data.user_ids.length === 0) return false;
    this.bump("typing", d.roomId, data as unknown as JsonObject);
    return true;
  }

  private takeReceipts(roomId: string, receipts: DeliveredReceipt[]): boolean {
    const sql = this.store.sql;
    const fresh = receipts.filter((r) => {
      // Defence in depth: another user's private receipt is never kept, whoever sent it.
      if (r.receiptType === "m.read.private" && r.userId !== this.userId) return false;
      const held = first<{ room_receipt_stream: number }>(
        sql,
        "SELECT room_receipt_stream FROM receipts WHERE room_id = ? AND user_id = ? AND receipt_type = ? AND thread_id = ?",
        roomId,
        r.userId,
        r.receiptType,
        r.threadId ?? "",
      );
      // Delivery is at least once: a receipt at or below the one held was seen already.
      return !held || held.room_receipt_stream < r.stream;
    });
    if (fresh.length === 0) return false;
    const pos = this.bump("receipt", roomId, null);
    for (const r of fresh) {
      sql.run(
        `INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, ts, room_receipt_stream, pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (room_id, user_id, receipt_type, thread_id) DO UPDATE SET
           event_id = excluded.event_id, ts = excluded.ts, room_receipt_stream = excluded.room_receipt_stream, pos = excluded.pos`,
        roomId,
        r.userId,
        r.receiptType,
        r.threadId ?? "",
        r.eventId,
        r.ts,
        r.stream,
        pos,
      );
    }
    return true;
  }

  /**
   * The ephemeral events of a joined room. `whole` (initial sync, or the room newly joined): the
   * current typing set if anyone is typing, and the current receipts on the events this object
   * holds plus the user's own (bounded). Otherwise what changed after `since`.
   */
  forRoom(roomId: string, since: number | undefined, whole: boolean): JsonObject[] {
    const out: JsonObject[] = [];
    const typing = this.row("typing", roomId);
    if (typing?.data) {
      const data = JSON.parse(typing.data) as TypingData;
      // A set past its expiry is over even if the room's "stopped" never arrived (typing is best-effort).
      const userIds = data.expires_at > this.now() ? data.user_ids : [];
      if (whole ? userIds.length > 0 : since !== undefined && typing.pos > since) out.push({ type: "m.typing", content: { user_ids: userIds } });
    }
    const sql = this.store.sql;
    const receipts =
      whole || since === undefined
        ? sql.all<ReceiptRow>(
            `SELECT user_id, receipt_type, thread_id, event_id, ts FROM receipts WHERE room_id = ? AND (user_id = ? OR event_id IN
               (SELECT json_extract(event, '$.event_id') FROM room_events WHERE room_id = ?)) ORDER BY pos DESC LIMIT ?`,
            roomId,
            this.userId,
            roomId,
            INITIAL_RECEIPTS,
          )
        : sql.all<ReceiptRow>("SELECT user_id, receipt_type, thread_id, event_id, ts FROM receipts WHERE room_id = ? AND pos > ? ORDER BY pos", roomId, since);
    out.push(...receiptEvents(receipts));
    return out;
  }
}

/**
 * Receipts as `m.receipt` events, one per thread category ("batched into one event per room and
 * thread", spec: § Receipts, Server behaviour): within one, a user has a single receipt of each
 * type, so the event id → type → user mapping never has to drop one.
 */
export function receiptEvents(rows: ReceiptRow[]): JsonObject[] {
  const byThread = new Map<string, Record<string, Record<string, Record<string, JsonObject>>>>();
  for (const r of rows) {
    let content = byThread.get(r.thread_id);
    if (!content) byThread.set(r.thread_id, (content = {}));
    const types = (content[r.event_id] ??= {});
    const users = (types[r.receipt_type] ??= {});
    users[r.user_id] = r.thread_id === "" ? { ts: r.ts } : { ts: r.ts, thread_id: r.thread_id };
  }
  return [...byThread.values()].map((content) => ({ type: "m.receipt", content: content as unknown as JsonObject }));
}
