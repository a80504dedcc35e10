/**
 * End-to-end encryption keys (spec: Client-Server § End-to-End Encryption, § Key management API):
 * POST /keys/upload, /keys/query, /keys/claim, GET /keys/changes, and the E2EE fields of /sync.
 * Device keys are built and signed with a real ed25519 key, as a client's crypto library does.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/matrix/canonical-json";
import { signingKeyFromSeed, signJson, type SigningKey } from "../../src/matrix/signing";
import { claimOneTimeKeys } from "../../src/storage/d1/e2ee-keys";
import { call, loginOk, passwordAuth, registerUser, testEnv } from "./helpers";
import { createRoom, joinOk, putState, roomPath } from "./room-helpers";

const V3 = "/_matrix/client/v3";

interface Session {
  user_id: string;
  device_id: string;
  access_token: string;
}

function newSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

/** The device's own ed25519 key, named `ed25519:<device_id>` and "owned" by the user (signJson's serverName slot). */
function deviceSigningKey(s: Session, seed = newSeed()): Promise<SigningKey> {
  return signingKeyFromSeed(seed, s.user_id, `ed25519:${s.device_id}`);
}

/** Device keys for `s`, self-signed with `signer` (the device's own key unless a test forges it). */
async function deviceKeys(s: Session, own: SigningKey, signer: SigningKey = own, extra: JsonObject = {}): Promise<JsonObject> {
  const unsigned: JsonObject = {
    user_id: s.user_id,
    device_id: s.device_id,
    algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
    keys: { [`ed25519:${s.device_id}`]: own.publicKey, [`curve25519:${s.device_id}`]: `curve${s.device_id}` },
    ...extra,
  };
  return signJson(unsigned, signer);
}

/** A signed one-time (or fallback) key object as Rust crypto uploads them. */
async function signedKey(own: SigningKey, key: string, fallback = false): Promise<JsonObject> {
  return signJson({ key, ...(fallback ? { fallback: true } : {}) }, own);
}

function upload(s: Session, body: unknown) {
  return call("POST", `${V3}/keys/upload`, { token: s.access_token, body });
}

async function uploadOk(s: Session, body: unknown): Promise<Record<string, number>> {
  const res = await upload(s, body);
  if (res.status !== 200) throw new Error(`keys/upload: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.one_time_key_counts;
}

function query(s: Session, deviceKeysRequest: Record<string, string[]>) {
  return call("POST", `${V3}/keys/query`, { token: s.access_token, body: { device_keys: deviceKeysRequest } });
}

function claim(s: Session, oneTimeKeys: Record<string, Record<string, string>>) {
  return call("POST", `${V3}/keys/claim`, { token: s.access_token, body: { one_time_keys: oneTimeKeys } });
}

function changes(s: Session, from: string, to: string) {
  return call("GET", `${V3}/keys/changes?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { token: s.access_token });
}

async function sync(s: Session, since?: string, timeout = 0): Promise<any> {
  const res = await call("GET", `${V3}/sync?timeout=${timeout}${since ? `&since=${since}` : ""}`, { token: s.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Syncs from `since` until `pred` holds for a response: room deliveries reach user objects asynchronously. */
async function syncUntil(s: Session, since: string, pred: (body: any) => boolean, ms = 5000): Promise<any> {
  const deadline = Date.now() + ms;
  let body: any;
  do {
    body = await sync(s, since, 500);
    if (pred(body)) return body;
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

/** Syncs forward from `since` until a sync has no news, and returns the token to continue from. */
async function settle(s: Session, since?: string): Promise<string> {
  let token = since ?? (await sync(s)).next_batch;
  for (;;) {
    const body = await sync(s, token, 300);
    if (body.next_batch === token) return token;
    token = body.next_batch;
  }
}

/** Everything `device_lists` mentions between `since` and now, over as many syncs as it takes. */
async function deviceListsSince(s: Session, since: string): Promise<{ changed: string[]; left: string[] }> {
  const changed = new Set<string>();
  const left = new Set<string>();
  let token = since;
  for (;;) {
    const body = await sync(s, token, 300);
    for (const u of body.device_lists?.changed ?? []) changed.add(u);
    for (const u of body.device_lists?.left ?? []) left.add(u);
    if (body.next_batch === token) return { changed: [...changed].sort(), left: [...left].sort() };
    token = body.next_batch;
  }
}

describe("POST /keys/upload", () => {
  it("stores device keys, one-time keys and a fallback key, and counts the one-time keys by algorithm", async () => {
    const alice = await registerUser();
    const key = await deviceSigningKey(alice);
    const keys = await deviceKeys(alice, key);
    const counts = await uploadOk(alice, {
      device_keys: keys,
      one_time_keys: {
        "signed_curve25519:AAAAAQ": await signedKey(key, "otk1"),
        "signed_curve25519:AAAAAg": await signedKey(key, "otk2"),
        "curve25519:AAAAAw": "plain",
      },
      fallback_keys: { "signed_curve25519:AAAABA": await signedKey(key, "fb1", true) },
    });
    expect(counts).toEqual({ signed_curve25519: 2, curve25519: 1 });

    const res = await query(alice, { [alice.user_id]: [] });
    expect(res.status).toBe(200);
    expect(res.body.device_keys[alice.user_id][alice.device_id]).toEqual({ ...keys, unsigned: {} });

    // An upload with nothing in it just reports the counts; signed_curve25519 is always there.
    const bob = await registerUser();
    expect(await uploadOk(bob, {})).toEqual({ signed_curve25519: 0 });
  });

  it("refuses device keys of another user or another device (400 M_BAD_JSON, as Synapse)", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const key = await deviceSigningKey(alice);
    const otherUser = await deviceKeys({ ...alice, user_id: bob.user_id }, key);
    const r1 = await upload(alice, { device_keys: otherUser });
    expect(r1.status).toBe(400);
    expect(r1.body.errcode).toBe("M_BAD_JSON");
    expect(r1.body.error).toMatch(/user_id/);

    const otherDevice = await deviceKeys({ ...alice, device_id: "NOTMINE" }, await signingKeyFromSeed(newSeed(), alice.user_id, "ed25519:NOTMINE"));
    const r2 = await upload(alice, { device_keys: otherDevice });
    expect(r2.status).toBe(400);
    expect(r2.body.errcode).toBe("M_BAD_JSON");
    expect(r2.body.error).toMatch(/device_id/);

    expect((await query(bob, { [alice.user_id]: [], [bob.user_id]: [] })).body.device_keys).toEqual({ [alice.user_id]: {}, [bob.user_id]: {} });
  });

  it("refuses device keys whose self-signature doesn't verify with the device's own ed25519 key", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const forger = await deviceSigningKey(alice); // same key id, another key: a forged signature
    const forged = await upload(alice, { device_keys: await deviceKeys(alice, own, forger) });
    expect(forged.status).toBe(400);
    expect(forged.body.errcode).toBe("M_INVALID_PARAM");

    // Signed correctly, then altered: the signature no longer covers what is uploaded.
    const signed = await deviceKeys(alice, own);
    const tampered = await upload(alice, { device_keys: { ...signed, algorithms: ["m.olm.v1.curve25519-aes-sha2"] } });
    expect(tampered.status).toBe(400);
    expect(tampered.body.errcode).toBe("M_INVALID_PARAM");

    // No signature at all, and no ed25519 key to check one with.
    const { signatures: _s, ...unsignedKeys } = signed;
    const noSig = await upload(alice, { device_keys: { ...unsignedKeys, signatures: {} } });
    expect(noSig.status).toBe(400);
    expect(noSig.body.errcode).toBe("M_INVALID_PARAM");
    const noKey = await upload(alice, { device_keys: { ...signed, keys: { [`curve25519:${alice.device_id}`]: "c" } } });
    expect(noKey.status).toBe(400);
    expect(noKey.body.errcode).toBe("M_INVALID_PARAM");

    // Nothing was stored by any of them.
    expect((await query(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id]).toEqual({});
    // The correctly signed keys are accepted.
    expect((await upload(alice, { device_keys: signed })).status).toBe(200);
  });

  it("accepts the same identity keys again (e.g. with a new signature) but refuses different ones for the same device", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const first = await deviceKeys(alice, own);
    await uploadOk(alice, { device_keys: first });
    // Same keys, more algorithms: accepted and stored.
    const updated = await deviceKeys(alice, own, own, { algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2", "x.test"] });
    await uploadOk(alice, { device_keys: updated });
    expect((await query(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id][alice.device_id].algorithms).toContain("x.test");

    // A new ed25519 key for the same device, correctly self-signed: refused, the old keys stay.
    const replacement = await deviceSigningKey(alice);
    const res = await upload(alice, {
      device_keys: await deviceKeys(alice, replacement),
      one_time_keys: { "signed_curve25519:N1": await signedKey(replacement, "n1") },
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
    // Nothing of the refused upload was stored.
    expect(await uploadOk(alice, {})).toEqual({ signed_curve25519: 0 });
    const stored = (await query(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id][alice.device_id];
    expect(stored.keys[`ed25519:${alice.device_id}`]).toBe(own.publicKey);
  });

  it("one-time keys: the same id again with the same content is a no-op, with other content is refused", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const k1 = await signedKey(own, "one");
    expect(await uploadOk(alice, { one_time_keys: { "signed_curve25519:A1": k1 } })).toEqual({ signed_curve25519: 1 });
    expect(await uploadOk(alice, { one_time_keys: { "signed_curve25519:A1": k1, "signed_curve25519:A2": await signedKey(own, "two") } })).toEqual({
      signed_curve25519: 2,
    });
    const res = await upload(alice, { one_time_keys: { "signed_curve25519:A1": await signedKey(own, "different"), "signed_curve25519:A3": await signedKey(own, "three") } });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
    // The refused upload stored nothing, not even its new key A3.
    expect(await uploadOk(alice, {})).toEqual({ signed_curve25519: 2 });
  });

  it("refuses malformed key names, non-integer numbers and two fallback keys of one algorithm", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const badName = await upload(alice, { one_time_keys: { nocolon: "k" } });
    expect(badName.status).toBe(400);
    expect(badName.body.errcode).toBe("M_BAD_JSON");
    const float = await upload(alice, { one_time_keys: { "signed_curve25519:F1": { key: "k", n: 1.5 } } });
    expect(float.status).toBe(400);
    expect(float.body.errcode).toBe("M_BAD_JSON");
    const twoFallbacks = await upload(alice, {
      fallback_keys: { "signed_curve25519:B1": await signedKey(own, "fb1", true), "signed_curve25519:B2": await signedKey(own, "fb2", true) },
    });
    expect(twoFallbacks.status).toBe(400);
    expect(twoFallbacks.body.errcode).toBe("M_INVALID_PARAM");
    const notObject = await upload(alice, { device_keys: "nope" });
    expect(notObject.status).toBe(400);
    expect(notObject.body.errcode).toBe("M_BAD_JSON");
    expect((await call("POST", `${V3}/keys/upload`, { body: {} })).status).toBe(401);
  });
});

describe("POST /keys/query", () => {
  it("returns all devices with keys or just the listed ones, with the device display name, and nothing for devices without keys", async () => {
    const alice = await registerUser(undefined, undefined, { initial_device_display_name: "Alice's laptop" });
    const aliceKey = await deviceSigningKey(alice);
    await uploadOk(alice, { device_keys: await deviceKeys(alice, aliceKey) });
    const phone = await loginOk(alice.username, alice.password, { initial_device_display_name: "Alice's phone" });
    const phoneKey = await deviceSigningKey(phone);
    await uploadOk(phone, { device_keys: await deviceKeys(phone, phoneKey) });
    await loginOk(alice.username, alice.password); // a third device that never uploads keys
    const bob = await registerUser();

    const all = await query(bob, { [alice.user_id]: [] });
    expect(all.status).toBe(200);
    const devices = all.body.device_keys[alice.user_id];
    expect(Object.keys(devices).sort()).toEqual([alice.device_id, phone.device_id].sort());
    expect(devices[alice.device_id].unsigned).toEqual({ device_display_name: "Alice's laptop" });
    expect(devices[phone.device_id].unsigned).toEqual({ device_display_name: "Alice's phone" });
    expect(devices[phone.device_id].keys[`ed25519:${phone.device_id}`]).toBe(phoneKey.publicKey);
    expect(all.body.failures).toEqual({});
    // No cross-signing keys were uploaded: no such sections.
    expect(all.body.master_keys).toBeUndefined();
    expect(all.body.self_signing_keys).toBeUndefined();
    expect(all.body.user_signing_keys).toBeUndefined();

    const one = await query(bob, { [alice.user_id]: [phone.device_id, "NOSUCHDEVICE"] });
    expect(Object.keys(one.body.device_keys[alice.user_id])).toEqual([phone.device_id]);

    // A renamed device shows its new name.
    await call("PUT", `${V3}/devices/${phone.device_id}`, { token: phone.access_token, body: { display_name: "Renamed" } });
    expect((await query(bob, { [alice.user_id]: [phone.device_id] })).body.device_keys[alice.user_id][phone.device_id].unsigned).toEqual({
      device_display_name: "Renamed",
    });
  });

  it("puts users of other servers under failures and unknown local users as empty; refuses malformed user ids", async () => {
    const bob = await registerUser();
    const res = await query(bob, { "@someone:elsewhere.example": [], "@nobody:test.local": [] });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.failures)).toEqual(["elsewhere.example"]);
    expect(res.body.device_keys).toEqual({ "@nobody:test.local": {} });
    const bad = await query(bob, { "not a user id": [] });
    expect(bad.status).toBe(400);
    expect(bad.body.errcode).toBe("M_INVALID_PARAM");
    const missing = await call("POST", `${V3}/keys/query`, { token: bob.access_token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_BAD_JSON");
  });

  it("returns stored cross-signing keys; the user-signing key only to its owner", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const master = { user_id: alice.user_id, usage: ["master"], keys: { "ed25519:M": "M" } };
    const selfSigning = { user_id: alice.user_id, usage: ["self_signing"], keys: { "ed25519:S": "S" } };
    const userSigning = { user_id: alice.user_id, usage: ["user_signing"], keys: { "ed25519:U": "U" } };
    // Stored directly, so that this covers what /keys/query does with whatever is stored
    // (uploading them is tested in cross-signing.test.ts).
    await testEnv.DB.batch(
      [
        ["master", master],
        ["self_signing", selfSigning],
        ["user_signing", userSigning],
      ].map(([type, key]) =>
        testEnv.DB.prepare("INSERT INTO e2e_cross_signing_keys (user_id, key_type, key_json, updated_ts) VALUES (?, ?, ?, 0)").bind(alice.user_id, type, JSON.stringify(key)),
      ),
    );
    const byBob = (await query(bob, { [alice.user_id]: [] })).body;
    expect(byBob.master_keys).toEqual({ [alice.user_id]: master });
    expect(byBob.self_signing_keys).toEqual({ [alice.user_id]: selfSigning });
    expect(byBob.user_signing_keys).toBeUndefined();
    const byAlice = (await query(alice, { [alice.user_id]: [] })).body;
    expect(byAlice.user_signing_keys).toEqual({ [alice.user_id]: userSigning });
  });

  it("a deleted device's keys are gone", async () => {
    const alice = await registerUser();
    const phone = await loginOk(alice.username, alice.password);
    const phoneKey = await deviceSigningKey(phone);
    await uploadOk(phone, { device_keys: await deviceKeys(phone, phoneKey), one_time_keys: { "signed_curve25519:X": await signedKey(phoneKey, "x") } });
    expect(Object.keys((await query(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id])).toEqual([phone.device_id]);
    expect((await call("POST", `${V3}/logout`, { token: phone.access_token })).status).toBe(200);
    expect((await query(alice, { [alice.user_id]: [] })).body.device_keys[alice.user_id]).toEqual({});
    // Its one-time keys went with it.
    const n = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ?").bind(alice.user_id, phone.device_id).first<{ n: number }>();
    expect(n?.n).toBe(0);
  });
});

describe("POST /keys/claim", () => {
  it("hands out each one-time key once, oldest first, then the fallback key (which stays)", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const k1 = await signedKey(own, "first");
    const k2 = await signedKey(own, "second");
    const fb = await signedKey(own, "fallback", true);
    await uploadOk(alice, { one_time_keys: { "signed_curve25519:K1": k1, "signed_curve25519:K2": k2 }, fallback_keys: { "signed_curve25519:FB": fb } });
    const bob = await registerUser();
    const req = { [alice.user_id]: { [alice.device_id]: "signed_curve25519" } };

    const r1 = await claim(bob, req);
    expect(r1.status).toBe(200);
    expect(r1.body).toEqual({ one_time_keys: { [alice.user_id]: { [alice.device_id]: { "signed_curve25519:K1": k1 } } }, failures: {} });
    expect((await claim(bob, req)).body.one_time_keys[alice.user_id][alice.device_id]).toEqual({ "signed_curve25519:K2": k2 });
    expect(await uploadOk(alice, {})).toEqual({ signed_curve25519: 0 });
    // None left: the fallback key, again and again.
    expect((await claim(bob, req)).body.one_time_keys[alice.user_id][alice.device_id]).toEqual({ "signed_curve25519:FB": fb });
    expect((await claim(bob, req)).body.one_time_keys[alice.user_id][alice.device_id]).toEqual({ "signed_curve25519:FB": fb });
  });

  it("returns nothing for a device with no key of that algorithm, and puts other servers under failures", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    await uploadOk(alice, { one_time_keys: { "signed_curve25519:K1": await signedKey(own, "k") } });
    const bob = await registerUser();
    const res = await claim(bob, {
      [alice.user_id]: { [alice.device_id]: "curve25519", NOSUCHDEVICE: "signed_curve25519" },
      "@remote:elsewhere.example": { DEV: "signed_curve25519" },
    });
    expect(res.status).toBe(200);
    expect(res.body.one_time_keys).toEqual({});
    expect(Object.keys(res.body.failures)).toEqual(["elsewhere.example"]);
    // The signed_curve25519 key is still there.
    expect(await uploadOk(alice, {})).toEqual({ signed_curve25519: 1 });
    const bad = await claim(bob, { "not-a-user": { D: "signed_curve25519" } });
    expect(bad.status).toBe(400);
    expect(bad.body.errcode).toBe("M_INVALID_PARAM");
  });

  it("when many claims race for the last one-time key, exactly one gets it", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    const fb = await signedKey(own, "fallback", true);
    await uploadOk(alice, { one_time_keys: { "signed_curve25519:ONLY": await signedKey(own, "only") }, fallback_keys: { "signed_curve25519:FB": fb } });
    const claimers = await Promise.all(Array.from({ length: 4 }, () => registerUser()));
    const req = { [alice.user_id]: { [alice.device_id]: "signed_curve25519" } };
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => claim(claimers[i % claimers.length]!, req)));
    const got = results.map((r) => {
      expect(r.status).toBe(200);
      return Object.keys(r.body.one_time_keys[alice.user_id][alice.device_id])[0];
    });
    expect(got.filter((k) => k === "signed_curve25519:ONLY")).toHaveLength(1);
    expect(got.filter((k) => k === "signed_curve25519:FB")).toHaveLength(23);
  });

  it("the claim statement itself hands a key out once when started many times at once", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    await uploadOk(alice, { one_time_keys: { "signed_curve25519:A": await signedKey(own, "a"), "signed_curve25519:B": await signedKey(own, "b") } });
    const claimOne = { userId: alice.user_id, deviceId: alice.device_id, algorithm: "signed_curve25519" };
    // All start before any finishes: a read-then-delete would hand the same key to several.
    const results = await Promise.all(Array.from({ length: 24 }, () => claimOneTimeKeys(testEnv.DB, [claimOne])));
    const got = results.flat().map((k) => k.key_id);
    expect(got.sort()).toEqual(["signed_curve25519:A", "signed_curve25519:B"]);
  });

  it("racing claims without a fallback key: exactly one gets a key, the rest get none", async () => {
    const alice = await registerUser();
    const own = await deviceSigningKey(alice);
    await uploadOk(alice, { one_time_keys: { "signed_curve25519:ONLY": await signedKey(own, "only") } });
    const bob = await registerUser();
    const req = { [alice.user_id]: { [alice.device_id]: "signed_curve25519" } };
    const results = await Promise.all(Array.from({ length: 24 }, () => claim(bob, req)));
    const winners = results.filter((r) => r.body.one_time_keys[alice.user_id]?.[alice.device_id]?.["signed_curve25519:ONLY"]);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => Object.keys(r.body.one_time_keys).length === 0)).toHaveLength(23);
  });
});

describe("/sync: one-time key counts and fallback key types", () => {
  it("are the syncing device's own, and follow uploads and claims", async () => {
    const alice = await registerUser();
    const phone = await loginOk(alice.username, alice.password);
    const own = await deviceSigningKey(alice);
    const first = await sync(alice);
    expect(first.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(first.device_unused_fallback_key_types).toEqual([]);

    await uploadOk(alice, {
      one_time_keys: { "signed_curve25519:A": await signedKey(own, "a"), "signed_curve25519:B": await signedKey(own, "b") },
      fallback_keys: { "signed_curve25519:F1": await signedKey(own, "f1", true) },
    });
    const after = await sync(alice, first.next_batch);
    expect(after.device_one_time_keys_count).toEqual({ signed_curve25519: 2 });
    expect(after.device_unused_fallback_key_types).toEqual(["signed_curve25519"]);
    // The other device of the same user has none.
    const phoneSync = await sync(phone);
    expect(phoneSync.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(phoneSync.device_unused_fallback_key_types).toEqual([]);

    const bob = await registerUser();
    const req = { [alice.user_id]: { [alice.device_id]: "signed_curve25519" } };
    await claim(bob, req);
    await claim(bob, req);
    expect((await sync(alice)).device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect((await sync(alice)).device_unused_fallback_key_types).toEqual(["signed_curve25519"]);
    // The fallback key handed out: used.
    await claim(bob, req);
    expect((await sync(alice)).device_unused_fallback_key_types).toEqual([]);
    // Uploading the same fallback key again keeps it used; a new one is unused.
    await uploadOk(alice, { fallback_keys: { "signed_curve25519:F1": await signedKey(own, "f1", true) } });
    expect((await sync(alice)).device_unused_fallback_key_types).toEqual([]);
    await uploadOk(alice, { fallback_keys: { "signed_curve25519:F2": await signedKey(own, "f2", true) } });
    expect((await sync(alice)).device_unused_fallback_key_types).toEqual(["signed_curve25519"]);
    expect((await claim(bob, req)).body.one_time_keys[alice.user_id][alice.device_id]).toHaveProperty(["signed_curve25519:F2"]);
  });
});

// Each of these syncs until several users' streams settle, which takes a few seconds, more when the
// whole suite shares the machine: a generous per-test limit (no test here is about speed).
describe("device lists: /sync device_lists and GET /keys/changes", { timeout: 30_000 }, () => {
  it("a key upload reaches users sharing a room (and the uploader), not others; a waiting sync wakes", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    // Alice first: her syncs push her presence to Bob, which would wake his poll below.
    const aliceToken = await settle(alice);
    const carolToken = await settle(carol);
    const bobToken = await settle(bob);

    let poll = sync(bob, bobToken, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const key = await deviceSigningKey(alice);
    await uploadOk(alice, { device_keys: await deviceKeys(alice, key) });
    let woken = await poll;
    // A late presence push may wake the poll first; the change must then be in the next one.
    while (!woken.device_lists.changed.length && Date.now() - started < 5000) woken = await (poll = sync(bob, woken.next_batch, 10_000));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(woken.device_lists.changed).toEqual([alice.user_id]);

    expect((await deviceListsSince(alice, aliceToken)).changed).toEqual([alice.user_id]);
    expect((await deviceListsSince(carol, carolToken)).changed).toEqual([]);

    // GET /keys/changes over the same span says the same, and nothing for a span after it.
    const now = woken.next_batch;
    const res = await changes(bob, bobToken, now);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ changed: [alice.user_id], left: [] });
    expect((await changes(bob, now, now)).body).toEqual({ changed: [], left: [] });
    expect((await changes(carol, carolToken, (await sync(carol)).next_batch)).body.changed).toEqual([]);
  });

  it("/keys/changes covers only the span (from, to]", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const t0 = await settle(bob);
    await uploadOk(alice, { device_keys: await deviceKeys(alice, await deviceSigningKey(alice)) });
    const t1 = (await syncUntil(bob, t0, (b) => b.device_lists.changed.includes(alice.user_id))).next_batch;
    const bobKey = await deviceSigningKey(bob);
    await uploadOk(bob, { device_keys: await deviceKeys(bob, bobKey) });
    const t2 = (await syncUntil(bob, t1, (b) => b.device_lists.changed.includes(bob.user_id))).next_batch;
    expect((await changes(bob, t0, t1)).body.changed).toEqual([alice.user_id]);
    expect((await changes(bob, t1, t2)).body.changed).toEqual([bob.user_id]);
    expect((await changes(bob, t0, t2)).body.changed).toEqual([alice.user_id, bob.user_id].sort());
    expect((await changes(bob, t2, t0)).body).toEqual({ changed: [], left: [] });
  });

  it("refuses malformed or missing tokens", async () => {
    const bob = await registerUser();
    for (const path of ["/keys/changes?from=nope&to=s1", "/keys/changes?from=s1&to=x", "/keys/changes?from=s1", "/keys/changes"]) {
      const res = await call("GET", `${V3}${path}`, { token: bob.access_token });
      expect(res.status, path).toBe(400);
      expect(res.body.errcode, path).toBe("M_INVALID_PARAM");
    }
  });

  it("joining a room: the members get the joiner as changed, the joiner gets the members; a profile change is not a change", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const aliceToken = await settle(alice);
    const bobToken = await settle(bob);
    const carol = await registerUser();
    const carolToken = await settle(carol);

    await joinOk(carol, roomId);
    const carolSees = await syncUntil(carol, carolToken, (b) => b.device_lists.changed.length >= 2);
    expect(carolSees.device_lists.changed).toEqual([alice.user_id, bob.user_id].sort());
    const aliceSees = await syncUntil(alice, aliceToken, (b) => b.device_lists.changed.includes(carol.user_id));
    expect(aliceSees.device_lists.changed).toEqual([carol.user_id]);
    expect((await changes(bob, bobToken, (await syncUntil(bob, bobToken, (b) => b.device_lists.changed.length > 0)).next_batch)).body.changed).toEqual([
      carol.user_id,
    ]);

    // Carol changes her display name: her member event is join → join, no device-list change.
    const t = await settle(alice, aliceSees.next_batch);
    expect((await putState(carol, roomId, "m.room.member", { membership: "join", displayname: "Carol C" }, carol.user_id)).status).toBe(200);
    await syncUntil(alice, t, (b) => (b.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e: any) => e.content?.displayname === "Carol C"));
    expect((await deviceListsSince(alice, t)).changed).toEqual([]);
  });

  it("leaving: `left` once no room is shared any more, not while another is", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const room1 = await createRoom(alice, { preset: "public_chat" });
    const room2 = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, room1);
    await joinOk(bob, room2);
    let aliceToken = await settle(alice);
    let bobToken = await settle(bob);

    // Bob leaves one of two shared rooms: nobody has left anybody.
    expect((await call("POST", roomPath(room1, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    await syncUntil(alice, aliceToken, (b) => Boolean(b.rooms?.join?.[room1]));
    expect(await deviceListsSince(alice, aliceToken)).toEqual({ changed: [], left: [] });
    aliceToken = await settle(alice, aliceToken);
    bobToken = await settle(bob, bobToken);

    // Bob leaves the last shared room: each is `left` for the other.
    expect((await call("POST", roomPath(room2, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    const aliceSees = await syncUntil(alice, aliceToken, (b) => b.device_lists.left.length > 0);
    expect(aliceSees.device_lists).toEqual({ changed: [], left: [bob.user_id] });
    const bobSees = await syncUntil(bob, bobToken, (b) => b.device_lists.left.length > 0);
    expect(bobSees.device_lists).toEqual({ changed: [], left: [alice.user_id] });
    expect((await changes(alice, aliceToken, aliceSees.next_batch)).body).toEqual({ changed: [], left: [bob.user_id] });

    // After that, Alice's key changes no longer reach Bob.
    const t = await settle(bob, bobSees.next_batch);
    await uploadOk(alice, { device_keys: await deviceKeys(alice, await deviceSigningKey(alice)) });
    expect((await deviceListsSince(bob, t)).changed).toEqual([]);
  });

  it("a key change of someone no longer sharing a room by the time of the sync is `left`, not `changed`", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    await settle(alice);
    const bobToken = await settle(bob);
    await uploadOk(alice, { device_keys: await deviceKeys(alice, await deviceSigningKey(alice)) });
    expect((await call("POST", roomPath(roomId, "/leave"), { token: bob.access_token, body: {} })).status).toBe(200);
    await syncUntil(bob, bobToken, (b) => Boolean(b.rooms?.leave?.[roomId]));
    expect(await deviceListsSince(bob, bobToken)).toEqual({ changed: [], left: [alice.user_id] });
  });

  it("deleting a device (logout, DELETE /devices) reaches users sharing a room", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const phone = await loginOk(bob.username, bob.password);
    await uploadOk(phone, { device_keys: await deviceKeys(phone, await deviceSigningKey(phone)) });
    let aliceToken = await settle(alice);

    expect((await call("POST", `${V3}/logout`, { token: phone.access_token })).status).toBe(200);
    let seen = await syncUntil(alice, aliceToken, (b) => b.device_lists.changed.includes(bob.user_id));
    expect(seen.device_lists.changed).toEqual([bob.user_id]);

    aliceToken = await settle(alice, seen.next_batch);
    const tablet = await loginOk(bob.username, bob.password);
    const del = await call("DELETE", `${V3}/devices/${tablet.device_id}`, { token: bob.access_token, body: { auth: passwordAuth(bob.user_id) } });
    expect(del.status).toBe(200);
    seen = await syncUntil(alice, aliceToken, (b) => b.device_lists.changed.includes(bob.user_id));
    expect(seen.device_lists.changed).toEqual([bob.user_id]);
  });
});
