/**
 * Simplified sliding sync (MSC4186) over HTTP, driven with plain fetch the way matrix-rust-sdk
 * (Element X) drives it (shared/CLIENTS.md):
 *  1. the room list service: one `all_rooms` list whose range grows, Element X's required_state,
 *     and the account_data, receipts and typing extensions;
 *  2. the encryption sync: a second connection with only the to_device and e2ee extensions, fed
 *     into the Rust crypto's OlmMachine (`receiveSyncChangesMsc4186`, as matrix-rust-sdk does),
 *     through which bob's device gets alice's room key and decrypts her message.
 */
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";

const { baseUrl } = sharedServer();
const SLIDING = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

const ELEMENT_X_REQUIRED_STATE = [
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

async function api(account: Account, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${account.accessToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

let txn = 0;
const nextTxn = () => `e2e${Date.now()}-${++txn}`;
const enc = encodeURIComponent;

/** A sliding sync connection: each request continues from the last `pos`. */
class Connection {
  pos: string | undefined;
  constructor(
    private readonly account: Account,
    public body: Record<string, unknown>,
  ) {}

  async next(timeout = 0): Promise<any> {
    const query = new URLSearchParams({ timeout: String(timeout), ...(this.pos ? { pos: this.pos } : {}) });
    const res = await api(this.account, "POST", `${SLIDING}?${query}`, this.body);
    this.pos = res.pos;
    return res;
  }

  async until(pred: (r: any) => boolean, what: string, ms = 15_000, each?: (r: any) => Promise<void>): Promise<any> {
    const deadline = Date.now() + ms;
    do {
      const res = await this.next(this.pos ? 1000 : 0);
      if (each) await each(res);
      if (pred(res)) return res;
    } while (Date.now() < deadline);
    throw new Error(`timed out waiting for ${what}`);
  }
}

let alice: Account;
let bob: Account;

beforeAll(async () => {
  [alice, bob] = await Promise.all([registerUser(baseUrl, { username: uniqueUsername("alice") }), registerUser(baseUrl, { username: uniqueUsername("bob") })]);
});

afterAll(() => {
  alice?.client.stopClient();
  bob?.client.stopClient();
});

describe("sliding sync, as Element X's room list uses it", () => {
  it("/versions advertises simplified sliding sync, which matrix-rust-sdk requires", async () => {
    const res = (await (await fetch(`${baseUrl}/_matrix/client/versions`)).json()) as { unstable_features: Record<string, boolean> };
    expect(res.unstable_features["org.matrix.simplified_msc3575"]).toBe(true);
  });

  it("a growing all_rooms list brings every room once, with the state Element X asks for, then live updates and ephemeral news", async () => {
    const rooms: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { room_id } = await api(alice, "POST", "/_matrix/client/v3/createRoom", { name: `Room ${i}`, topic: `topic ${i}`, preset: "public_chat" });
      rooms.push(room_id);
    }
    const [top] = rooms.slice(-1) as [string];
    await api(alice, "PUT", `/_matrix/client/v3/rooms/${enc(top)}/state/m.call.member/${enc(`_${alice.userId}_DEVICE_m.call`)}`, { memberships: [] });
    await api(bob, "POST", `/_matrix/client/v3/join/${enc(top)}`, {});
    const { event_id: bobMessage } = await api(bob, "PUT", `/_matrix/client/v3/rooms/${enc(top)}/send/m.room.message/${nextTxn()}`, { msgtype: "m.text", body: "hi alice" });
    await api(alice, "PUT", `/_matrix/client/v3/user/${enc(alice.userId)}/account_data/m.direct`, {});

    const list = (end: number) => ({
      lists: { all_rooms: { ranges: [[0, end]], timeline_limit: 1, required_state: ELEMENT_X_REQUIRED_STATE } },
      extensions: { account_data: { enabled: true }, receipts: { enabled: true }, typing: { enabled: true } },
    });
    const conn = new Connection(alice, list(1));
    // Delivery to alice's object is asynchronous: wait until bob's message is there.
    const first = await conn.until((r) => r.rooms?.[top]?.timeline?.some((e: any) => e.event_id === bobMessage), "bob's message in the top room");
    expect(first.lists.all_rooms.count).toBe(5);
    expect(first.extensions.account_data.global.some((e: any) => e.type === "m.push_rules")).toBe(true);

    const seen = new Map<string, any>(Object.entries(first.rooms));
    const topRoom = first.rooms[top];
    expect(topRoom.initial).toBe(true);
    expect(topRoom.name).toBe("Room 4");
    expect(topRoom.joined_count).toBe(2);
    const state = (room: any, type: string, key = "") => room.required_state.find((e: any) => e.type === type && e.state_key === key);
    expect(state(topRoom, "m.room.topic").content.topic).toBe("topic 4");
    expect(state(topRoom, "m.room.member", alice.userId).content.membership).toBe("join");
    expect(state(topRoom, "m.room.member", bob.userId).content.membership).toBe("join"); // $LAZY: bob sent the timeline's event
    expect(state(topRoom, "m.call.member", `_${alice.userId}_DEVICE_m.call`)).toBeDefined();
    for (const t of ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.history_visibility"]) expect(state(topRoom, t)).toBeDefined();

    // The range grows as the SDK's growing sync mode does; each room comes exactly once, as initial.
    for (const end of [3, 9]) {
      conn.body = list(end);
      const res = await conn.next();
      for (const [id, room] of Object.entries<any>(res.rooms ?? {})) {
        expect(seen.has(id), `room ${id} sent twice`).toBe(false);
        expect(room.initial).toBe(true);
        seen.set(id, room);
      }
    }
    expect([...seen.keys()].sort()).toEqual([...rooms].sort());
    // Ordered by recency: the bump stamps follow creation order, the top room last.
    const stamps = rooms.map((id) => seen.get(id).bump_stamp);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);

    // Live: bob types, reads, and writes; each reaches alice's long-poll.
    await api(bob, "PUT", `/_matrix/client/v3/rooms/${enc(top)}/typing/${enc(bob.userId)}`, { typing: true, timeout: 20000 });
    const typing = await conn.until((r) => r.extensions?.typing?.rooms?.[top] !== undefined, "typing");
    expect(typing.extensions.typing.rooms[top].content.user_ids).toEqual([bob.userId]);
    await api(bob, "POST", `/_matrix/client/v3/rooms/${enc(top)}/receipt/m.read/${enc(bobMessage)}`, {});
    const receipt = await conn.until((r) => r.extensions?.receipts?.rooms?.[top] !== undefined, "receipt");
    expect(receipt.extensions.receipts.rooms[top].content[bobMessage]["m.read"][bob.userId]).toBeDefined();
    const { event_id: second } = await api(bob, "PUT", `/_matrix/client/v3/rooms/${enc(top)}/send/m.room.message/${nextTxn()}`, { msgtype: "m.text", body: "still there?" });
    const live = await conn.until((r) => r.rooms?.[top]?.timeline?.some((e: any) => e.event_id === second), "bob's second message");
    expect(live.rooms[top].initial).toBeUndefined();
    expect(live.rooms[top].num_live).toBe(1);
    expect(live.rooms[top].bump_stamp).toBeGreaterThan(topRoom.bump_stamp);
    expect(live.rooms[top].notification_count).toBeGreaterThanOrEqual(1);
  });
});

/** One device's Rust crypto, talking to the server over plain HTTP. */
class Device {
  constructor(
    readonly account: Account,
    readonly machine: wasm.OlmMachine,
  ) {}

  static async create(account: Account): Promise<Device> {
    return new Device(account, await wasm.OlmMachine.initialize(new wasm.UserId(account.userId), new wasm.DeviceId(account.deviceId)));
  }

  /** Sends what the machine asks for (key uploads, queries, claims, to-device) and reports the answers back. */
  async flush(): Promise<void> {
    for (const req of await this.machine.outgoingRequests()) await this.send(req);
  }

  async send(req: { id?: string; type: wasm.RequestType; body: string; event_type?: string; txn_id?: string }): Promise<void> {
    const body = JSON.parse(req.body);
    let res: unknown;
    switch (req.type) {
      case wasm.RequestType.KeysUpload:
        res = await api(this.account, "POST", "/_matrix/client/v3/keys/upload", body);
        break;
      case wasm.RequestType.KeysQuery:
        res = await api(this.account, "POST", "/_matrix/client/v3/keys/query", body);
        break;
      case wasm.RequestType.KeysClaim:
        res = await api(this.account, "POST", "/_matrix/client/v3/keys/claim", body);
        break;
      case wasm.RequestType.ToDevice:
        res = await api(this.account, "PUT", `/_matrix/client/v3/sendToDevice/${enc(req.event_type!)}/${enc(req.txn_id!)}`, body);
        break;
      case wasm.RequestType.SignatureUpload:
        res = await api(this.account, "POST", "/_matrix/client/v3/keys/signatures/upload", body);
        break;
      default:
        return;
    }
    if (req.id) await this.machine.markRequestAsSent(req.id, req.type, JSON.stringify(res));
  }

  /** Feeds one encryption-sync response to the machine, as matrix-rust-sdk does. */
  async receive(res: any): Promise<void> {
    const toDevice = res.extensions?.to_device?.events ?? [];
    const e2ee = res.extensions?.e2ee ?? {};
    const lists = e2ee.device_lists ?? {};
    await this.machine.receiveSyncChangesMsc4186(
      JSON.stringify(toDevice),
      new wasm.DeviceLists((lists.changed ?? []).map((u: string) => new wasm.UserId(u)), (lists.left ?? []).map((u: string) => new wasm.UserId(u))),
      new Map(Object.entries(e2ee.device_one_time_keys_count ?? {})),
      new Set(e2ee.device_unused_fallback_key_types ?? []),
    );
    await this.flush();
  }
}

describe("sliding sync, as the encryption sync uses it", () => {
  it("two devices exchange an encrypted message through the to_device and e2ee extensions", async () => {
    await wasm.initAsync();
    const [aliceDevice, bobDevice] = await Promise.all([Device.create(alice), Device.create(bob)]);
    const encryptionSync = (account: Account) => {
      const conn: Connection = new Connection(account, { conn_id: "encryption", extensions: { to_device: { enabled: true }, e2ee: { enabled: true } } });
      return conn;
    };
    const aliceSync = encryptionSync(alice);
    const bobSync = encryptionSync(bob);
    const ackSince = (conn: Connection, res: any) => {
      conn.body = { ...conn.body, extensions: { to_device: { enabled: true, since: res.extensions.to_device.next_batch }, e2ee: { enabled: true } } };
    };
    // Each device uploads its keys after its first encryption sync reported its key counts.
    for (const [device, conn] of [[aliceDevice, aliceSync], [bobDevice, bobSync]] as const) {
      const res = await conn.next();
      expect(res.extensions.e2ee.device_one_time_keys_count).toEqual(expect.objectContaining({ signed_curve25519: expect.any(Number) }));
      await device.receive(res);
      ackSince(conn, res);
    }
    const counted = await bobSync.next();
    expect(counted.extensions.e2ee.device_one_time_keys_count.signed_curve25519).toBeGreaterThan(0);
    await bobDevice.receive(counted);
    ackSince(bobSync, counted);

    const { room_id: roomId } = await api(alice, "POST", "/_matrix/client/v3/createRoom", {
      name: "Secret",
      invite: [bob.userId],
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await api(bob, "POST", `/_matrix/client/v3/join/${enc(roomId)}`, {});

    // Alice's encryption sync learns that bob's device list matters now (he joined her room).
    await aliceSync.until((r) => r.extensions?.e2ee?.device_lists?.changed?.includes(bob.userId), "bob in alice's device_lists.changed", 15_000, async (r) => {
      await aliceDevice.receive(r);
      ackSince(aliceSync, r);
    });
    await aliceDevice.machine.updateTrackedUsers([new wasm.UserId(bob.userId)]);
    await aliceDevice.flush();
    const claim = await aliceDevice.machine.getMissingSessions([new wasm.UserId(bob.userId)]);
    if (claim) await aliceDevice.send(claim);
    const settings = new wasm.EncryptionSettings();
    settings.sharingStrategy = wasm.CollectStrategy.allDevices();
    for (const req of await aliceDevice.machine.shareRoomKey(new wasm.RoomId(roomId), [new wasm.UserId(bob.userId)], settings)) await aliceDevice.send(req);
    const text = `for bob's eyes only ${Date.now()}`;
    const encrypted = JSON.parse(await aliceDevice.machine.encryptRoomEvent(new wasm.RoomId(roomId), "m.room.message", JSON.stringify({ msgtype: "m.text", body: text })));
    const { event_id: eventId } = await api(alice, "PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.encrypted/${nextTxn()}`, encrypted);

    // Bob's encryption sync carries the room key to his device ...
    await bobSync.until((r) => (r.extensions?.to_device?.events ?? []).some((e: any) => e.type === "m.room.encrypted" && e.sender === alice.userId), "the room key", 15_000, async (r) => {
      await bobDevice.receive(r);
      ackSince(bobSync, r);
    });
    // ... and his room list connection the encrypted message, which his device can now read.
    const roomList = new Connection(bob, { lists: { all_rooms: { ranges: [[0, 9]], timeline_limit: 5, required_state: [["m.room.encryption", ""]] } } });
    const res = await roomList.until((r) => r.rooms?.[roomId]?.timeline?.some((e: any) => e.event_id === eventId), "the encrypted message");
    const event = res.rooms[roomId].timeline.find((e: any) => e.event_id === eventId);
    expect(event.type).toBe("m.room.encrypted");
    expect(JSON.stringify(event)).not.toContain(text);
    const decrypted = await bobDevice.machine.decryptRoomEvent(JSON.stringify(event), new wasm.RoomId(roomId), new wasm.DecryptionSettings(wasm.TrustRequirement.Untrusted));
    const clear = JSON.parse(decrypted.event);
    expect(clear.type).toBe("m.room.message");
    expect(clear.content.body).toBe(text);
    expect(decrypted.sender.toString()).toBe(alice.userId);
  });
});
