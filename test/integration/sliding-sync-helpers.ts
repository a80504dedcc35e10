/** Helpers for the sliding sync tests (MSC4186): a connection that keeps its `pos`. */
import { call } from "./helpers";

export const SLIDING_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

/** The required_state Element X's room list asks for (shared/CLIENTS.md). */
export const ELEMENT_X_REQUIRED_STATE: [string, string][] = [
  ["m.room.name", ""],
  ["m.room.encryption", ""],
  ["m.room.member", "$LAZY"],
  ["m.room.member", "$ME"],
  ["m.room.topic", ""],
  ["m.room.avatar", ""],
  ["m.room.canonical_alias", ""],
  ["m.room.power_levels", ""],
  ["m.room.join_rules", ""],
  ["m.room.tombstone", ""],
  ["m.room.create", ""],
  ["m.room.history_visibility", ""],
  ["m.space.parent", "*"],
  ["m.space.child", "*"],
  ["m.call.member", "*"],
];

export async function slidingRaw(token: string, body: unknown, query: { pos?: string; timeout?: number } = {}) {
  const qs = new URLSearchParams();
  if (query.pos !== undefined) qs.set("pos", query.pos);
  if (query.timeout !== undefined) qs.set("timeout", String(query.timeout));
  const q = qs.toString();
  return call("POST", `${SLIDING_PATH}${q ? `?${q}` : ""}`, { token, body });
}

/** One sliding sync connection: each request continues from the last response's `pos`. */
export class SlidingConnection {
  pos: string | undefined;
  readonly seen: any[] = [];

  constructor(
    private readonly token: string,
    public body: Record<string, unknown>,
  ) {}

  async next(timeout = 0, body: Record<string, unknown> = this.body): Promise<any> {
    const res = await slidingRaw(this.token, body, { pos: this.pos, timeout });
    if (res.status !== 200) throw new Error(`sliding sync: ${res.status} ${JSON.stringify(res.body)}`);
    this.pos = res.body.pos;
    this.seen.push(res.body);
    return res.body;
  }

  /** Requests until `pred` holds for a response; fails after `ms`. */
  async until(pred: (body: any) => boolean, ms = 8000): Promise<any> {
    const deadline = Date.now() + ms;
    let body: any;
    do {
      body = await this.next(this.pos ? 500 : 0);
      if (pred(body)) return body;
    } while (Date.now() < deadline);
    throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
  }
}

export const listBody = (ranges: [number, number][], extra: Record<string, unknown> = {}, timelineLimit = 5) => ({
  lists: { all_rooms: { ranges, required_state: ELEMENT_X_REQUIRED_STATE, timeline_limit: timelineLimit, ...extra } },
});

export const texts = (room: any): string[] => (room?.timeline ?? []).filter((e: any) => e.type === "m.room.message").map((e: any) => e.content.body);
