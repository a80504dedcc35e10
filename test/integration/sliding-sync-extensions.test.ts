/**
 * Simplified sliding sync (MSC4186) extensions: to_device (MSC3885), e2ee (MSC3884), account_data
 * (MSC3959), receipts (MSC3960) and typing (MSC3961), each scoped by lists and rooms.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/matrix/canonical-json";
import { signingKeyFromSeed, signJson } from "../../src/matrix/signing";
import { call, registerUser } from "./helpers";
import { createRoom, enc, joinOk, roomPath, sendOk, type TestUser } from "./room-helpers";
import { listBody, SlidingConnection } from "./sliding-sync-helpers";

let txn = 0;
async function sendToDevice(from: TestUser, to: TestUser, n: string): Promise<void> {
  const res = await call("PUT", `/_matrix/client/v3/sendToDevice/m.test/t${Date.now()}-${++txn}`, { token: from.access_token, body: { messages: { [to.user_id]: { [to.device_id]: { n } } } } });
  expect(res.status).toBe(200);
}

/** Uploads signed device keys, one one-time key and a fallback key for the user's device. */
async function uploadKeys(user: TestUser): Promise<void> {
  const key = await signingKeyFromSeed(crypto.getRandomValues(new Uint8Array(32)), user.user_id, `ed25519:${user.device_id}`);
  const deviceKeys: JsonObject = await signJson(
    {
      user_id: user.user_id,
      device_id: user.device_id,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: { [`ed25519:${user.device_id}`]: key.publicKey, [`curve25519:${user.device_id}`]: `curve${user.device_id}` },
    },
    key,
  );
  const res = await call("POST", "/_matrix/client/v3/keys/upload", {
    token: user.access_token,
    body: {
      device_keys: deviceKeys,
      one_time_keys: { "signed_curve25519:AAAAAQ": await signJson({ key: "otk1" }, key) },
      fallback_keys: { "signed_curve25519:AAAABA": await signJson({ key: "fb1", fallback: true }, key) },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

const toDeviceNs = (body: any) => (body.extensions?.to_device?.events ?? []).map((e: any) => e.content.n);

describe("sliding sync: to_device and e2ee extensions", () => {
  it("to_device hands out queued messages and deletes them once `since` acknowledges them", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    await sendToDevice(alice, bob, "first");
    const conn = new SlidingConnection(bob.access_token, { conn_id: "encryption", extensions: { to_device: { enabled: true } } });
    const body = await conn.next();
    expect(toDeviceNs(body)).toEqual(["first"]);
    expect(body.extensions.to_device.events[0].sender).toBe(alice.user_id);
    const nextBatch = body.extensions.to_device.next_batch;
    expect(typeof nextBatch).toBe("string");

    // Not acknowledged (no since): sent again.
    const again = await conn.next();
    expect(toDeviceNs(again)).toEqual(["first"]);

    // Acknowledged: gone; a new message arrives through a long-poll.
    conn.body = { conn_id: "encryption", extensions: { to_device: { enabled: true, since: again.extensions.to_device.next_batch } } };
    const pending = conn.next(10_000);
    await new Promise((r) => setTimeout(r, 200));
    await sendToDevice(alice, bob, "second");
    expect(toDeviceNs(await pending)).toEqual(["second"]);
  });

  it("to_device `limit` caps each response; the rest follow in order, each message once", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    for (const n of ["m1", "m2", "m3", "m4", "m5"]) await sendToDevice(alice, bob, n);
    const conn = new SlidingConnection(bob.access_token, { conn_id: "limited", extensions: { to_device: { enabled: true, limit: 2 } } });
    const seen: string[] = [];
    let since: string | undefined;
    for (let i = 0; i < 4; i++) {
      conn.body = { conn_id: "limited", extensions: { to_device: { enabled: true, limit: 2, ...(since ? { since } : {}) } } };
      const body = await conn.next();
      const ns = toDeviceNs(body);
      expect(ns.length).toBeLessThanOrEqual(2);
      seen.push(...ns);
      since = body.extensions.to_device.next_batch;
    }
    expect(seen).toEqual(["m1", "m2", "m3", "m4", "m5"]);
  });

  it("e2ee reports one-time key counts, fallback key types and device-list changes of users sharing a room", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const conn = new SlidingConnection(alice.access_token, { conn_id: "encryption", extensions: { e2ee: { enabled: true } } });
    const first = await conn.next();
    expect(first.extensions.e2ee.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(first.extensions.e2ee.device_unused_fallback_key_types).toEqual([]);

    await uploadKeys(alice);
    await uploadKeys(bob);
    const changed = await conn.until((r) => r.extensions?.e2ee?.device_lists?.changed?.includes(bob.user_id));
    expect(changed.extensions.e2ee.device_one_time_keys_count.signed_curve25519).toBe(1);
    expect(changed.extensions.e2ee.device_unused_fallback_key_types).toEqual(["signed_curve25519"]);
  });
});

describe("sliding sync: account_data, receipts and typing extensions", () => {
  it("account_data: everything at first, then changes; room data only for rooms the extension covers", async () => {
    const alice = await registerUser();
    const inRange = await createRoom(alice, { name: "In range" });
    const outside = await createRoom(alice, { name: "Outside" });
    await sendOk(alice, inRange, "bump");
    const put = (path: string, body: unknown) => call("PUT", `/_matrix/client/v3/user/${enc(alice.user_id)}${path}`, { token: alice.access_token, body });
    expect((await put("/account_data/org.example.global", { v: 1 })).status).toBe(200);
    expect((await put(`/rooms/${enc(inRange)}/account_data/org.example.room`, { v: "in" })).status).toBe(200);
    expect((await put(`/rooms/${enc(outside)}/account_data/org.example.room`, { v: "out" })).status).toBe(200);

    const conn = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), extensions: { account_data: { enabled: true } } });
    const first = await conn.until((r) => r.rooms?.[inRange] !== undefined);
    const global = first.extensions.account_data.global;
    expect(global.find((e: any) => e.type === "org.example.global")?.content).toEqual({ v: 1 });
    // m.push_rules comes with the rest, as in /sync.
    expect(global.some((e: any) => e.type === "m.push_rules")).toBe(true);
    expect(first.extensions.account_data.rooms[inRange]).toEqual([{ type: "org.example.room", content: { v: "in" } }]);
    expect(first.extensions.account_data.rooms[outside]).toBeUndefined();

    expect((await put("/account_data/org.example.global", { v: 2 })).status).toBe(200);
    const changed = await conn.until((r) => (r.extensions?.account_data?.global ?? []).length > 0);
    expect(changed.extensions.account_data.global).toEqual([{ type: "org.example.global", content: { v: 2 } }]);

    // Scoped to no list: room account data of the list's rooms is not sent.
    const none = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "scoped", extensions: { account_data: { enabled: true, lists: [] } } });
    const scoped = await none.next();
    expect(scoped.extensions.account_data.rooms ?? {}).toEqual({});
  });

  it("receipts and typing of rooms in range reach the client; rooms outside a scope don't", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { name: "Ephemeral", preset: "public_chat" });
    await joinOk(bob, roomId);
    const eventId = await sendOk(alice, roomId, "read me");
    const conn = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), extensions: { receipts: { enabled: true }, typing: { enabled: true } } });
    const scopedOut = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "scoped", extensions: { receipts: { enabled: true, lists: [] }, typing: { enabled: true, lists: [] } } });
    await conn.until((r) => r.rooms?.[roomId] !== undefined);
    await scopedOut.until((r) => r.rooms?.[roomId] !== undefined);

    const receipt = await call("POST", roomPath(roomId, `/receipt/m.read/${enc(eventId)}`), { token: bob.access_token, body: {} });
    expect(receipt.status).toBe(200);
    const withReceipt = await conn.until((r) => r.extensions?.receipts?.rooms?.[roomId] !== undefined);
    const event = withReceipt.extensions.receipts.rooms[roomId];
    expect(event.type).toBe("m.receipt");
    expect(event.content[eventId]["m.read"][bob.user_id].ts).toEqual(expect.any(Number));

    const typing = await call("PUT", roomPath(roomId, `/typing/${enc(bob.user_id)}`), { token: bob.access_token, body: { typing: true, timeout: 30000 } });
    expect(typing.status).toBe(200);
    const withTyping = await conn.until((r) => r.extensions?.typing?.rooms?.[roomId] !== undefined);
    expect(withTyping.extensions.typing.rooms[roomId]).toEqual({ type: "m.typing", content: { user_ids: [bob.user_id] } });

    const other = await scopedOut.next(300);
    expect(other.extensions.receipts.rooms).toEqual({});
    expect(other.extensions.typing.rooms).toEqual({});

    // A new connection gets the current receipts and typing set of its rooms.
    const fresh = await new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "fresh", extensions: { receipts: { enabled: true }, typing: { enabled: true } } }).next();
    expect(fresh.extensions.receipts.rooms[roomId].content[eventId]["m.read"][bob.user_id]).toBeDefined();
    expect(fresh.extensions.typing.rooms[roomId].content.user_ids).toEqual([bob.user_id]);
  });

  it("a receipt made while its room was out of range arrives when the room comes back", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const older = await createRoom(alice, { name: "Older", preset: "public_chat" });
    await joinOk(bob, older);
    const eventId = await sendOk(alice, older, "read me later");
    const newer = await createRoom(alice, { name: "Newer", preset: "public_chat" });
    await sendOk(alice, newer, "most recent");
    const ext = { receipts: { enabled: true } };
    // The window holds only the most recent room, then both.
    const conn = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "window", extensions: ext });
    const wide = { ...listBody([[0, 1]]), conn_id: "window", extensions: ext };
    await conn.next(0, wide);
    const narrow = await conn.next(0, { ...listBody([[0, 0]]), conn_id: "window", extensions: ext });
    expect(Object.keys(narrow.rooms ?? {})).not.toContain(older);

    expect((await call("POST", roomPath(older, `/receipt/m.read/${enc(eventId)}`), { token: bob.access_token, body: {} })).status).toBe(200);
    // Out of range: not sent.
    const meanwhile = await conn.next(300, { ...listBody([[0, 0]]), conn_id: "window", extensions: ext });
    expect(meanwhile.extensions.receipts.rooms[older]).toBeUndefined();
    // Back in range: the missed receipt comes with it.
    const back = await conn.next(0, wide);
    expect(back.extensions.receipts.rooms[older]?.content[eventId]?.["m.read"]?.[bob.user_id]).toBeDefined();
  });
});
