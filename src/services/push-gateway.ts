/**
 * Talking to push gateways (spec: Push Gateway API, POST /_matrix/push/v1/notify): the request
 * bodies for an event notification and for a badge update, and the POST itself. The user's object
 * decides what to send and retries (objects/user/notifications-outbox.ts).
 */
import type { JsonObject, JsonValue } from "../matrix/canonical-json";
import type { Notified } from "../objects/user/notifications";
import type { Pusher } from "./pushers";

/** How long a gateway may take to answer before the attempt counts as failed. */
const GATEWAY_TIMEOUT_MS = 15_000;

export interface PushFacts {
  roomName?: string;
  roomAlias?: string;
  senderDisplayName?: string;
}

/**
 * `prio` (Push Gateway API: "high" unless the notification is less time-sensitive): high when the
 * notification makes a sound or is a highlight, or when the event is encrypted and so may be
 * either once the device decrypts it — Synapse's rule. A plain group message (notify only) is low.
 */
export function pushPriority(notified: Notified): "high" | "low" {
  const t = notified.outcome.tweaks;
  if (notified.event.type === "m.room.encrypted" || t.highlight === true || (t.sound !== undefined && t.sound !== null && t.sound !== false)) return "high";
  return "low";
}

function device(pusher: Pusher, tweaks: Record<string, JsonValue> | undefined): JsonObject {
  // "Servers MUST forward the entire content including format and any custom keys but excluding
  // url" (POST /pushers/set, `data`).
  const { url: _, ...data } = pusher.data;
  const out: JsonObject = { app_id: pusher.app_id, pushkey: pusher.pushkey, pushkey_ts: Math.floor(pusher.pushkeyTs / 1000), data };
  if (tweaks && Object.keys(tweaks).length > 0) out.tweaks = tweaks;
  return out;
}

/**
 * `counts.unread` is always sent, zero included: the spec says zero counts "should be omitted",
 * but a gateway that gets no count leaves the app's badge as it was, so the badge could never
 * drop to zero (Synapse sends 0 too).
 */
function counts(badge: number): JsonObject {
  return { unread: badge };
}

/** The request body announcing an event to one pusher; `event_id_only` pushers get only ids, counts and prio. */
export function eventNotificationBody(pusher: Pusher, userId: string, notified: Notified, badge: number, facts: PushFacts): string {
  const ev = notified.event;
  const prio = pushPriority(notified);
  if (pusher.data.format === "event_id_only") {
    return JSON.stringify({ notification: { event_id: ev.event_id, room_id: ev.room_id, counts: counts(badge), prio, devices: [device(pusher, undefined)] } });
  }
  const n: JsonObject = { event_id: ev.event_id, room_id: ev.room_id, type: ev.type, sender: ev.sender, prio, content: ev.content, counts: counts(badge) };
  if (facts.senderDisplayName) n.sender_display_name = facts.senderDisplayName;
  if (facts.roomName) n.room_name = facts.roomName;
  if (facts.roomAlias) n.room_alias = facts.roomAlias;
  if (ev.type === "m.room.member" && typeof ev.state_key === "string") n.user_is_target = ev.state_key === userId;
  n.devices = [device(pusher, notified.outcome.tweaks)];
  return JSON.stringify({ notification: n });
}

/** A badge-only update ("update the number of unread notifications", Push Gateway API): no event. */
export function badgeNotificationBody(pusher: Pusher, badge: number): string {
  return JSON.stringify({ notification: { counts: counts(badge), devices: [device(pusher, undefined)] } });
}

export type GatewayResult = { ok: true; rejected: string[] } | { ok: false; error: string };

/** POSTs a body to a gateway. A 2xx is delivered (with the pushkeys it rejected); anything else is a failure to retry. */
export async function postToGateway(url: string, body: string): Promise<GatewayResult> {
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(GATEWAY_TIMEOUT_MS) });
  } catch (err) {
    return { ok: false, error: String(err) };
  }
  const text = await res.text().catch(() => "");
  if (res.status < 200 || res.status >= 300) return { ok: false, error: `HTTP ${res.status}` };
  let rejected: string[] = [];
  try {
    const parsed = JSON.parse(text) as { rejected?: unknown };
    if (Array.isArray(parsed.rejected)) rejected = parsed.rejected.filter((k): k is string => typeof k === "string");
  } catch {
    // A 2xx without a JSON body delivered the notification; there is just nothing rejected.
  }
  return { ok: true, rejected };
}
