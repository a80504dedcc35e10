/**
 * What a matrix-js-sdk client does at startup and while syncing (shared/CLIENTS.md): it fetches
 * the push rules, uploads its filter and runs the /sync long-poll. Two clients without crypto:
 * alice creates a room and invites bob, bob joins, and alice's message reaches bob's timeline
 * while his long-poll is waiting, within a second of the send.
 */
import * as sdk from "matrix-js-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepared, registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";

const { baseUrl } = sharedServer();

let alice: Account;
let bob: Account;


/** Resolves when `pred` holds for the client, checked after each sync. */
function untilSynced(client: sdk.MatrixClient, pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const timer = setTimeout(() => {
      client.off(sdk.ClientEvent.Sync, check);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const check = () => {
      if (!pred()) return;
      clearTimeout(timer);
      client.off(sdk.ClientEvent.Sync, check);
      resolve();
    };
    client.on(sdk.ClientEvent.Sync, check);
  });
}

beforeAll(async () => {
  [alice, bob] = await Promise.all([
    registerUser(baseUrl, { username: uniqueUsername("alice") }),
    registerUser(baseUrl, { username: uniqueUsername("bob") }),
  ]);
});

afterAll(() => {
  alice?.client.stopClient();
  bob?.client.stopClient();
});

describe("two syncing matrix-js-sdk clients", () => {
  it("start, get their push rules, and see each other's room and messages", async () => {
    await Promise.all([alice.client.startClient({ initialSyncLimit: 10 }), bob.client.startClient({ initialSyncLimit: 10 })]);
    await Promise.all([prepared(alice.client), prepared(bob.client)]);

    // The SDK fetched GET /pushrules/ before its first /sync, and keeps the ruleset /sync sends.
    expect(alice.client.pushRules?.global.override?.[0]?.rule_id).toBe(".m.rule.master");
    expect(alice.client.getAccountData(sdk.EventType.PushRules)?.getContent().global.underride.map((r: { rule_id: string }) => r.rule_id)).toContain(".m.rule.message");

    const { room_id: roomId } = await alice.client.createRoom({ preset: sdk.Preset.PrivateChat, name: "Sync test" });
    await alice.client.invite(roomId, bob.userId);
    // Bob's client learns of the invite through /sync.
    await untilSynced(bob.client, () => bob.client.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, "bob's client to see the invite");
    await bob.client.joinRoom(roomId);
    await untilSynced(bob.client, () => bob.client.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Join, "bob's client to see himself joined");
    await untilSynced(alice.client, () => alice.client.getRoom(roomId)?.getMember(bob.userId)?.membership === sdk.KnownMembership.Join, "alice's client to see bob join");
    // Let bob's client settle into its next long-poll.
    await new Promise((r) => setTimeout(r, 300));

    const body = `hello bob ${Date.now()}`;
    let received: { event: sdk.MatrixEvent; at: number } | undefined;
    const arrived = new Promise<void>((resolve) => {
      const onTimeline = (event: sdk.MatrixEvent, room: sdk.Room | undefined, toStartOfTimeline: boolean | undefined) => {
        if (room?.roomId !== roomId || toStartOfTimeline || event.getType() !== sdk.EventType.RoomMessage || event.getContent().body !== body) return;
        received = { event, at: Date.now() };
        bob.client.off(sdk.RoomEvent.Timeline, onTimeline);
        resolve();
      };
      bob.client.on(sdk.RoomEvent.Timeline, onTimeline);
    });

    const sent = await alice.client.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body });
    const sentAt = Date.now();
    await Promise.race([arrived, new Promise((r) => setTimeout(r, 1000))]);
    expect(received, "bob's client shows alice's message within one second of the send").toBeDefined();
    expect(received!.at - sentAt).toBeLessThan(1000);
    expect(received!.event.getId()).toBe(sent.event_id);
    expect(received!.event.getSender()).toBe(alice.userId);
    expect(bob.client.getRoom(roomId)!.getLiveTimeline().getEvents().some((e) => e.getId() === sent.event_id)).toBe(true);
  });
});
