/**
 * End-to-end encryption between two matrix-js-sdk clients with Rust crypto against the real
 * server (issue 5): an encrypted room and a message only the devices in it can read; cross-signing
 * and secret storage, so that each user's devices are verified; a key backup, from which a second
 * device of bob's gets the earlier history back with nothing but his recovery key; and one-time
 * keys of a real device handed out once each when many claims race (spec § Key management API,
 * POST /keys/claim).
 *
 * The tests run in order and build on each other, as a user's story does.
 */
import * as sdk from "matrix-js-sdk";
import { CrossSigningKey, EventShieldReason } from "matrix-js-sdk/lib/crypto-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginUser, registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";
import {
  backedUpSession,
  claimOneTimeKey,
  decryptedBody,
  oneTimeKeyCounts,
  passwordAuth,
  startCryptoClient,
  timelineEvent,
  UserSecrets,
  waitFor,
  type CryptoClient,
} from "./support/crypto";

const { baseUrl } = sharedServer();

const MEGOLM = "m.megolm.v1.aes-sha2";

let aliceAccount: Account;
let bobAccount: Account;
let aliceSecrets: UserSecrets;
let bobSecrets: UserSecrets;
let alice: CryptoClient;
let bob: CryptoClient;
const started: CryptoClient[] = [];

/** The encrypted room and alice's message in it (set by the first test). */
let roomId: string;
let eventId: string;
let body: string;

beforeAll(async () => {
  [aliceAccount, bobAccount] = await Promise.all([
    registerUser(baseUrl, { username: uniqueUsername("alice") }),
    registerUser(baseUrl, { username: uniqueUsername("bob") }),
  ]);
  aliceSecrets = new UserSecrets(aliceAccount.password);
  bobSecrets = new UserSecrets(bobAccount.password);
  [alice, bob] = await Promise.all([startCryptoClient(baseUrl, aliceAccount, aliceSecrets, "alice"), startCryptoClient(baseUrl, bobAccount, bobSecrets, "bob")]);
  started.push(alice, bob);
});

afterAll(() => {
  for (const c of started) c.stop();
});

describe("end-to-end encryption between two users", () => {
  it("alice's message reaches bob's device encrypted, and bob's client decrypts exactly that text", async () => {
    ({ room_id: roomId } = await alice.client.createRoom({
      preset: sdk.Preset.PrivateChat,
      name: "Secret plans",
      initial_state: [{ type: sdk.EventType.RoomEncryption, state_key: "", content: { algorithm: MEGOLM } }],
    }));
    await alice.client.invite(roomId, bob.userId);
    await waitFor(bob.client, () => bob.client.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Invite, "bob's client to see the invite");
    await bob.client.joinRoom(roomId);
    await waitFor(alice.client, () => alice.client.getRoom(roomId)?.getMember(bob.userId)?.membership === sdk.KnownMembership.Join, "alice's client to see bob join");
    // Bob's client learns the room's encryption from its state once his join has synced.
    await waitFor(bob.client, () => bob.client.getRoom(roomId)?.getMyMembership() === sdk.KnownMembership.Join, "bob's client to see his join");
    expect(await alice.crypto.isEncryptionEnabledInRoom(roomId)).toBe(true);
    expect(await waitFor(bob.client, () => bob.crypto.isEncryptionEnabledInRoom(roomId), "bob's crypto to know the room is encrypted")).toBe(true);

    body = `the eagle lands at ${Date.now()}`;
    ({ event_id: eventId } = await alice.client.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body }));

    // What the server stored and hands out is ciphertext.
    const raw = await bob.client.fetchRoomEvent(roomId, eventId);
    expect(raw.type).toBe("m.room.encrypted");
    expect(raw.content).toMatchObject({ algorithm: MEGOLM, ciphertext: expect.any(String), session_id: expect.any(String) });
    expect(JSON.stringify(raw)).not.toContain(body);

    // Bob's device got the megolm session over Olm (/keys/query, /keys/claim, /sendToDevice, /sync to_device) and decrypts.
    await waitFor(bob.client, () => decryptedBody(timelineEvent(bob.client, roomId, eventId)), "bob's client to decrypt alice's message", 30_000);
    const shown = timelineEvent(bob.client, roomId, eventId)!;
    expect(shown.getSender()).toBe(alice.userId);
    expect(shown.getWireType()).toBe("m.room.encrypted");
    expect(shown.getContent()).toMatchObject({ msgtype: sdk.MsgType.Text, body });
    // The session came from alice's device, the one that sent the event.
    const info = await bob.crypto.getEncryptionInfoForEvent(shown);
    expect(info).not.toBeNull();
    expect(info!.shieldReason).not.toBe(EventShieldReason.UNKNOWN_DEVICE);
  });

  it("cross-signing is bootstrapped and each user's device cross-signed; replacing the keys takes the password; the other user sees them", async () => {
    for (const [user, secrets] of [
      [alice, aliceSecrets],
      [bob, bobSecrets],
    ] as const) {
      // Uploads the master, self-signing and user-signing keys (POST /keys/device_signing/upload;
      // the callback does UIA with the password if the server asks) and the device's signature
      // (POST /keys/signatures/upload).
      await user.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(user.userId, secrets.password) });
      expect(await user.crypto.isCrossSigningReady()).toBe(true);
    }
    for (const user of [alice, bob]) {
      // The client trusts its device once /keys/query hands back its device keys with the new
      // signature (the upload puts the user in everyone's device list changes, its own included).
      const own = await waitFor(
        user.client,
        async () => {
          const status = await user.crypto.getDeviceVerificationStatus(user.userId, user.deviceId);
          return status?.crossSigningVerified ? status : undefined;
        },
        `${user.userId}'s device to be verified by its own cross-signing identity`,
      );
      expect(own.isVerified()).toBe(true);
      expect(own.signedByOwner).toBe(true);
    }

    // Replacing existing keys (Element's "reset cryptographic identity") needs the password: the
    // server answers 401 offering m.login.password, then takes the keys with that stage done.
    const aliceMasterBefore = await alice.crypto.getCrossSigningKeyId(CrossSigningKey.Master);
    const reauth = passwordAuth(alice.userId, aliceSecrets.password);
    await alice.crypto.bootstrapCrossSigning({ setupNewCrossSigning: true, authUploadDeviceSigningKeys: reauth });
    expect(reauth.challenges).toEqual([expect.arrayContaining([{ stages: ["m.login.password"] }])]);
    const aliceMaster = await alice.crypto.getCrossSigningKeyId(CrossSigningKey.Master);
    expect(aliceMaster).not.toBe(aliceMasterBefore);
    await waitFor(
      alice.client,
      async () => (await alice.crypto.getDeviceVerificationStatus(alice.userId, alice.deviceId))?.crossSigningVerified,
      "alice's device to be verified by her new cross-signing identity",
    );
    await waitFor(
      bob.client,
      async () => Object.values((await bob.crypto.getUserCrossSigningKeys(alice.userId))?.master_key?.keys ?? {})[0] === aliceMaster,
      "bob's client to see alice's new master key",
    );

    // The other user's client gets the same through /keys/query: bob's master key, and bob's device
    // signed by his self-signing key.
    await waitFor(
      alice.client,
      async () => (await alice.crypto.getDeviceVerificationStatus(bob.userId, bob.deviceId))?.signedByOwner,
      "alice's client to see bob's device signed by bob's cross-signing key",
    );
    const bobMaster = await bob.crypto.getCrossSigningKeyId(CrossSigningKey.Master);
    expect(bobMaster).toEqual(expect.any(String));
    expect(Object.values((await alice.crypto.getUserCrossSigningKeys(bob.userId))?.master_key?.keys ?? {})).toEqual([bobMaster]);
  });

  it("secret storage is bootstrapped with a recovery key and holds the cross-signing keys and a new key backup's key", async () => {
    for (const [user, secrets] of [
      [alice, aliceSecrets],
      [bob, bobSecrets],
    ] as const) {
      // A new recovery key, which the user writes down in its printed form; the client asks for it
      // through getSecretStorageKey whenever it needs a secret.
      const recoveryKey = await user.crypto.createRecoveryKeyFromPassphrase();
      expect(recoveryKey.encodedPrivateKey).toMatch(/^Es[1-9A-HJ-NP-Za-km-z ]+$/);
      secrets.recoveryKey = recoveryKey.encodedPrivateKey;

      // Stores the key description and the cross-signing private keys in account data (secret
      // storage), creates a key backup version (POST /room_keys/version) and stores its key too.
      await user.crypto.bootstrapSecretStorage({
        createSecretStorageKey: async () => recoveryKey,
        setupNewSecretStorage: true,
        setupNewKeyBackup: true,
      });

      expect(await user.crypto.isSecretStorageReady()).toBe(true);
      expect(await user.crypto.getCrossSigningStatus()).toMatchObject({
        publicKeysOnDevice: true,
        privateKeysInSecretStorage: true,
        privateKeysCachedLocally: { masterKey: true, selfSigningKey: true, userSigningKey: true },
      });
      const version = await user.crypto.getActiveSessionBackupVersion();
      expect(version).toEqual(expect.any(String));
      // The backup is signed by the device and the master key, so the client trusts it.
      const info = await user.crypto.getKeyBackupInfo();
      expect(info?.version).toBe(version);
      expect(await user.crypto.isKeyBackupTrusted(info!)).toMatchObject({ trusted: true, matchesDecryptionKey: true });
    }
  });

  it("bob's device backs up the room key of alice's message to the server", async () => {
    const version = (await bob.crypto.getActiveSessionBackupVersion())!;
    const sessionId = timelineEvent(bob.client, roomId, eventId)!.getWireContent().session_id as string;
    // The backup loop uploads every key the device holds once the backup is enabled (PUT /room_keys/keys).
    const stored = await waitFor(bob.client, () => backedUpSession(bob.client, version, roomId, sessionId), "bob's device to upload the room key to the backup", 30_000);
    expect(stored).toMatchObject({ first_message_index: 0, is_verified: expect.any(Boolean), session_data: { ciphertext: expect.any(String), ephemeral: expect.any(String), mac: expect.any(String) } });
    // Only the encrypted form is on the server.
    expect(JSON.stringify(stored)).not.toContain(body);
  });

  it("bob's second device is verified through secret storage and decrypts the earlier history from the key backup", async () => {
    const session = await loginUser(baseUrl, bobAccount.username, bobSecrets.password);
    const bob2 = await startCryptoClient(baseUrl, session, bobSecrets, "bob 2");
    started.push(bob2);
    expect(bob2.deviceId).not.toBe(bob.deviceId);

    // The new device was not in the room when alice sent, so nobody shared the session with it: it
    // sees the message, but can't read it (the SDK never asks other devices for keys).
    const before = await waitFor(
      bob2.client,
      () => {
        const ev = timelineEvent(bob2.client, roomId, eventId);
        return ev && !ev.isBeingDecrypted() && ev.isDecryptionFailure() ? ev : undefined;
      },
      "bob's new device to fail to decrypt the earlier message",
    );
    expect(before.getContent().body).not.toBe(body);
    expect(await bob2.crypto.getActiveSessionBackupVersion()).toBeNull();

    // Like Element after a login: does the account have a cross-signing identity to verify against?
    // (downloads bob's own keys, with the user-signing key only the owner gets, from /keys/query)
    expect(await bob2.crypto.userHasCrossSigningKeys(bob2.userId, true)).toBe(true);
    expect((await bob2.crypto.getDeviceVerificationStatus(bob2.userId, bob2.deviceId))?.crossSigningVerified).toBe(false);
    // With the recovery key, the device takes the cross-signing keys from secret storage and signs itself.
    await bob2.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(bob2.userId, bobSecrets.password) });
    expect(await bob2.crypto.isCrossSigningReady()).toBe(true);
    await waitFor(
      bob2.client,
      async () => (await bob2.crypto.getDeviceVerificationStatus(bob2.userId, bob2.deviceId))?.crossSigningVerified,
      "bob's new device to be verified by his cross-signing identity",
    );
    // Bob's first device learns of the signature through the device list and trusts the new one too.
    await waitFor(
      bob.client,
      async () => (await bob.crypto.getDeviceVerificationStatus(bob.userId, bob2.deviceId))?.crossSigningVerified,
      "bob's first device to see the second one as cross-signed",
    );

    // The backup key from secret storage, then the restore (GET /room_keys/version, GET /room_keys/keys).
    await bob2.crypto.loadSessionBackupPrivateKeyFromSecretStorage();
    const restored = await bob2.crypto.restoreKeyBackup();
    expect(restored.imported).toBeGreaterThanOrEqual(1);
    expect(restored.total).toBeGreaterThanOrEqual(restored.imported);

    // The client retries the failed event with the imported session and shows alice's text.
    await waitFor(bob2.client, () => decryptedBody(timelineEvent(bob2.client, roomId, eventId)), "bob's new device to decrypt the earlier message", 30_000);
    const shown = timelineEvent(bob2.client, roomId, eventId)!;
    expect(shown.getSender()).toBe(alice.userId);
    expect(shown.getContent()).toMatchObject({ msgtype: sdk.MsgType.Text, body });
  });
});

describe("one-time keys of a real device under racing claims", () => {
  it("hand out each of the device's N one-time keys exactly once, then only its fallback key", async () => {
    const carolAccount = await registerUser(baseUrl, { username: uniqueUsername("carol") });
    const carol = await startCryptoClient(baseUrl, carolAccount, new UserSecrets(carolAccount.password), "carol");
    // The Rust crypto uploads its device keys, a batch of one-time keys and a fallback key after the first sync.
    await waitFor(carol.client, async () => ((await oneTimeKeyCounts(baseUrl, carolAccount.accessToken)).signed_curve25519 ?? 0) > 0, "carol's device to upload one-time keys");
    // Stopped, the device can't top its keys up while they are being claimed.
    carol.stop();
    const n = (await oneTimeKeyCounts(baseUrl, carolAccount.accessToken)).signed_curve25519!;
    expect(n).toBeGreaterThan(0);

    // Twice as many claims as keys, from two users, all sent at once.
    const claimers = [aliceAccount.accessToken, bobAccount.accessToken];
    const results = await Promise.all(Array.from({ length: 2 * n }, (_, i) => claimOneTimeKey(baseUrl, claimers[i % 2]!, carol.userId, carol.deviceId)));

    const oneTime = results.filter((r) => !r.fallback).map((r) => r.keyId);
    const fallback = results.filter((r) => r.fallback);
    // Every one-time key went to exactly one claimer...
    expect(oneTime).toHaveLength(n);
    expect(new Set(oneTime).size).toBe(n);
    // ...and the claims that came too late got the device's fallback key, always the same one.
    expect(fallback).toHaveLength(n);
    expect(new Set(fallback.map((r) => r.keyId)).size).toBe(1);
    expect((await oneTimeKeyCounts(baseUrl, carolAccount.accessToken)).signed_curve25519 ?? 0).toBe(0);
  });
});
