/**
 * matrix-js-sdk clients with Rust crypto (@matrix-org/matrix-sdk-crypto-wasm) for the E2EE e2e test:
 * an in-memory crypto store (no IndexedDB in Node), user-interactive auth with the account's
 * password, secret storage keys handed over by the "user", and waits on what the client shows.
 */
import * as sdk from "matrix-js-sdk";
import { decodeRecoveryKey, type CryptoApi } from "matrix-js-sdk/lib/crypto-api";
import { logger as globalLogger } from "matrix-js-sdk/lib/logger";
import type { SecretStorageKeyDescription } from "matrix-js-sdk/lib/secret-storage";
import { prepared } from "./client";

/**
 * Parts of the SDK (the event send queue, MatrixRTC) log through its global loglevel logger at
 * debug level, whatever logger the client was given. Its children copy the method factory, so
 * replacing it here quiets them too; E2E_CRYPTO_LOG keeps everything.
 */
type MethodFactory = (method: string, level: number, loggerName: string | symbol) => (...msg: unknown[]) => void;
if (!process.env.E2E_CRYPTO_LOG) {
  const root = globalLogger as unknown as { methodFactory: MethodFactory; rebuild(): void };
  const factory = root.methodFactory;
  const quiet = new Set(["trace", "debug", "info", "log"]);
  root.methodFactory = (method, level, loggerName) => (quiet.has(method) ? () => {} : factory(method, level, loggerName));
  root.rebuild();
}

/**
 * The SDK and the Rust crypto log a lot at debug level. Keep warnings and errors, and print
 * everything when E2E_CRYPTO_LOG is set (what to look at when the Rust crypto rejects a response).
 */
function makeLogger(label: string): NonNullable<sdk.ICreateClientOpts["logger"]> {
  const verbose = !!process.env.E2E_CRYPTO_LOG;
  const print = (level: string) => (...msg: unknown[]) => console.log(`[${label} ${level}]`, ...msg);
  // Warnings every run has and that say nothing about the server: the SDK adding its unstable
  // (MSC) push rules, and the crypto loop noticing the client was stopped at the end of a test.
  const expected = (msg: unknown[]) => typeof msg[0] === "string" && /^Adding default global .* push rule \.org\.matrix\.msc|OutgoingRequestsManager was stopped/.test(msg[0] + String(msg[1] ?? ""));
  const logger: NonNullable<sdk.ICreateClientOpts["logger"]> = {
    trace: verbose ? print("trace") : () => {},
    debug: verbose ? print("debug") : () => {},
    info: verbose ? print("info") : () => {},
    warn: (...msg: unknown[]) => (verbose || !expected(msg)) && console.warn(`[${label}]`, ...msg),
    error: (...msg: unknown[]) => (verbose || !expected(msg)) && console.error(`[${label}]`, ...msg),
    getChild: (namespace: string) => makeLogger(`${label}${namespace}`),
  };
  return logger;
}

export interface Session {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/**
 * What a user knows: their password (for user-interactive auth) and, once they have written it
 * down, the recovery key of their secret storage in its printed form ("EsTc …"), which they type
 * in when the client asks through getSecretStorageKey.
 */
export class UserSecrets {
  recoveryKey?: string;
  constructor(readonly password: string) {}
}

export interface CryptoClient {
  client: sdk.MatrixClient;
  crypto: CryptoApi;
  userId: string;
  deviceId: string;
  stop(): void;
}

/**
 * A client for `session` with Rust crypto initialised (crypto store in memory) and its sync loop
 * started; resolves after the first sync has been processed.
 */
export async function startCryptoClient(baseUrl: string, session: Session, secrets: UserSecrets, label: string): Promise<CryptoClient> {
  const client = sdk.createClient({
    baseUrl,
    userId: session.userId,
    deviceId: session.deviceId,
    accessToken: session.accessToken,
    logger: makeLogger(label),
    cryptoCallbacks: {
      // The user types in their recovery key when the client needs a secret from secret storage.
      getSecretStorageKey: async ({ keys }: { keys: Record<string, SecretStorageKeyDescription> }): Promise<[string, Uint8Array<ArrayBuffer>] | null> => {
        if (!secrets.recoveryKey) return null;
        const privateKey = decodeRecoveryKey(secrets.recoveryKey);
        // Like Element, offer the key only for a key description it matches (its MAC check).
        for (const [keyId, info] of Object.entries(keys)) {
          if (await client.secretStorage.checkKey(privateKey, info)) return [keyId, privateKey];
        }
        return null;
      },
    },
  });
  // No IndexedDB in Node: the Rust crypto keeps its store in memory for the life of the client.
  await client.initRustCrypto({ useIndexedDB: false });
  const crypto = client.getCrypto();
  if (!crypto) throw new Error("initRustCrypto left the client without a CryptoApi");
  await client.startClient({ initialSyncLimit: 20 });
  await prepared(client);
  return {
    client,
    crypto,
    userId: session.userId,
    deviceId: session.deviceId,
    stop: () => client.stopClient(),
  };
}

/** A UIA callback that also records the flows of each 401 challenge it answered. */
export type PasswordAuth = (<T>(makeRequest: (auth: sdk.AuthDict | null) => Promise<T>) => Promise<T>) & { challenges: { stages: string[] }[][] };

/**
 * The UIA callback Element uses for /keys/device_signing/upload: try without auth (the spec lets
 * a server skip UIA for the first upload), and on 401 complete m.login.password in that session.
 */
export function passwordAuth(userId: string, password: string): PasswordAuth {
  const challenges: { stages: string[] }[][] = [];
  const callback = async <T>(makeRequest: (auth: sdk.AuthDict | null) => Promise<T>): Promise<T> => {
    try {
      return await makeRequest(null);
    } catch (err) {
      if (!(err instanceof sdk.MatrixError) || err.httpStatus !== 401 || typeof err.data.session !== "string") throw err;
      challenges.push(err.data.flows as { stages: string[] }[]);
      return await makeRequest({ type: sdk.AuthType.Password, identifier: { type: "m.id.user", user: userId }, password, session: err.data.session });
    }
  };
  return Object.assign(callback, { challenges });
}


/**
 * Resolves with the value of `check` once it is truthy, checking now, after every sync the client
 * processes and every `pollMs` (for state that changes outside the sync loop, such as the crypto
 * store); rejects with `what` after `ms`.
 */
export async function waitFor<T>(client: sdk.MatrixClient, check: () => T | Promise<T>, what: string, ms = 15_000, pollMs = 200): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, done);
        resolve();
      };
      const timer = setTimeout(done, pollMs);
      client.on(sdk.ClientEvent.Sync, done);
    });
  }
}

/** The event with id `eventId` in the room's live timeline as the client holds it, if any. */
export function timelineEvent(client: sdk.MatrixClient, roomId: string, eventId: string): sdk.MatrixEvent | undefined {
  return client.getRoom(roomId)?.getLiveTimeline().getEvents().find((e) => e.getId() === eventId);
}

/** The body the client shows for an encrypted event once it has decrypted it, or undefined. */
export function decryptedBody(event: sdk.MatrixEvent | undefined): string | undefined {
  if (!event || !event.isEncrypted() || event.isBeingDecrypted() || event.isDecryptionFailure()) return undefined;
  if (event.getType() !== sdk.EventType.RoomMessage) return undefined;
  return event.getContent().body as string | undefined;
}

/**
 * The room key `sessionId` of `roomId` as stored in backup `version` (GET /room_keys/keys/{roomId}/{sessionId}),
 * or undefined while the server answers 404 M_NOT_FOUND.
 */
export async function backedUpSession(client: sdk.MatrixClient, version: string, roomId: string, sessionId: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await client.http.authedRequest<Record<string, unknown>>(
      sdk.Method.Get,
      `/room_keys/keys/${encodeURIComponent(roomId)}/${encodeURIComponent(sessionId)}`,
      { version },
    );
  } catch (err) {
    if (err instanceof sdk.MatrixError && err.httpStatus === 404 && err.errcode === "M_NOT_FOUND") return undefined;
    throw err;
  }
}

async function postJson(baseUrl: string, path: string, accessToken: string, body: unknown): Promise<any> {
  const res = await fetch(`${baseUrl}/_matrix/client/v3${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status} ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`POST ${path} answered 200 with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** The device's one-time key counts by algorithm, as POST /keys/upload with nothing to upload reports them. */
export async function oneTimeKeyCounts(baseUrl: string, accessToken: string): Promise<Record<string, number>> {
  return ((await postJson(baseUrl, "/keys/upload", accessToken, {})) as { one_time_key_counts: Record<string, number> }).one_time_key_counts;
}

/** One POST /keys/claim for a signed_curve25519 key of the device: the key id handed out and whether it is the fallback key. */
export async function claimOneTimeKey(baseUrl: string, accessToken: string, userId: string, deviceId: string): Promise<{ keyId: string; fallback: boolean }> {
  const res = (await postJson(baseUrl, "/keys/claim", accessToken, { one_time_keys: { [userId]: { [deviceId]: "signed_curve25519" } } })) as {
    one_time_keys: Record<string, Record<string, Record<string, { key: string; fallback?: boolean }>>>;
  };
  const keys = Object.entries(res.one_time_keys[userId]?.[deviceId] ?? {});
  if (keys.length !== 1) throw new Error(`expected one key from /keys/claim, got ${JSON.stringify(res)}`);
  const [keyId, key] = keys[0]!;
  return { keyId, fallback: key.fallback === true };
}
