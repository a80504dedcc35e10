/**
 * The user's to-device inbox (spec: Client-Server § Send-to-Device messaging, DESIGN §1): one
 * queue per device of this user, and the transaction ids of this user's own sends.
 *
 * Acknowledgement ("delete once the client syncs with the `next_batch` that carried it"): when a
 * sync first hands a batch of messages to a device, it appends a row of kind `to_device` to the
 * user's stream and stamps the batch with that row's position. The sync's `next_batch` covers
 * that position, and no token issued before can: so a later sync whose `since` is at or past the
 * stamp proves the client received a response carrying the batch, and only then is it deleted.
 * A client that syncs again from an older token gets the batch again. At most
 * TO_DEVICE_PER_SYNC messages go out per sync (the spec recommends 100); the rest stay unstamped,
 * and an unstamped message makes the next sync answer at once, so a long queue drains over a few
 * quick syncs without ever acknowledging a message that was not sent.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { first, type Sql } from "../sql";
import type { UserStore } from "./user-store";

export const TO_DEVICE_PER_SYNC = 100;

/** How long a completed send's transaction id is remembered for retries. */
export const TO_DEVICE_TXN_KEEP_MS = 7 * 24 * 3600_000;

/** Stream rows of this kind only stamp to-device batches: other devices have nothing new. */
export const TO_DEVICE_STREAM_KIND = "to_device";

/** One message for one device of this user. */
export interface ToDeviceMessage {
  deviceId: string;
  sender: string;
  senderDevice: string;
  txnId: string;
  type: string;
  content: JsonObject;
}

/** As /sync shows it (spec: § Extensions to /sync, `to_device.events`). */
export interface ToDeviceEvent {
  sender: string;
  type: string;
  content: JsonObject;
}

interface InboxRow {
  seq: number;
  sender: string;
  type: string;
  content: string;
  delivered_pos: number | null;
}

export class ToDeviceInbox {
  /**
   * Devices whose queue a `take` found empty and that nothing was queued for since: most syncs of
   * most devices, which then cost no SQL here. Only this object writes the queues.
   */
  private readonly empty = new Set<string>();

  constructor(
    private readonly sql: Sql,
    private readonly stream: UserStore,
  ) {}

  /**
   * Queues messages; a message already queued for the device from the same sender, device and
   * transaction is not queued twice. Returns how many were new.
   */
  receive(messages: ToDeviceMessage[]): number {
    let added = 0;
    this.sql.transaction(() => {
      for (const m of messages) {
        const inserted = this.sql.all(
          `INSERT INTO to_device (device_id, sender, sender_device, txn_id, type, content) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (device_id, sender, sender_device, txn_id) DO NOTHING RETURNING seq`,
          m.deviceId,
          m.sender,
          m.senderDevice,
          m.txnId,
          m.type,
          JSON.stringify(m.content),
        );
        added += inserted.length;
        this.empty.delete(m.deviceId);
      }
    });
    return added;
  }

  /** Whether a sync from `since` has something for the device: a message not yet sent, or sent in a response after `since`. */
  hasPending(deviceId: string, since: number): boolean {
    if (this.empty.has(deviceId)) return false;
    return (
      first<{ one: number }>(
        this.sql,
        "SELECT 1 AS one FROM to_device WHERE device_id = ? AND (delivered_pos IS NULL OR delivered_pos > ?) LIMIT 1",
        deviceId,
        since,
      ) !== undefined
    );
  }

  /**
   * The messages for one sync of the device: first deletes those acknowledged by `since`, then
   * returns the oldest `limit` (at most TO_DEVICE_PER_SYNC) left, stamping the ones sent for the first time (see
   * the file comment). Call it before the sync reads its `next_batch`, so that covers the stamp.
   */
  take(deviceId: string, since: number | undefined, limit = TO_DEVICE_PER_SYNC): ToDeviceEvent[] {
    if (this.empty.has(deviceId)) return [];
    let deleted = 0;
    const taken = this.sql.transaction(() => {
      if (since !== undefined) {
        deleted = this.sql.all(
          "DELETE FROM to_device WHERE device_id = ? AND delivered_pos IS NOT NULL AND delivered_pos <= ? RETURNING seq",
          deviceId,
          since,
        ).length;
      }
      const rows = this.sql.all<InboxRow>(
        "SELECT seq, sender, type, content, delivered_pos FROM to_device WHERE device_id = ? ORDER BY seq LIMIT ?",
        deviceId,
        Math.min(limit, TO_DEVICE_PER_SYNC),
      );
      const last = rows[rows.length - 1];
      if (last && rows.some((r) => r.delivered_pos === null)) {
        const pos = this.stream.appendStream(TO_DEVICE_STREAM_KIND, null, null, null);
        this.sql.run("UPDATE to_device SET delivered_pos = ? WHERE device_id = ? AND delivered_pos IS NULL AND seq <= ?", pos, deviceId, last.seq);
      }
      return rows.map((r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }));
    });
    // Known empty only when this call changed nothing: a take inside a caller's transaction that
    // later rolls back must not leave the deleted rows behind a stale "empty".
    if (taken.length === 0 && deleted === 0) this.empty.add(deviceId);
    return taken;
  }

  /**
   * Up to `limit` messages queued for a device after `afterSeq`, oldest first, neither taken nor
   * stamped: a dehydrated device's queue is read this way (MSC3814: a rehydration that stops
   * part-way can be started again), and stays until the device is deleted or replaced.
   * `lastSeq` is the position to continue after; `more` says whether anything is left after it.
   */
  peek(deviceId: string, afterSeq: number, limit: number): { events: ToDeviceEvent[]; lastSeq: number; more: boolean } {
    const rows = this.sql.all<InboxRow>(
      "SELECT seq, sender, type, content, delivered_pos FROM to_device WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      deviceId,
      afterSeq,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    return {
      events: page.map((r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject })),
      lastSeq: page[page.length - 1]?.seq ?? afterSeq,
      more: rows.length > limit,
    };
  }

  /** Forgets deleted devices: their queues and their own sends' transaction ids. */
  dropDevices(deviceIds: string[]): void {
    this.sql.transaction(() => {
      for (const d of deviceIds) {
        this.sql.run("DELETE FROM to_device WHERE device_id = ?", d);
        this.sql.run("DELETE FROM to_device_txns WHERE device_id = ?", d);
      }
    });
  }

  /** Whether this user's device already completed a send with this transaction id. */
  txnDone(deviceId: string, txnId: string): boolean {
    return first(this.sql, "SELECT 1 AS one FROM to_device_txns WHERE device_id = ? AND txn_id = ?", deviceId, txnId) !== undefined;
  }

  /** Records a completed send, and forgets those older than TO_DEVICE_TXN_KEEP_MS. */
  markTxnDone(deviceId: string, txnId: string, now: number): void {
    this.sql.run("INSERT INTO to_device_txns (device_id, txn_id, ts) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", deviceId, txnId, now);
    this.sql.run("DELETE FROM to_device_txns WHERE ts < ?", now - TO_DEVICE_TXN_KEEP_MS);
  }
}
