/**
 * The user object's side of push (docs/design/push-notifications.md): it keeps the user's push
 * rules and pushers cached (both live in D1 and are re-read after the services that change them
 * say so), queues a gateway request per HTTP pusher for each notifying event and for each drop of
 * the badge after the user reads, and sends the queue, retrying on the object's alarm.
 */
import { getConfig } from "../../config";
import type { Env } from "../../env";
import type { PushRuleset } from "../../matrix/push";
import { makeDeps } from "../../services/deps";
import { badgeNotificationBody, eventNotificationBody, postToGateway } from "../../services/push-gateway";
import { getPushRuleset } from "../../services/push-rules";
import { getPushers, removeRejectedPushkeys, type Pusher } from "../../services/pushers";
import { checkOutboundUrl } from "../../matrix/media/url-policy";
import type { Sql } from "../sql";
import { Cached } from "./d1-cache";
import type { Notified, NotificationBook } from "./notifications";
import { PUSH_RETRY_INITIAL_MS, PushOutbox, type OutboxItem, type OutboxRow } from "./notifications-outbox";

/** Queue rows sent per pass. */
const SEND_BATCH = 100;

const pusherKey = (appId: string, pushkey: string) => `${appId}\n${pushkey}`;

export class PushDispatcher {
  private userId: string | undefined;
  private rules: Cached<PushRuleset> | undefined;
  private pusherList: Cached<Pusher[]> | undefined;
  private outbox: PushOutbox | undefined;
  /** The badge last queued for the user's gateways, so reading sends an update only when it changed. */
  private lastBadge: number | undefined;
  private sending = false;
  private sendAgain = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly sql: Sql,
  ) {}

  private deps() {
    return makeDeps(this.env, getConfig(this.env));
  }

  /** Binds the dispatcher to its user (objects don't know their own name until called). */
  private forUser(userId: string): void {
    if (this.userId === userId) return;
    this.userId = userId;
    this.rules = new Cached(() => getPushRuleset(this.deps(), userId));
    this.pusherList = new Cached(() => getPushers(this.deps(), userId));
    this.outbox = new PushOutbox(this.sql, userId, () => Date.now());
  }

  private queue(): PushOutbox {
    return this.outbox!;
  }

  /** What evaluating a delivery needs: the user's ruleset (and pushers, so queuing needs no wait). */
  async prepare(userId: string): Promise<{ ruleset: PushRuleset; pushers: Pusher[] }> {
    this.forUser(userId);
    const [ruleset, pushers] = await Promise.all([this.rules!.get(), this.pusherList!.get()]);
    return { ruleset, pushers };
  }

  rulesChanged(): void {
    this.rules?.invalidate();
  }

  pushersChanged(): void {
    this.pusherList?.invalidate();
  }

  /**
   * Queues a request per HTTP pusher for each notification with the `notify` action. Synchronous,
   * so the rows are written with the delivery that made the notifications.
   */
  queueNotifications(userId: string, book: NotificationBook, notified: readonly Notified[], pushers: readonly Pusher[]): boolean {
    const http = pushers.filter((p) => p.kind === "http" && typeof p.data.url === "string");
    if (notified.length === 0 || http.length === 0) return false;
    this.forUser(userId);
    const badge = book.badge();
    const items: OutboxItem[] = [];
    for (const n of notified) {
      const facts = book.pushFacts(n.roomId, n.event.sender);
      for (const p of http) items.push({ appId: p.app_id, pushkey: p.pushkey, url: p.data.url as string, body: eventNotificationBody(p, userId, n, badge, facts) });
    }
    this.queue().enqueue(items);
    this.lastBadge = badge;
    return true;
  }

  /** After the user read something: a badge update to each HTTP pusher when the badge changed (as Synapse does). */
  async queueBadge(userId: string, book: NotificationBook): Promise<boolean> {
    const { pushers } = await this.prepare(userId);
    const http = pushers.filter((p) => p.kind === "http" && typeof p.data.url === "string");
    if (http.length === 0) return false;
    const badge = book.badge();
    if (badge === this.lastBadge) return false;
    this.lastBadge = badge;
    this.queue().enqueue(http.map((p) => ({ appId: p.app_id, pushkey: p.pushkey, url: p.data.url as string, body: badgeNotificationBody(p, badge) })));
    return true;
  }

  /**
   * Sends what is due, each pusher's requests in order (a failure holds back that pusher's later
   * ones until the retry), then sets the alarm for the next retry. One pass runs at a time.
   */
  async send(userId?: string): Promise<void> {
    const owner = userId ?? this.userId ?? new PushOutbox(this.sql, "", () => Date.now()).owner();
    if (!owner) return;
    if (this.sending) {
      this.sendAgain = true;
      return;
    }
    this.sending = true;
    let completed = false;
    try {
      this.forUser(owner);
      do {
        this.sendAgain = false;
        const rows = this.queue().due(SEND_BATCH);
        if (rows.length === 0) break;
        const current = new Set((await this.pusherList!.get()).map((p) => pusherKey(p.app_id, p.pushkey)));
        const byPusher = new Map<string, OutboxRow[]>();
        for (const row of rows) {
          const key = pusherKey(row.app_id, row.pushkey);
          // The pusher was deleted since: nothing goes to it any more.
          if (!current.has(key)) this.queue().done(row.id);
          else byPusher.set(key, [...(byPusher.get(key) ?? []), row]);
        }
        await Promise.all([...byPusher.values()].map((list) => this.sendInOrder(owner, list)));
        if (rows.length === SEND_BATCH) this.sendAgain = true;
      } while (this.sendAgain);
      completed = true;
    } finally {
      this.sending = false;
      // Also after a failure (D1 unreachable, say): what is still queued is tried again, not at once.
      const next = this.queue().nextAt();
      const earliest = Date.now() + (completed ? 1 : PUSH_RETRY_INITIAL_MS);
      if (next !== undefined) await this.ctx.storage.setAlarm(Math.max(next, earliest));
    }
  }

  private async sendInOrder(userId: string, rows: OutboxRow[]): Promise<void> {
    for (const row of rows) {
      // The address policy of POST /pushers/set, again: it may have been narrowed since (config.ts).
      const allowed = checkOutboundUrl(row.url, this.deps().config.pushGatewayPolicy);
      if (!allowed.ok) {
        // Not retried: the configuration, not the gateway, refuses it.
        this.queue().done(row.id);
        console.warn(JSON.stringify({ user_id: userId, app_id: row.app_id, error: `push gateway not contacted: ${allowed.reason}` }));
        continue;
      }
      const result = await postToGateway(row.url, row.body);
      if (!result.ok) {
        const outcome = this.queue().failed(row);
        console.warn(JSON.stringify({ user_id: userId, app_id: row.app_id, error: `push gateway failed (${result.error}), ${outcome}` }));
        if (outcome === "retry") return;
        continue;
      }
      this.queue().done(row.id);
      if (result.rejected.includes(row.pushkey)) {
        // "Homeservers MUST remove these pushkeys" (Push Gateway API, `rejected`).
        await removeRejectedPushkeys(this.deps(), userId, row.app_id, [row.pushkey]);
        this.queue().dropPusher(row.app_id, row.pushkey);
        this.pushersChanged();
        return;
      }
    }
  }
}
