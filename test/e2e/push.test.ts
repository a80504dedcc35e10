/**
 * Push notifications end to end (spec: Client-Server § Push Notifications; Push Gateway API): a
 * tiny push gateway on 127.0.0.1 receives what the homeserver sends for alice's HTTP pushers, set
 * with matrix-js-sdk. A plain message in a one-to-one room and a mention in a group room reach it
 * with the right counts and priority, a message in a room alice muted does not, reading lowers the
 * badge, and a pushkey the gateway rejects is removed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type * as sdk from "matrix-js-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";

const { baseUrl } = sharedServer();

interface Received {
  notification: Record<string, any> & { devices: { app_id: string; pushkey: string; pushkey_ts: number; data: Record<string, unknown>; tweaks?: Record<string, unknown> }[] };
}

/** A push gateway: records every notification and rejects the pushkeys in `reject`. */
class Gateway {
  readonly received: Received[] = [];
  readonly reject = new Set<string>();
  /** Requests to answer with a 503 before answering normally again. */
  failNext = 0;
  failures = 0;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/_matrix/push/v1/notify") {
          res.writeHead(404).end();
          return;
        }
        if (this.failNext > 0) {
          this.failNext -= 1;
          this.failures += 1;
          res.writeHead(503).end();
          return;
        }
        const parsed = JSON.parse(body) as Received;
        this.received.push(parsed);
        const rejected = parsed.notification.devices.map((d) => d.pushkey).filter((k) => this.reject.has(k));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ rejected }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Waits for a notification matching `pred` (pushes leave the server asynchronously). */
  async until(pred: (n: Received["notification"]) => boolean, what: string, from = 0, ms = 15_000): Promise<Received["notification"]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.slice(from).find((r) => pred(r.notification));
      if (found) return found.notification;
      if (Date.now() > deadline) throw new Error(`gateway never got ${what}; got ${JSON.stringify(this.received)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const gateway = new Gateway();
let alice: Account;
let bob: Account;
let carol: Account;

const APP = "org.stratus.e2e";
const FULL_KEY = "full-format-key";
const IDS_KEY = "event-id-only-key";

function pusher(pushkey: string, data: sdk.IPusherRequest["data"]): sdk.IPusherRequest {
  return { kind: "http", app_id: APP, pushkey, app_display_name: "Stratus e2e", device_display_name: "test phone", lang: "en", data, append: false } as sdk.IPusherRequest;
}

const forKey = (n: Received["notification"], key: string) => n.devices[0]?.pushkey === key;

async function sendText(account: Account, roomId: string, content: Record<string, unknown>): Promise<string> {
  return (await account.client.sendEvent(roomId, "m.room.message" as any, { msgtype: "m.text", ...content } as any)).event_id!;
}

/** Waits until `eventId` is in `roomId`'s timeline in the account's /sync. */
async function untilInSync(account: Account, roomId: string, eventId: string, ms = 15_000): Promise<void> {
  const filter = encodeURIComponent(JSON.stringify({ room: { rooms: [roomId], timeline: { limit: 50 } } }));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/_matrix/client/v3/sync?filter=${filter}`, { headers: { authorization: `Bearer ${account.accessToken}` } });
    const body = (await res.json()) as any;
    if ((body.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e: any) => e.event_id === eventId)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${eventId} never reached ${account.userId}'s sync`);
}

beforeAll(async () => {
  await gateway.start();
  [alice, bob, carol] = await Promise.all([
    registerUser(baseUrl, { username: uniqueUsername("alice") }),
    registerUser(baseUrl, { username: uniqueUsername("bob") }),
    registerUser(baseUrl, { username: uniqueUsername("carol") }),
  ]);
  await alice.client.setPusher(pusher(FULL_KEY, { url: gateway.url }));
  await alice.client.setPusher(pusher(IDS_KEY, { url: gateway.url, format: "event_id_only" }));
});

afterAll(async () => {
  for (const a of [alice, bob, carol]) a?.client.stopClient();
  await gateway.stop();
});

describe("push to an HTTP pusher", () => {
  let direct: string;
  let directMessage: string;

  it("matrix-js-sdk's setPusher registers the pushers", async () => {
    const { pushers } = await alice.client.getPushers();
    expect(pushers.map((p) => p.pushkey).sort()).toEqual([IDS_KEY, FULL_KEY].sort());
  });

  it("a plain message in a one-to-one room reaches the gateway, high priority with its sound, counted", async () => {
    direct = (await alice.client.createRoom({ preset: "trusted_private_chat" as sdk.Preset, invite: [bob.userId], is_direct: true })).room_id;
    await bob.client.joinRoom(direct);
    directMessage = await sendText(bob, direct, { body: "hi alice" });

    const full = await gateway.until((n) => n.event_id === directMessage && forKey(n, FULL_KEY), "the direct message (full format)");
    expect(full).toMatchObject({ room_id: direct, type: "m.room.message", sender: bob.userId, prio: "high", counts: { unread: 1 }, content: { body: "hi alice" } });
    expect(full.sender_display_name).toEqual(expect.any(String));
    expect(full.devices[0]).toMatchObject({ app_id: APP, pushkey: FULL_KEY, data: {}, tweaks: { sound: "default" } });
    expect(full.devices[0]!.data.url).toBeUndefined();
    expect(full.devices[0]!.pushkey_ts).toBeGreaterThan(1_600_000_000);
    expect(full.devices[0]!.pushkey_ts).toBeLessThan(Date.now() / 1000 + 60);

    const ids = await gateway.until((n) => n.event_id === directMessage && forKey(n, IDS_KEY), "the direct message (event_id_only)");
    expect(ids).toEqual({
      event_id: directMessage,
      room_id: direct,
      prio: "high",
      counts: { unread: 1 },
      devices: [{ app_id: APP, pushkey: IDS_KEY, pushkey_ts: expect.any(Number), data: { format: "event_id_only" } }],
    });
  });

  it("a mention in a group room reaches the gateway as a high-priority highlight; a plain group message is low priority", async () => {
    const group = (await alice.client.createRoom({ preset: "public_chat" as sdk.Preset, name: "Group" })).room_id;
    await bob.client.joinRoom(group);
    await carol.client.joinRoom(group);
    const plain = await sendText(carol, group, { body: "just chatting" });
    const low = await gateway.until((n) => n.event_id === plain && forKey(n, FULL_KEY), "the plain group message");
    expect(low).toMatchObject({ prio: "low", room_name: "Group", counts: { unread: 2 } });
    expect(low.devices[0]!.tweaks ?? {}).toEqual({});

    const mention = await sendText(bob, group, { body: "alice: look", "m.mentions": { user_ids: [alice.userId] } });
    const high = await gateway.until((n) => n.event_id === mention && forKey(n, FULL_KEY), "the mention");
    expect(high).toMatchObject({ room_id: group, prio: "high", room_name: "Group", counts: { unread: 3 } });
    expect(high.devices[0]!.tweaks).toMatchObject({ highlight: true, sound: "default" });
    const ids = await gateway.until((n) => n.event_id === mention && forKey(n, IDS_KEY), "the mention (event_id_only)");
    expect(ids).toMatchObject({ prio: "high", counts: { unread: 3 } });
  });

  it("a message in a room alice muted does not reach the gateway", async () => {
    const muted = (await alice.client.createRoom({ preset: "public_chat" as sdk.Preset })).room_id;
    await bob.client.joinRoom(muted);
    // Element's mute: an override rule for the room that does nothing.
    await alice.client.addPushRule("global", "override" as sdk.PushRuleKind, muted, {
      actions: [],
      conditions: [{ kind: "event_match", key: "room_id", pattern: muted }],
    } as any);
    const quiet = await sendText(bob, muted, { body: "you won't hear this" });
    // Once alice's object has the message (her sync shows it), any push for it is queued ahead of
    // the next one; so when a later message's push arrives, this one would have arrived before it.
    await untilInSync(alice, muted, quiet);
    const sentinel = await sendText(bob, direct, { body: "still there?" });
    await gateway.until((n) => n.event_id === sentinel && forKey(n, FULL_KEY), "the message after the muted one");
    expect(gateway.received.some((r) => r.notification.event_id === quiet || r.notification.room_id === muted)).toBe(false);
  });

  it("reading lowers the badge: the gateway gets an update with the lower count", async () => {
    const before = gateway.received.length;
    const last = gateway.received.at(-1)!.notification.counts.unread as number;
    const res = await fetch(`${baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(direct)}/receipt/m.read/${encodeURIComponent(directMessage)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const update = await gateway.until((n) => n.event_id === undefined && forKey(n, FULL_KEY), "a badge update", before);
    // The direct message is read; the one after it ("still there?") is not.
    expect(update.counts.unread).toBe(last - 1);
    expect(update.devices[0]!.pushkey).toBe(FULL_KEY);
  });

  it("a push the gateway fails is retried after a backoff", async () => {
    gateway.failNext = 1;
    const sentAt = Date.now();
    const m = await sendText(bob, direct, { body: "retry me" });
    // One of the two pushers' requests failed; the other went through at once.
    await gateway.until((n) => n.event_id === m && forKey(n, FULL_KEY), "the push to the first pusher", 0, 20_000);
    await gateway.until((n) => n.event_id === m && forKey(n, IDS_KEY), "the push to the second pusher", 0, 20_000);
    expect(gateway.failures).toBe(1);
    // The retry came after the first backoff, PUSH_RETRY_INITIAL_MS (2 s).
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1500);
  });

  it("a pushkey the gateway rejects is removed", async () => {
    gateway.reject.add(IDS_KEY);
    const m = await sendText(bob, direct, { body: "one more" });
    await gateway.until((n) => n.event_id === m && forKey(n, IDS_KEY), "the push to the rejected key");
    const deadline = Date.now() + 10_000;
    let keys: string[] = [];
    while (Date.now() < deadline) {
      keys = (await alice.client.getPushers()).pushers.map((p) => p.pushkey);
      if (!keys.includes(IDS_KEY)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(keys).toEqual([FULL_KEY]);
  });
});
