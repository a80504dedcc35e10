/**
 * A user's notifications, in their own object (DESIGN §1, docs/design/push-notifications.md):
 * each event a room delivers is evaluated against the user's push rules as it arrives, the ones
 * that notify are recorded, and the user's own read receipts decide which are still unread.
 *
 * Counting follows Synapse: a room's (or thread's) count is the number of notifying events after
 * the user's read receipt, `m.read` or `m.read.private`, whichever is later; an unthreaded receipt
 * covers every thread, a threaded one (`main` or a thread root) only its thread (spec: § Receipts,
 * Threaded read receipts).
 */
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import type { RoomEvent } from "../../matrix/events";
import { evaluatePushRules, notificationPowerFromState, type PushAction, type PushOutcome, type PushRuleset } from "../../matrix/push";
import { getRoomVersion } from "../../matrix/room-versions";
import { first, type Sql } from "../sql";
import type { DeliveredReceipt } from "./stream-types";
import type { UserStore } from "./user-store";

/** The thread id of the main timeline (spec: § Threaded read receipts). */
export const MAIN_THREAD = "main";
/** Notifications kept for GET /notifications once read (Synapse keeps a day of them, highlights a month). */
export const NOTIFICATIONS_KEEP = 500;
/** Notifications kept at most, read or not: past this the oldest go and counts stop growing. */
export const NOTIFICATIONS_MAX = 10_000;
/** Trimming runs every this many new notifications. */
const TRIM_EVERY = 50;

export interface NotificationCounts {
  notification_count: number;
  highlight_count: number;
}

export interface RoomNotificationCounts {
  /** The main timeline's counts; every thread's too when `threads` is not asked for. */
  room: NotificationCounts;
  /** Per thread root, threads with unread notifications only (set when asked for). */
  threads?: Record<string, NotificationCounts>;
}

/** A notification just recorded: what a push gateway is told about. */
export interface Notified {
  roomId: string;
  event: ClientEvent;
  outcome: PushOutcome;
  threadId: string;
}

export interface NotificationEntry {
  room_id: string;
  event: ClientEvent;
  actions: PushAction[];
  ts: number;
  read: boolean;
}

interface NotificationRow {
  seq: number;
  room_id: string;
  event: string;
  actions: string;
  ts: number;
  read: number;
}

/**
 * The receipt that covers a notification row `n`: the later of its thread's receipt (`t`) and the
 * room's unthreaded one (`u`). Used by every query here so counts, badge and `read` agree.
 */
const RECEIPT_JOINS = `
  LEFT JOIN notification_receipts t ON t.room_id = n.room_id AND t.thread_id = n.thread_id
  LEFT JOIN notification_receipts u ON u.room_id = n.room_id AND u.thread_id = ''`;
const UNREAD = "n.room_stream > MAX(COALESCE(t.stream, 0), COALESCE(u.stream, 0))";

const zero = (): NotificationCounts => ({ notification_count: 0, highlight_count: 0 });

/** A room's unread counts per thread and the user's receipts in it (NotificationBook `unreadOf`). */
interface RoomUnread {
  byThread: Map<string, NotificationCounts>;
  receipts: Map<string, number>;
}

export class NotificationBook {
  private readonly sql: Sql;
  private readonly unread = new Map<string, RoomUnread>();

  constructor(
    private readonly store: UserStore,
    private readonly userId: string,
    private readonly now: () => number,
  ) {
    this.sql = store.sql;
  }

  private stateContent(roomId: string, type: string, stateKey: string): JsonObject | undefined {
    const row = this.store.getState(roomId, type, stateKey);
    return row ? (JSON.parse(row.event) as ClientEvent).content : undefined;
  }

  /**
   * The thread an event belongs to: the root named by an `m.thread` relation; for another relation
   * (a reaction or edit of a thread event) the thread of the event it relates to, when this object
   * knows it; else the main timeline.
   */
  private threadOf(roomId: string, event: ClientEvent): string {
    const rel = event.content["m.relates_to"];
    if (typeof rel !== "object" || rel === null || Array.isArray(rel)) return MAIN_THREAD;
    const parent = (rel as JsonObject).event_id;
    if (typeof parent !== "string") return MAIN_THREAD;
    if ((rel as JsonObject).rel_type === "m.thread") return parent;
    const known = first<{ thread_id: string }>(this.sql, "SELECT thread_id FROM notifications WHERE room_id = ? AND event_id = ?", roomId, parent);
    if (known) return known.thread_id;
    const cached = first<{ event: string }>(this.sql, "SELECT event FROM room_events WHERE room_id = ? AND json_extract(event, '$.event_id') = ?", roomId, parent);
    const parentRel = cached ? (JSON.parse(cached.event) as ClientEvent).content["m.relates_to"] : undefined;
    if (typeof parentRel === "object" && parentRel !== null && !Array.isArray(parentRel)) {
      const p = parentRel as JsonObject;
      if (p.rel_type === "m.thread" && typeof p.event_id === "string") return p.event_id;
    }
    return MAIN_THREAD;
  }

  /**
   * Evaluates a delivered event with the user's rules, against the room as this object holds it
   * before the event is applied (the user's display name, power levels, create event), and records
   * it when its actions notify. The user's own events never notify (spec: § Push Rules, "Users
   * should not be notified of their own events"). Delivery is at least once: a repeat is ignored.
   */
  evaluate(roomId: string, roomStream: number, event: ClientEvent, ruleset: PushRuleset, memberCount: number): Notified | undefined {
    if (event.sender === this.userId) return undefined;
    const create = this.store.getState(roomId, "m.room.create", "");
    const createEvent = create ? (JSON.parse(create.event) as ClientEvent) : undefined;
    const versionId = createEvent?.content.room_version;
    const version = getRoomVersion(typeof versionId === "string" ? versionId : "1") ?? getRoomVersion("1")!;
    const displayName = this.stateContent(roomId, "m.room.member", this.userId)?.displayname;
    const outcome = evaluatePushRules(ruleset, event, {
      userId: this.userId,
      displayName: typeof displayName === "string" ? displayName : null,
      memberCount,
      powerLevels: notificationPowerFromState(
        this.stateContent(roomId, "m.room.power_levels", ""),
        createEvent as unknown as RoomEvent | undefined,
        version,
        event.sender,
      ),
    });
    // Only `notify` makes a notification (spec: § Actions); a tweak alone does nothing.
    if (!outcome?.notify) return undefined;
    const threadId = this.threadOf(roomId, event);
    // A repeated delivery finds its row already there (one per room stream position).
    const inserted = first<{ seq: number }>(
      this.sql,
      `INSERT INTO notifications (room_id, room_stream, event_id, thread_id, highlight, actions, event, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (room_id, room_stream) DO NOTHING RETURNING seq`,
      roomId,
      roomStream,
      event.event_id,
      threadId,
      outcome.highlight ? 1 : 0,
      JSON.stringify(outcome.actions),
      JSON.stringify(event),
      this.now(),
    );
    if (!inserted) return undefined;
    this.countNew(roomId, threadId, roomStream, outcome.highlight);
    if (inserted.seq % TRIM_EVERY === 0) this.trim(inserted.seq);
    return { roomId, event, outcome, threadId };
  }

  /**
   * Bounds the table: read notifications (or those of rooms the user is no longer in) older than
   * the newest NOTIFICATIONS_KEEP go, and anything older than the newest NOTIFICATIONS_MAX.
   */
  private trim(newest: number): void {
    this.unread.clear();
    this.sql.run(
      `DELETE FROM notifications WHERE seq IN (
         SELECT n.seq FROM notifications n ${RECEIPT_JOINS}
         LEFT JOIN rooms r ON r.room_id = n.room_id
         WHERE n.seq <= ? AND (NOT (${UNREAD}) OR r.membership IS NULL OR r.membership != 'join'))`,
      newest - NOTIFICATIONS_KEEP,
    );
    this.sql.run("DELETE FROM notifications WHERE seq <= ?", newest - NOTIFICATIONS_MAX);
  }

  /** The room stream position of an event this object knows, for a receipt delivered without one. */
  private streamOf(roomId: string, eventId: string): number | undefined {
    return (
      first<{ s: number }>(this.sql, "SELECT room_stream AS s FROM notifications WHERE room_id = ? AND event_id = ?", roomId, eventId)?.s ??
      first<{ s: number }>(this.sql, "SELECT room_stream AS s FROM room_events WHERE room_id = ? AND json_extract(event, '$.event_id') = ?", roomId, eventId)?.s
    );
  }

  /** Takes the user's own receipts among a room's delivery; true when one moved (counts may have dropped). */
  takeReceipts(roomId: string, receipts: readonly DeliveredReceipt[]): boolean {
    let moved = false;
    for (const r of receipts) {
      if (r.userId !== this.userId) continue;
      const stream = r.eventStream ?? this.streamOf(roomId, r.eventId);
      if (stream === undefined) continue;
      const thread = r.threadId ?? "";
      const held = first<{ stream: number }>(this.sql, "SELECT stream FROM notification_receipts WHERE room_id = ? AND thread_id = ?", roomId, thread);
      if (held && held.stream >= stream) continue;
      this.sql.run(
        `INSERT INTO notification_receipts (room_id, thread_id, stream) VALUES (?, ?, ?)
         ON CONFLICT (room_id, thread_id) DO UPDATE SET stream = excluded.stream`,
        roomId,
        thread,
        stream,
      );
      moved = true;
    }
    if (moved) this.unread.delete(roomId);
    return moved;
  }

  /**
   * A room's unread counts for /sync. With `threaded` (the filter's `unread_thread_notifications`),
   * `room` is the main timeline's and `threads` each thread's; without, `room` covers them all.
   */
  counts(roomId: string, threaded: boolean): RoomNotificationCounts {
    const held = this.unreadOf(roomId);
    const out: RoomNotificationCounts = { room: zero() };
    if (threaded) out.threads = {};
    for (const [threadId, counts] of held.byThread) {
      const into = !threaded || threadId === MAIN_THREAD ? out.room : (out.threads![threadId] = zero());
      into.notification_count += counts.notification_count;
      into.highlight_count += counts.highlight_count;
    }
    return out;
  }

  /**
   * A room's unread counts per thread, with the receipts they were counted against. Every sync
   * of the room reads them, so they are kept: counted by SQL once, then moved by each new
   * notification (`countNew`), and counted again after the user's receipt moves (`takeReceipts`),
   * a trim, or a delivery that rolled back (`forgetCounts`).
   */
  private unreadOf(roomId: string): RoomUnread {
    let held = this.unread.get(roomId);
    if (held) return held;
    const rows = this.sql.all<{ thread_id: string; notify: number; highlight: number }>(
      `SELECT n.thread_id, COUNT(*) AS notify, SUM(n.highlight) AS highlight FROM notifications n ${RECEIPT_JOINS}
       WHERE n.room_id = ? AND ${UNREAD} GROUP BY n.thread_id`,
      roomId,
    );
    const receipts = this.sql.all<{ thread_id: string; stream: number }>("SELECT thread_id, stream FROM notification_receipts WHERE room_id = ?", roomId);
    held = {
      byThread: new Map(rows.map((r) => [r.thread_id, { notification_count: r.notify, highlight_count: r.highlight }])),
      receipts: new Map(receipts.map((r) => [r.thread_id, r.stream])),
    };
    this.unread.set(roomId, held);
    return held;
  }

  /** A notification was recorded: the kept counts move if the user's receipts don't cover it (UNREAD). */
  private countNew(roomId: string, threadId: string, roomStream: number, highlight: boolean): void {
    const held = this.unread.get(roomId);
    if (!held) return;
    if (roomStream <= Math.max(held.receipts.get(threadId) ?? 0, held.receipts.get("") ?? 0)) return;
    const counts = held.byThread.get(threadId) ?? zero();
    counts.notification_count += 1;
    if (highlight) counts.highlight_count += 1;
    held.byThread.set(threadId, counts);
  }

  /** The transaction that recorded notifications rolled back: the kept counts may include them. */
  forgetCounts(): void {
    this.unread.clear();
  }

  /**
   * The badge a push gateway shows (Push Gateway API, `counts.unread`): unread notifications in
   * joined rooms plus pending invites, as Synapse counts it (though not grouped by room).
   */
  badge(): number {
    const unread = first<{ n: number }>(
      this.sql,
      `SELECT COUNT(*) AS n FROM notifications n JOIN rooms r ON r.room_id = n.room_id AND r.membership = 'join' ${RECEIPT_JOINS} WHERE ${UNREAD}`,
    )!.n;
    const invites = first<{ n: number }>(this.sql, "SELECT COUNT(*) AS n FROM rooms WHERE membership = 'invite'")!.n;
    return unread + invites;
  }

  /** GET /notifications: newest first, before the `from` position; `nextToken` when more remain. */
  list(from: number | undefined, limit: number, onlyHighlight: boolean): { notifications: NotificationEntry[]; nextToken?: number } {
    const rows = this.sql.all<NotificationRow>(
      `SELECT n.seq, n.room_id, n.event, n.actions, n.ts, NOT (${UNREAD}) AS read FROM notifications n ${RECEIPT_JOINS}
       WHERE n.seq < ? ${onlyHighlight ? "AND n.highlight = 1" : ""} ORDER BY n.seq DESC LIMIT ?`,
      from ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const out: { notifications: NotificationEntry[]; nextToken?: number } = {
      notifications: page.map((r) => ({
        room_id: r.room_id,
        event: JSON.parse(r.event) as ClientEvent,
        actions: JSON.parse(r.actions) as PushAction[],
        ts: r.ts,
        read: r.read === 1,
      })),
    };
    if (rows.length > limit && page.length > 0) out.nextToken = page[page.length - 1]!.seq;
    return out;
  }

  /** What a push gateway shows besides the event: the room's name and the sender's display name. */
  pushFacts(roomId: string, sender: string): { roomName?: string; roomAlias?: string; senderDisplayName?: string } {
    const out: { roomName?: string; roomAlias?: string; senderDisplayName?: string } = {};
    const name = this.stateContent(roomId, "m.room.name", "")?.name;
    if (typeof name === "string" && name !== "") out.roomName = name;
    const alias = this.stateContent(roomId, "m.room.canonical_alias", "")?.alias;
    if (typeof alias === "string" && alias !== "") out.roomAlias = alias;
    const displayName = this.stateContent(roomId, "m.room.member", sender)?.displayname;
    if (typeof displayName === "string" && displayName !== "") out.senderDisplayName = displayName;
    return out;
  }
}
