/** Helpers for the typing and receipt tests: syncing until ephemeral events arrive. */
import { call } from "./helpers";

export async function syncOnce(token: string, query = ""): Promise<any> {
  const res = await call("GET", `/_matrix/client/v3/sync${query}`, { token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A user's sync session: incremental syncs from where the last one ended, keeping every body seen
 * so a test can check that something never showed up.
 */
export class SyncSession {
  since: string | undefined;
  readonly seen: any[] = [];

  constructor(private readonly token: string) {}

  /** An initial sync that waits until `roomId` is joined (delivery to the user's object is asynchronous). */
  async start(roomId?: string): Promise<this> {
    if (roomId) await this.until((b) => Boolean(b.rooms?.join?.[roomId]), 5000, true);
    else this.since = (await syncOnce(this.token)).next_batch;
    return this;
  }

  async next(timeoutMs = 0): Promise<any> {
    const body = await syncOnce(this.token, `?timeout=${timeoutMs}${this.since ? `&since=${this.since}` : ""}`);
    this.seen.push(body);
    this.since = body.next_batch;
    return body;
  }

  /** Syncs until `pred` holds for one response; fails after `ms`. */
  async until(pred: (body: any) => boolean, ms = 8000, fromScratch = false): Promise<any> {
    if (fromScratch) this.since = undefined;
    const deadline = Date.now() + ms;
    let body: any;
    do {
      body = await this.next(this.since ? 500 : 0);
      if (pred(body)) return body;
    } while (Date.now() < deadline);
    throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
  }
}

export function ephemeral(body: any, roomId: string): any[] {
  return body.rooms?.join?.[roomId]?.ephemeral?.events ?? [];
}

/** The `user_ids` of the room's m.typing event in this response, if it has one. */
export function typingIn(body: any, roomId: string): string[] | undefined {
  return ephemeral(body, roomId).find((e) => e.type === "m.typing")?.content.user_ids;
}

/** Every receipt in the response's m.receipt events for the room, flattened. */
export function receiptsIn(body: any, roomId: string): { eventId: string; type: string; userId: string; ts: number; threadId?: string }[] {
  const out: { eventId: string; type: string; userId: string; ts: number; threadId?: string }[] = [];
  for (const ev of ephemeral(body, roomId)) {
    if (ev.type !== "m.receipt") continue;
    for (const [eventId, types] of Object.entries(ev.content as Record<string, Record<string, Record<string, { ts: number; thread_id?: string }>>>)) {
      for (const [type, users] of Object.entries(types)) {
        for (const [userId, r] of Object.entries(users)) out.push({ eventId, type, userId, ts: r.ts, ...(r.thread_id ? { threadId: r.thread_id } : {}) });
      }
    }
  }
  return out;
}
