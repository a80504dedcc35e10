/**
 * Dehydrated devices (MSC3814) on the unstable paths matrix-js-sdk's Rust crypto uses:
 * PUT/GET/DELETE /dehydrated_device and the dehydrated device's to-device events.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/matrix/canonical-json";
import { signJson } from "../../src/matrix/signing";
import { deviceKeys, deviceListsSince, deviceSigningKey, queryKeys, settle, signedKey, type Session, V3 } from "./e2ee-helpers";
import { call, loginOk, passwordAuth, registerUser, testEnv } from "./helpers";
import { createRoom, joinOk } from "./room-helpers";

const PREFIX = "/_matrix/client/unstable/org.matrix.msc3814.v1";
const enc = encodeURIComponent;

let counter = 0;
/** A device id shaped like the curve25519 key the MSC makes it (base64, with `/` and `+`). */
function dehydratedId(): string {
  counter += 1;
  return `Dh/${Date.now().toString(36)}+${counter}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

async function dehydratedBody(user: Session, deviceId = dehydratedId(), extra: JsonObject = {}) {
  const device = { user_id: user.user_id, device_id: deviceId };
  const own = await deviceSigningKey(device);
  return {
    own,
    body: {
      device_id: deviceId,
      device_data: { algorithm: "m.dehydration.v2", device_pickle: "encrypted", nonce: "n" },
      initial_device_display_name: "Dehydrated device",
      device_keys: await deviceKeys(device, own, { dehydrated: true }),
      one_time_keys: { "signed_curve25519:AAAAAQ": await signedKey(own, "otk") },
      fallback_keys: { "signed_curve25519:AAAAAg": await signedKey(own, "fb", true) },
      ...extra,
    },
  };
}

function put(user: Session, body: unknown) {
  return call("PUT", `${PREFIX}/dehydrated_device`, { token: user.access_token, body });
}

async function putOk(user: Session, body: { device_id: string }) {
  const res = await put(user, body);
  if (res.status !== 200) throw new Error(`PUT dehydrated_device: ${res.status} ${JSON.stringify(res.body)}`);
  expect(res.body).toEqual({ device_id: body.device_id });
}

function getEvents(user: Session, deviceId: string, query = "") {
  return call("GET", `${PREFIX}/dehydrated_device/${enc(deviceId)}/events${query}`, { token: user.access_token });
}

function sendToDevice(from: Session, to: string, deviceId: string, n: number) {
  return call("PUT", `${V3}/sendToDevice/m.room.encrypted/txn${Date.now()}${n}${Math.random()}`, {
    token: from.access_token,
    body: { messages: { [to]: { [deviceId]: { n } } } },
  });
}

describe("PUT/GET/DELETE /dehydrated_device", () => {
  it("without one: GET and DELETE are 404 M_NOT_FOUND (how matrix-js-sdk learns that the server supports it)", async () => {
    const alice = await registerUser();
    for (const method of ["GET", "DELETE"]) {
      const res = await call(method, `${PREFIX}/dehydrated_device`, { token: alice.access_token });
      expect(res.status, method).toBe(404);
      expect(res.body.errcode, method).toBe("M_NOT_FOUND");
    }
    expect((await call("GET", `${PREFIX}/dehydrated_device`)).status).toBe(401);
  });

  it("creates a device with its keys but no access token; GET gives it back; others see its keys", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const bobToken = await settle(bob);

    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    const got = await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ device_id: body.device_id, device_data: body.device_data });

    const keys = (await queryKeys(bob, { [alice.user_id]: [] })).body.device_keys[alice.user_id];
    expect(keys[body.device_id]).toEqual({ ...body.device_keys, unsigned: { device_display_name: "Dehydrated device" } });
    expect(keys[body.device_id].dehydrated).toBe(true);
    const devices = (await call("GET", `${V3}/devices`, { token: alice.access_token })).body.devices.map((d: any) => d.device_id);
    expect(devices).toContain(body.device_id);
    const tokens = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM access_tokens WHERE user_id = ? AND device_id = ?").bind(alice.user_id, body.device_id).first<{ n: number }>();
    expect(tokens?.n).toBe(0);

    // Its one-time key, then its fallback key, can be claimed.
    const claim = () =>
      call("POST", `${V3}/keys/claim`, { token: bob.access_token, body: { one_time_keys: { [alice.user_id]: { [body.device_id]: "signed_curve25519" } } } });
    expect((await claim()).body.one_time_keys[alice.user_id][body.device_id]).toEqual({ "signed_curve25519:AAAAAQ": body.one_time_keys["signed_curve25519:AAAAAQ"] });
    expect((await claim()).body.one_time_keys[alice.user_id][body.device_id]).toEqual({ "signed_curve25519:AAAAAg": body.fallback_keys["signed_curve25519:AAAAAg"] });

    expect((await deviceListsSince(bob, bobToken)).changed).toEqual([alice.user_id]);
  }, 30_000);

  it("a new one replaces the old, whose device and keys go", async () => {
    const alice = await registerUser();
    const first = (await dehydratedBody(alice)).body;
    await putOk(alice, first);
    const second = (await dehydratedBody(alice)).body;
    await putOk(alice, second);
    expect((await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token })).body.device_id).toBe(second.device_id);
    const keys = (await queryKeys(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id];
    expect(Object.keys(keys)).toEqual([second.device_id]);
    const devices = (await call("GET", `${V3}/devices`, { token: alice.access_token })).body.devices.map((d: any) => d.device_id);
    expect(devices.sort()).toEqual([alice.device_id, second.device_id].sort());
    const otks = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?").bind(alice.user_id, first.device_id).first<{ n: number }>();
    expect(otks?.n).toBe(0);
    // The same device uploaded again is fine too.
    await putOk(alice, second);
    expect(Object.keys((await queryKeys(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id])).toEqual([second.device_id]);
  });

  it("refuses bad uploads and keeps what was there", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { body: good } = await dehydratedBody(alice);
    await putOk(alice, good);

    const otherId = await dehydratedBody(alice);
    const forger = await deviceSigningKey({ user_id: alice.user_id, device_id: otherId.body.device_id });
    const cases: [string, unknown, number, string][] = [
      ["device_keys of another device id", { ...otherId.body, device_id: dehydratedId() }, 400, "M_INVALID_PARAM"],
      ["device_keys of another user", (await dehydratedBody({ ...bob, user_id: bob.user_id }, otherId.body.device_id)).body, 400, "M_BAD_JSON"],
      ["a forged self-signature", { ...otherId.body, device_keys: await deviceKeysSignedBy(alice.user_id, otherId.body.device_id, otherId.own.publicKey, forger) }, 400, "M_INVALID_PARAM"],
      ["the id of a logged-in device", (await dehydratedBody(alice, alice.device_id)).body, 400, "M_INVALID_PARAM"],
      ["no device_data", { ...otherId.body, device_data: undefined }, 400, "M_BAD_JSON"],
      ["device_data without algorithm", { ...otherId.body, device_data: { x: 1 } }, 400, "M_BAD_JSON"],
      ["no device_keys", { ...otherId.body, device_keys: undefined }, 400, "M_BAD_JSON"],
      ["a malformed one-time key name", { ...otherId.body, one_time_keys: { nocolon: "k" } }, 400, "M_BAD_JSON"],
    ];
    for (const [what, body, status, errcode] of cases) {
      const res = await put(alice, body);
      expect(res.status, what).toBe(status);
      expect(res.body.errcode, what).toBe(errcode);
    }
    expect((await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token })).body.device_id).toBe(good.device_id);
    const keys = (await queryKeys(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id];
    expect(Object.keys(keys)).toEqual([good.device_id]);
    // The logged-in device is untouched: its token still works.
    expect((await call("GET", `${V3}/account/whoami`, { token: alice.access_token })).body.device_id).toBe(alice.device_id);
  });

  it("DELETE removes it (no UIA), and so does DELETE /devices/{id}", async () => {
    const alice = await registerUser();
    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    const del = await call("DELETE", `${PREFIX}/dehydrated_device`, { token: alice.access_token });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ device_id: body.device_id });
    expect((await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token })).status).toBe(404);
    expect((await queryKeys(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id]).toEqual({});
    expect((await getEvents(alice, body.device_id)).status).toBe(403);

    const next = (await dehydratedBody(alice)).body;
    await putOk(alice, next);
    const viaDevices = await call("DELETE", `${V3}/devices/${enc(next.device_id)}`, { token: alice.access_token, body: { auth: passwordAuth(alice.user_id) } });
    expect(viaDevices.status).toBe(200);
    expect((await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token })).status).toBe(404);
  });

  it("nobody logs in as the dehydrated device: a login naming its id is refused and the device stays", async () => {
    const alice = await registerUser();
    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    const login = await call("POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: alice.username }, password: alice.password, device_id: body.device_id },
    });
    expect(login.status).toBe(400);
    expect(login.body.errcode).toBe("M_INVALID_PARAM");
    const still = await call("GET", `${PREFIX}/dehydrated_device`, { token: alice.access_token });
    expect(still.status).toBe(200);
    expect(still.body.device_id).toBe(body.device_id);
    // Its keys are untouched too.
    expect(Object.keys((await queryKeys(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id])).toContain(body.device_id);
  });
});

/** Device keys for the dehydrated device, signed by `signer` under the device's key id. */
async function deviceKeysSignedBy(userId: string, deviceId: string, publicKey: string, signer: Awaited<ReturnType<typeof deviceSigningKey>>) {
  return signJson(
    {
      user_id: userId,
      device_id: deviceId,
      dehydrated: true,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: { [`ed25519:${deviceId}`]: publicKey, [`curve25519:${deviceId}`]: "c" },
    },
    signer,
  );
}

describe("/dehydrated_device/{device_id}/events", () => {
  it("GET (matrix-js-sdk): pages with next_batch while more are left, none at the end; reading takes nothing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    for (let n = 1; n <= 3; n++) expect((await sendToDevice(bob, alice.user_id, body.device_id, n)).status).toBe(200);
    // `*` reaches it too.
    await call("PUT", `${V3}/sendToDevice/m.room.encrypted/star${Date.now()}`, { token: bob.access_token, body: { messages: { [alice.user_id]: { "*": { n: 4 } } } } });

    const all = await getEvents(alice, body.device_id);
    expect(all.status).toBe(200);
    expect(all.body.events).toEqual([1, 2, 3, 4].map((n) => ({ sender: bob.user_id, type: "m.room.encrypted", content: { n } })));
    expect(all.body.next_batch).toBeUndefined();

    const seen: number[] = [];
    let from: string | undefined;
    let pages = 0;
    do {
      const res = await getEvents(alice, body.device_id, `?limit=3${from ? `&from=${enc(from)}` : ""}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.events.map((e: any) => e.content.n));
      from = res.body.next_batch;
      pages++;
    } while (from !== undefined && pages < 10);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(pages).toBe(2);
    // Still all there: a rehydration can be started again.
    expect((await getEvents(alice, body.device_id)).body.events).toHaveLength(4);
  });

  it("POST (the MSC's form): always a next_batch; an empty page marks the end", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    for (let n = 1; n <= 2; n++) await sendToDevice(bob, alice.user_id, body.device_id, n);
    const path = `${PREFIX}/dehydrated_device/${enc(body.device_id)}/events`;
    const first = await call("POST", `${path}?limit=1`, { token: alice.access_token, body: {} });
    expect(first.body.events.map((e: any) => e.content.n)).toEqual([1]);
    expect(typeof first.body.next_batch).toBe("string");
    const second = await call("POST", path, { token: alice.access_token, body: { next_batch: first.body.next_batch } });
    expect(second.body.events.map((e: any) => e.content.n)).toEqual([2]);
    const end = await call("POST", path, { token: alice.access_token, body: { next_batch: second.body.next_batch } });
    expect(end.body).toEqual({ events: [], next_batch: second.body.next_batch });
  });

  it("only for the user's own dehydrated device (403); a bad token or limit is 400", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { body } = await dehydratedBody(alice);
    await putOk(alice, body);
    for (const [who, deviceId] of [
      [alice, alice.device_id],
      [bob, body.device_id],
      [alice, "NOTADEVICE"],
    ] as const) {
      const res = await getEvents(who, deviceId);
      expect(res.status).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
    }
    for (const q of ["?from=nonsense", "?limit=0", "?limit=abc"]) {
      const res = await getEvents(alice, body.device_id, q);
      expect(res.status, q).toBe(400);
      expect(res.body.errcode, q).toBe("M_INVALID_PARAM");
    }
    // A logged-in device's own inbox is not readable this way, and is untouched by it.
    const phone = await loginOk(alice.username, alice.password);
    await sendToDevice(bob, alice.user_id, phone.device_id, 7);
    expect((await getEvents(alice, phone.device_id)).status).toBe(403);
  });

  it("a replaced device's queue goes with it", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const first = (await dehydratedBody(alice)).body;
    await putOk(alice, first);
    await sendToDevice(bob, alice.user_id, first.device_id, 1);
    await putOk(alice, first); // same device again: keeps its queue
    expect((await getEvents(alice, first.device_id)).body.events).toHaveLength(1);
    const second = (await dehydratedBody(alice)).body;
    await putOk(alice, second);
    // The first device id comes back as a new device: the old queue is not there any more.
    await putOk(alice, first);
    expect((await getEvents(alice, first.device_id)).body.events).toEqual([]);
  });
});
