import { describe, expect, it } from "vitest";
import type { ClientEvent } from "../../matrix/client-event";
import { buildRuleset, evaluatePushRules, notificationPowerFromState } from "../../matrix/push";
import { getRoomVersion } from "../../matrix/room-versions";
import { badgeNotificationBody, eventNotificationBody, pushPriority } from "../../services/push-gateway";
import type { Pusher } from "../../services/pushers";
import type { Notified } from "./notifications";

const ME = "@me:a.test";
const URL = "https://gw.example/_matrix/push/v1/notify";

function notified(type: string, content: Record<string, unknown>, memberCount: number): Notified {
  const event: ClientEvent = { event_id: "$e", room_id: "!r:a.test", sender: "@bob:a.test", type, content: content as never, origin_server_ts: 1 };
  const outcome = evaluatePushRules(buildRuleset(ME, [], []), event, {
    userId: ME,
    displayName: "Mimi",
    memberCount,
    powerLevels: notificationPowerFromState(undefined, undefined, getRoomVersion("10")!, event.sender),
  })!;
  return { roomId: event.room_id, event, outcome, threadId: "main" };
}

const pusher = (data: Record<string, unknown>): Pusher => ({
  pushkey: "pk",
  kind: "http",
  app_id: "app",
  app_display_name: "A",
  device_display_name: "D",
  lang: "en",
  data: { url: URL, ...data } as never,
  pushkeyTs: 1_700_000_000_123,
});

describe("push gateway requests", () => {
  it("prio: high for a sound, a highlight or an encrypted event; low for a plain group message", () => {
    expect(pushPriority(notified("m.room.message", { msgtype: "m.text", body: "hi" }, 2))).toBe("high");
    expect(pushPriority(notified("m.room.message", { msgtype: "m.text", body: "hi" }, 5))).toBe("low");
    expect(pushPriority(notified("m.room.message", { msgtype: "m.text", body: "hi Mimi" }, 5))).toBe("high");
    expect(pushPriority(notified("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "x" }, 5))).toBe("high");
  });

  it("the full format carries the event, the facts and the tweaks; the url never leaves the server", () => {
    const body = JSON.parse(eventNotificationBody(pusher({ custom: 1 }), ME, notified("m.room.message", { msgtype: "m.text", body: "hi" }, 2), 4, { roomName: "Room", senderDisplayName: "Bob" }));
    expect(body).toEqual({
      notification: {
        event_id: "$e",
        room_id: "!r:a.test",
        type: "m.room.message",
        sender: "@bob:a.test",
        sender_display_name: "Bob",
        room_name: "Room",
        prio: "high",
        content: { msgtype: "m.text", body: "hi" },
        counts: { unread: 4 },
        devices: [{ app_id: "app", pushkey: "pk", pushkey_ts: 1_700_000_000, data: { custom: 1 }, tweaks: { sound: "default" } }],
      },
    });
  });

  it("a member event says whether the user is its target", () => {
    const n = notified("m.room.member", { membership: "invite" }, 2);
    n.event.state_key = ME;
    expect(JSON.parse(eventNotificationBody(pusher({}), ME, n, 1, {})).notification.user_is_target).toBe(true);
  });

  it("event_id_only sends ids, counts, prio and devices only; a badge update sends counts and devices", () => {
    const body = JSON.parse(eventNotificationBody(pusher({ format: "event_id_only" }), ME, notified("m.room.message", { msgtype: "m.text", body: "secret" }, 5), 0, { roomName: "Room" }));
    expect(body).toEqual({
      notification: { event_id: "$e", room_id: "!r:a.test", counts: { unread: 0 }, prio: "low", devices: [{ app_id: "app", pushkey: "pk", pushkey_ts: 1_700_000_000, data: { format: "event_id_only" } }] },
    });
    expect(JSON.parse(badgeNotificationBody(pusher({}), 2))).toEqual({ notification: { counts: { unread: 2 }, devices: [{ app_id: "app", pushkey: "pk", pushkey_ts: 1_700_000_000, data: {} }] } });
  });
});
