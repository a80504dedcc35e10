/**
 * Cross-signing (spec: Client-Server § Cross-signing): POST /keys/device_signing/upload and
 * POST /keys/signatures/upload, and what /keys/query and /sync then show. Keys are real ed25519
 * keys and signatures, as Rust crypto makes them.
 */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/matrix/canonical-json";
import { signJson } from "../../src/matrix/signing";
import { putCrossSigningKeysStatements } from "../../src/storage/d1/cross-signing";
import {
  crossSigningKey,
  crossSigningPair,
  crossSigningSet,
  deviceKeys,
  deviceListsSince,
  deviceSigningKey,
  queryKeys,
  settle,
  uploadKeysOk,
  V3,
  type Session,
} from "./e2ee-helpers";
import { call, loginOk, passwordAuth, registerUser, testEnv } from "./helpers";
import { createRoom, joinOk } from "./room-helpers";

function uploadSigning(s: Session, body: unknown) {
  return call("POST", `${V3}/keys/device_signing/upload`, { token: s.access_token, body });
}

function uploadSignatures(s: Session, body: unknown) {
  return call("POST", `${V3}/keys/signatures/upload`, { token: s.access_token, body });
}

async function storedCrossSigningTypes(userId: string): Promise<string[]> {
  const { results } = await testEnv.DB.prepare("SELECT key_type FROM e2e_cross_signing_keys WHERE user_id = ? ORDER BY key_type").bind(userId).all<{ key_type: string }>();
  return results.map((r) => r.key_type);
}

/** A user with device keys and a full set of cross-signing keys. */
async function crossSignedUser() {
  const user = await registerUser();
  const own = await deviceSigningKey(user);
  const keys = await deviceKeys(user, own);
  await uploadKeysOk(user, { device_keys: keys });
  const set = await crossSigningSet(user.user_id);
  const res = await uploadSigning(user, set.body);
  if (res.status !== 200) throw new Error(`device_signing/upload: ${res.status} ${JSON.stringify(res.body)}`);
  return { user, own, keys, ...set };
}

describe("POST /keys/device_signing/upload", () => {
  it("the first upload needs no UIA; /keys/query shows master and self-signing keys to all, the user-signing key to its owner only", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const { body } = await crossSigningSet(alice.user_id);
    const res = await uploadSigning(alice, body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});

    const byAlice = (await queryKeys(alice, { [alice.user_id]: [] })).body;
    expect(byAlice.master_keys).toEqual({ [alice.user_id]: body.master_key });
    expect(byAlice.self_signing_keys).toEqual({ [alice.user_id]: body.self_signing_key });
    expect(byAlice.user_signing_keys).toEqual({ [alice.user_id]: body.user_signing_key });
    const byBob = (await queryKeys(bob, { [alice.user_id]: [] })).body;
    expect(byBob.master_keys).toEqual({ [alice.user_id]: body.master_key });
    expect(byBob.self_signing_keys).toEqual({ [alice.user_id]: body.self_signing_key });
    expect(byBob.user_signing_keys).toBeUndefined();
  });

  it("the same keys again need no UIA; different keys need UIA (m.login.password)", async () => {
    const { user: alice, body } = await crossSignedUser();
    expect((await uploadSigning(alice, body)).status).toBe(200);
    expect((await uploadSigning(alice, { master_key: body.master_key })).status).toBe(200);

    const next = await crossSigningSet(alice.user_id);
    const challenge = await uploadSigning(alice, next.body);
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ["m.login.password"] }]);
    expect(typeof challenge.body.session).toBe("string");
    // Not replaced yet.
    expect((await queryKeys(alice, { [alice.user_id]: [] })).body.master_keys[alice.user_id]).toEqual(body.master_key);

    const wrong = await uploadSigning(alice, { ...next.body, auth: passwordAuth(alice.user_id, "wrong password", challenge.body.session) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errcode).toBe("M_FORBIDDEN");
    const ok = await uploadSigning(alice, { ...next.body, auth: passwordAuth(alice.user_id, alice.password, challenge.body.session) });
    expect(ok.status).toBe(200);
    const after = (await queryKeys(alice, { [alice.user_id]: [] })).body;
    expect(after.master_keys[alice.user_id]).toEqual(next.body.master_key);
    expect(after.self_signing_keys[alice.user_id]).toEqual(next.body.self_signing_key);

    // A new self-signing key alone, signed by the stored master key: UIA too.
    const selfSigning = await crossSigningPair(alice.user_id);
    const onlySelf = { self_signing_key: await crossSigningKey(alice.user_id, "self_signing", selfSigning, next.master) };
    expect((await uploadSigning(alice, onlySelf)).status).toBe(401);
    expect((await uploadSigning(alice, { ...onlySelf, auth: passwordAuth(alice.user_id) })).status).toBe(200);
    expect((await queryKeys(alice, { [alice.user_id]: [] })).body.self_signing_keys[alice.user_id]).toEqual(onlySelf.self_signing_key);
  });

  it("two first uploads at once: one sets the keys up, the other must go through UIA", async () => {
    const alice = await registerUser();
    const sets = await Promise.all([crossSigningSet(alice.user_id), crossSigningSet(alice.user_id), crossSigningSet(alice.user_id)]);
    const results = await Promise.all(sets.map((set) => uploadSigning(alice, set.body)));
    const winners = results.flatMap((r, i) => (r.status === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status !== 200) expect(r.status).toBe(401);
    const stored = (await queryKeys(alice, { [alice.user_id]: [] })).body;
    const winner = sets[winners[0]!]!.body;
    expect(stored.master_keys[alice.user_id]).toEqual(winner.master_key);
    expect(stored.self_signing_keys[alice.user_id]).toEqual(winner.self_signing_key);
    expect(stored.user_signing_keys[alice.user_id]).toEqual(winner.user_signing_key);

    // The guard itself: a first-setup write that finds a master key stored writes nothing.
    const late = sets.find((_, i) => i !== winners[0])!.body;
    const statements = putCrossSigningKeysStatements(
      testEnv.DB,
      alice.user_id,
      [
        { type: "self_signing", json: JSON.stringify(late.self_signing_key) },
        { type: "master", json: JSON.stringify(late.master_key) },
      ],
      Date.now(),
      true,
    );
    const written = await testEnv.DB.batch(statements);
    expect(written.map((r) => r.meta.changes)).toEqual([0, 0]);
    expect((await queryKeys(alice, { [alice.user_id]: [] })).body.master_keys[alice.user_id]).toEqual(winner.master_key);
  });

  it("refuses malformed keys with 400 and stores nothing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const master = await crossSigningPair(alice.user_id);
    const selfSigning = await crossSigningPair(alice.user_id);
    const masterKey = await crossSigningKey(alice.user_id, "master", master);
    const cases: [string, unknown, string][] = [
      ["another user's master key", { master_key: { ...masterKey, user_id: bob.user_id } }, "M_INVALID_PARAM"],
      ["wrong usage", { master_key: { ...masterKey, usage: ["self_signing"] } }, "M_INVALID_PARAM"],
      ["two usages", { master_key: { ...masterKey, usage: ["master", "self_signing"] } }, "M_INVALID_PARAM"],
      ["two keys", { master_key: { ...masterKey, keys: { ...(masterKey.keys as JsonObject), [selfSigning.keyId]: selfSigning.publicKey } } }, "M_INVALID_PARAM"],
      ["key not named by its public key", { master_key: { ...masterKey, keys: { "ed25519:MASTER": master.publicKey } } }, "M_INVALID_PARAM"],
      ["not an ed25519 public key", { master_key: { ...masterKey, keys: { "ed25519:abc": "abc" } } }, "M_INVALID_PARAM"],
      [
        "self-signing key not signed",
        { master_key: masterKey, self_signing_key: await crossSigningKey(alice.user_id, "self_signing", selfSigning) },
        "M_INVALID_SIGNATURE",
      ],
      [
        "self-signing key signed by another key",
        { master_key: masterKey, self_signing_key: await crossSigningKey(alice.user_id, "self_signing", selfSigning, await crossSigningPair(alice.user_id)) },
        "M_INVALID_SIGNATURE",
      ],
      [
        "user-signing key signed by the master key, then altered",
        { master_key: masterKey, user_signing_key: { ...(await crossSigningKey(alice.user_id, "user_signing", selfSigning, master)), extra: 1 } },
        "M_INVALID_SIGNATURE",
      ],
      ["no master key anywhere", { self_signing_key: await crossSigningKey(alice.user_id, "self_signing", selfSigning, master) }, "M_MISSING_PARAM"],
      ["no keys at all", {}, "M_MISSING_PARAM"],
      ["a key that is not an object", { master_key: "nope" }, "M_BAD_JSON"],
    ];
    for (const [what, body, errcode] of cases) {
      const res = await uploadSigning(alice, body);
      expect(res.status, what).toBe(400);
      expect(res.body.errcode, what).toBe(errcode);
    }
    expect(await storedCrossSigningTypes(alice.user_id)).toEqual([]);
    expect((await call("POST", `${V3}/keys/device_signing/upload`, { body: { master_key: masterKey } })).status).toBe(401);
  });

  it("with keys set up, a bad replacement is refused (400) before UIA is asked for", async () => {
    const { user: alice } = await crossSignedUser();
    const master = await crossSigningPair(alice.user_id);
    const res = await uploadSigning(alice, {
      master_key: await crossSigningKey(alice.user_id, "master", master),
      self_signing_key: await crossSigningKey(alice.user_id, "self_signing", await crossSigningPair(alice.user_id)),
    });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_SIGNATURE");
  });

  it("refuses a key whose public key is one of the user's device IDs (403)", async () => {
    const alice = await registerUser();
    const master = await crossSigningPair(alice.user_id);
    await loginOk(alice.username, alice.password, { device_id: master.publicKey });
    const res = await uploadSigning(alice, { master_key: await crossSigningKey(alice.user_id, "master", master) });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    expect(await storedCrossSigningTypes(alice.user_id)).toEqual([]);
  });

  it("new master or self-signing keys reach users sharing a room; a user-signing key only its owner", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat" });
    await joinOk(bob, roomId);
    let aliceToken = await settle(alice);
    let bobToken = await settle(bob);
    const carolToken = await settle(carol);

    const set = await crossSigningSet(alice.user_id);
    expect((await uploadSigning(alice, set.body)).status).toBe(200);
    expect((await deviceListsSince(bob, bobToken)).changed).toEqual([alice.user_id]);
    expect((await deviceListsSince(alice, aliceToken)).changed).toEqual([alice.user_id]);
    expect((await deviceListsSince(carol, carolToken)).changed).toEqual([]);

    aliceToken = await settle(alice);
    bobToken = await settle(bob);
    const userSigning = await crossSigningPair(alice.user_id);
    const res = await uploadSigning(alice, {
      user_signing_key: await crossSigningKey(alice.user_id, "user_signing", userSigning, set.master),
      auth: passwordAuth(alice.user_id),
    });
    expect(res.status).toBe(200);
    expect((await deviceListsSince(alice, aliceToken)).changed).toEqual([alice.user_id]);
    expect((await deviceListsSince(bob, bobToken)).changed).toEqual([]);
  }, 30_000);
});

describe("POST /keys/signatures/upload", () => {
  it("a device signed by the self-signing key: /keys/query shows the signature to everyone", async () => {
    const { user: alice, keys, selfSigning } = await crossSignedUser();
    const bob = await registerUser();
    const signed = await signJson(keys, selfSigning);
    const res = await uploadSignatures(alice, { [alice.user_id]: { [alice.device_id]: signed } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ failures: {} });
    for (const viewer of [alice, bob]) {
      const device = (await queryKeys(viewer, { [alice.user_id]: [] })).body.device_keys[alice.user_id][alice.device_id];
      expect(device.signatures[alice.user_id]).toEqual((signed.signatures as JsonObject)[alice.user_id]);
    }
    // Uploading it again changes nothing.
    expect((await uploadSignatures(alice, { [alice.user_id]: { [alice.device_id]: signed } })).body).toEqual({ failures: {} });
  });

  it("the own master key signed by a device", async () => {
    const { user: alice, own, body } = await crossSignedUser();
    const signed = await signJson(body.master_key, own);
    const res = await uploadSignatures(alice, { [alice.user_id]: { [(await firstKeyValue(body.master_key))]: signed } });
    expect(res.body).toEqual({ failures: {} });
    const master = (await queryKeys(alice, { [alice.user_id]: [] })).body.master_keys[alice.user_id];
    expect(master.signatures[alice.user_id][own.keyId]).toBe((signed.signatures as any)[alice.user_id][own.keyId]);
  });

  it("signatures handed out by /keys/query may be sent back, even by a device that is gone since", async () => {
    const { user: alice, own, body } = await crossSignedUser();
    const masterId = firstKeyValue(body.master_key);
    expect((await uploadSignatures(alice, { [alice.user_id]: { [masterId]: await signJson(body.master_key, own) } })).body).toEqual({ failures: {} });
    const phone = await loginOk(alice.username, alice.password);
    const phoneOwn = await deviceSigningKey(phone);
    await uploadKeysOk(phone, { device_keys: await deviceKeys(phone, phoneOwn) });
    expect((await call("POST", `${V3}/logout`, { token: alice.access_token })).status).toBe(200);

    // The phone signs the master key as the query gave it: with the first device's signature in it.
    const queried = (await queryKeys(phone, { [alice.user_id]: [] })).body.master_keys[alice.user_id];
    expect(queried.signatures[alice.user_id][own.keyId]).toBeDefined();
    const res = await uploadSignatures(phone, { [alice.user_id]: { [masterId]: await signJson(queried, phoneOwn) } });
    expect(res.body).toEqual({ failures: {} });
    const master = (await queryKeys(phone, { [alice.user_id]: [] })).body.master_keys[alice.user_id];
    expect(Object.keys(master.signatures[alice.user_id]).sort()).toEqual([own.keyId, phoneOwn.keyId].sort());
  });

  it("another user's master key signed by the user-signing key: shown to the signer, who learns of the change", async () => {
    const alice = await crossSignedUser();
    const bob = await crossSignedUser();
    const roomId = await createRoom(alice.user, { preset: "public_chat" });
    await joinOk(bob.user, roomId);
    const bobToken = await settle(bob.user);
    const aliceMasterId = firstKeyValue(alice.body.master_key);
    const signed = await signJson(alice.body.master_key, bob.userSigning);
    const res = await uploadSignatures(bob.user, { [alice.user.user_id]: { [aliceMasterId]: signed } });
    expect(res.body).toEqual({ failures: {} });

    const byBob = (await queryKeys(bob.user, { [alice.user.user_id]: [] })).body.master_keys[alice.user.user_id];
    expect(byBob.signatures[bob.user.user_id][bob.userSigning.keyId]).toBe((signed.signatures as any)[bob.user.user_id][bob.userSigning.keyId]);
    const byAlice = (await queryKeys(alice.user, { [alice.user.user_id]: [] })).body.master_keys[alice.user.user_id];
    expect(byAlice.signatures?.[bob.user.user_id]).toBeUndefined();
    expect((await deviceListsSince(bob.user, bobToken)).changed).toContain(alice.user.user_id);
  }, 30_000);

  it("reports each refused signature under failures and stores the good ones of the same request", async () => {
    const alice = await crossSignedUser();
    const bob = await crossSignedUser();
    const phone = await loginOk(alice.user.username, alice.user.password);
    const phoneOwn = await deviceSigningKey(phone);
    const phoneKeys = await deviceKeys(phone, phoneOwn);
    await uploadKeysOk(phone, { device_keys: phoneKeys });
    const other = await crossSigningPair(alice.user.user_id);

    const res = await uploadSignatures(alice.user, {
      [alice.user.user_id]: {
        // good
        [alice.user.device_id]: await signJson(alice.keys, alice.selfSigning),
        // signed by a key that is not the self-signing key
        [phone.device_id]: await signJson(phoneKeys, other),
        NOSUCHDEVICE: await signJson({ ...phoneKeys, device_id: "NOSUCHDEVICE" }, alice.selfSigning),
      },
      [bob.user.user_id]: {
        // bob's self-signing key is not something alice may sign
        [firstKeyValue(bob.body.self_signing_key)]: await signJson(bob.body.self_signing_key, alice.userSigning),
        // bob's master key, altered before signing
        [firstKeyValue(bob.body.master_key)]: await signJson({ ...bob.body.master_key, usage: ["master", "x"] }, alice.userSigning),
      },
      "@someone:elsewhere.example": { KEY: { user_id: "@someone:elsewhere.example" } },
    });
    expect(res.status).toBe(200);
    const f = res.body.failures;
    expect(Object.keys(f).sort()).toEqual(["@someone:elsewhere.example", alice.user.user_id, bob.user.user_id].sort());
    expect(Object.keys(f[alice.user.user_id]).sort()).toEqual([phone.device_id, "NOSUCHDEVICE"].sort());
    expect(f[alice.user.user_id][phone.device_id].errcode).toBe("M_INVALID_SIGNATURE");
    expect(f[alice.user.user_id].NOSUCHDEVICE.errcode).toBe("M_NOT_FOUND");
    expect(f[bob.user.user_id][firstKeyValue(bob.body.self_signing_key)].errcode).toBe("M_NOT_FOUND");
    expect(f[bob.user.user_id][firstKeyValue(bob.body.master_key)].errcode).toBe("M_INVALID_PARAM");
    expect(f["@someone:elsewhere.example"].KEY.errcode).toBe("M_UNRECOGNIZED");
    for (const userFailures of Object.values(f) as Record<string, JsonObject>[]) {
      for (const failure of Object.values(userFailures)) expect(typeof failure.error).toBe("string");
    }

    const devices = (await queryKeys(bob.user, { [alice.user.user_id]: [] })).body.device_keys[alice.user.user_id];
    expect(devices[alice.user.device_id].signatures[alice.user.user_id][alice.selfSigning.keyId]).toBeDefined();
    expect(Object.keys(devices[phone.device_id].signatures[alice.user.user_id])).toEqual([phoneOwn.keyId]);
  });

  it("a forged signature, or none by the uploader, is M_INVALID_SIGNATURE; signing keys one doesn't have is M_NOT_FOUND", async () => {
    const alice = await crossSignedUser();
    const signed = (await signJson(alice.keys, alice.selfSigning)) as any;
    const forged = { ...signed, signatures: { ...signed.signatures, [alice.user.user_id]: { ...signed.signatures[alice.user.user_id], [alice.selfSigning.keyId]: signed.signatures[alice.user.user_id][alice.own.keyId] } } };
    let res = await uploadSignatures(alice.user, { [alice.user.user_id]: { [alice.user.device_id]: forged } });
    expect(res.body.failures[alice.user.user_id][alice.user.device_id].errcode).toBe("M_INVALID_SIGNATURE");
    res = await uploadSignatures(alice.user, { [alice.user.user_id]: { [alice.user.device_id]: { ...alice.keys, signatures: {} } } });
    expect(res.body.failures[alice.user.user_id][alice.user.device_id].errcode).toBe("M_INVALID_SIGNATURE");

    // Carol has device keys but no cross-signing keys: nothing to sign with.
    const carol = await registerUser();
    const carolOwn = await deviceSigningKey(carol);
    const carolKeys = await deviceKeys(carol, carolOwn);
    await uploadKeysOk(carol, { device_keys: carolKeys });
    const someKey = await crossSigningPair(carol.user_id);
    res = await uploadSignatures(carol, {
      [carol.user_id]: { [carol.device_id]: await signJson(carolKeys, someKey) },
      [alice.user.user_id]: { [firstKeyValue(alice.body.master_key)]: await signJson(alice.body.master_key, someKey) },
    });
    expect(res.body.failures[carol.user_id][carol.device_id].errcode).toBe("M_NOT_FOUND");
    expect(res.body.failures[alice.user.user_id][firstKeyValue(alice.body.master_key)].errcode).toBe("M_NOT_FOUND");
    // Nothing was stored.
    const n = await testEnv.DB.prepare("SELECT COUNT(*) AS n FROM e2e_cross_signing_signatures WHERE signer_user_id = ?").bind(carol.user_id).first<{ n: number }>();
    expect(n?.n).toBe(0);
  });

  it("signing an own device reaches users sharing a room", async () => {
    const alice = await crossSignedUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice.user, { preset: "public_chat" });
    await joinOk(bob, roomId);
    const bobToken = await settle(bob);
    await uploadSignatures(alice.user, { [alice.user.user_id]: { [alice.user.device_id]: await signJson(alice.keys, alice.selfSigning) } });
    expect((await deviceListsSince(bob, bobToken)).changed).toEqual([alice.user.user_id]);
  }, 30_000);

  it("refuses a malformed request with 400", async () => {
    const alice = await registerUser();
    const badUser = await uploadSignatures(alice, { "not a user": { K: {} } });
    expect(badUser.status).toBe(400);
    expect(badUser.body.errcode).toBe("M_INVALID_PARAM");
    const notMap = await uploadSignatures(alice, { [alice.user_id]: "nope" });
    expect(notMap.status).toBe(400);
    expect(notMap.body.errcode).toBe("M_BAD_JSON");
    const notObject = await uploadSignatures(alice, { [alice.user_id]: { [alice.device_id]: 5 } });
    expect(notObject.status).toBe(200);
    expect(notObject.body.failures[alice.user_id][alice.device_id].errcode).toBe("M_BAD_JSON");
  });
});

function firstKeyValue(key: JsonObject): string {
  return Object.values(key.keys as Record<string, string>)[0]!;
}
