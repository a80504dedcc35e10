/**
 * The queue of notifications owed to push gateways, in the user's object (docs/design/push-notifications.md).
 * A row is written in the same transaction as the notification it announces, so a crash can't
 * lose it; it is deleted once the gateway answered 2xx, and otherwise retried with exponential
 * backoff on the object's alarm, a bounded number of times (Synapse backs off from 1 s to an
 * hour and gives up on a notification after a day).
 */
import { first, type Sql } from "../sql";

/** First retry delay; each failure doubles it. */
export const PUSH_RETRY_INITIAL_MS = 2_000;
export const PUSH_RETRY_MAX_MS = 60 * 60 * 1000;
/** Attempts before a notification is dropped. */
export const PUSH_MAX_ATTEMPTS = 12;
/** A notification this old is not worth delivering any more. */
export const PUSH_GIVE_UP_MS = 24 * 60 * 60 * 1000;

export interface OutboxRow {
  id: number;
  user_id: string;
  app_id: string;
  pushkey: string;
  url: string;
  body: string;
  attempts: number;
  next_at: number;
  created_ts: number;
}

export interface OutboxItem {
  appId: string;
  pushkey: string;
  url: string;
  /** The JSON request body, `{notification: …}`. */
  body: string;
}

export class PushOutbox {
  constructor(
    private readonly sql: Sql,
    private readonly userId: string,
    private readonly now: () => number,
  ) {}

  enqueue(items: readonly OutboxItem[]): void {
    const now = this.now();
    for (const item of items) {
      this.sql.run(
        "INSERT INTO push_outbox (user_id, app_id, pushkey, url, body, attempts, next_at, created_ts) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
        this.userId,
        item.appId,
        item.pushkey,
        item.url,
        item.body,
        now,
        now,
      );
    }
  }

  /**
   * Rows whose time has come, oldest first. A pusher's notifications go out in order: a row
   * waiting for its retry holds back the later rows of its pusher.
   */
  due(limit: number): OutboxRow[] {
    const now = this.now();
    return this.sql.all<OutboxRow>(
      `SELECT * FROM push_outbox o WHERE o.next_at <= ? AND NOT EXISTS (
         SELECT 1 FROM push_outbox p WHERE p.app_id = o.app_id AND p.pushkey = o.pushkey AND p.id < o.id AND p.next_at > ?)
       ORDER BY o.id LIMIT ?`,
      now,
      now,
      limit,
    );
  }

  done(id: number): void {
    this.sql.run("DELETE FROM push_outbox WHERE id = ?", id);
  }

  /** Records a failed attempt: the row waits twice as long as last time, or is dropped when out of attempts or too old. */
  failed(row: OutboxRow): "retry" | "dropped" {
    const attempts = row.attempts + 1;
    const now = this.now();
    if (attempts >= PUSH_MAX_ATTEMPTS || now - row.created_ts >= PUSH_GIVE_UP_MS) {
      this.done(row.id);
      return "dropped";
    }
    const delay = Math.min(PUSH_RETRY_INITIAL_MS * 2 ** (attempts - 1), PUSH_RETRY_MAX_MS);
    this.sql.run("UPDATE push_outbox SET attempts = ?, next_at = ? WHERE id = ?", attempts, now + delay, row.id);
    return "retry";
  }

  /** Forgets everything queued for a pusher (deleted, or its pushkey rejected). */
  dropPusher(appId: string, pushkey: string): void {
    this.sql.run("DELETE FROM push_outbox WHERE app_id = ? AND pushkey = ?", appId, pushkey);
  }

  /**
   * When the next row can go, for the alarm; undefined when the queue is empty. That is the earliest
   * time of each pusher's oldest row: the rows behind it wait for it.
   */
  nextAt(): number | undefined {
    return (
      first<{ t: number | null }>(
        this.sql,
        `SELECT MIN(o.next_at) AS t FROM push_outbox o
         WHERE o.id = (SELECT MIN(p.id) FROM push_outbox p WHERE p.app_id = o.app_id AND p.pushkey = o.pushkey)`,
      )?.t ?? undefined
    );
  }

  /** The user these rows belong to (an alarm doesn't know the object's name). */
  owner(): string | undefined {
    return first<{ user_id: string }>(this.sql, "SELECT user_id FROM push_outbox LIMIT 1")?.user_id;
  }
}
