/**
 * matrix-js-sdk helpers for the e2e tests: clients, registration through the SDK's
 * user-interactive flow (m.login.dummy) and password login.
 */
import { randomBytes } from "node:crypto";
import * as sdk from "matrix-js-sdk";
import { expect } from "vitest";

/**
 * The SDK's debug chatter hides test output; keep only warnings and errors, minus the one it logs
 * on every 401 M_UNKNOWN_TOKEN, which several tests provoke on purpose.
 */
const expectedNoise = /^Unable to refresh token - no refresh token/;
const quietLogger: NonNullable<sdk.ICreateClientOpts["logger"]> = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (...msg: unknown[]) => console.warn("[matrix-js-sdk]", ...msg),
  error: (...msg: unknown[]) => {
    if (typeof msg[0] === "string" && expectedNoise.test(msg[0])) return;
    console.error("[matrix-js-sdk]", ...msg);
  },
  getChild: () => quietLogger,
};

export interface ClientOptions {
  accessToken?: string;
  userId?: string;
  deviceId?: string;
  refreshToken?: string;
}

export function createClient(baseUrl: string, options: ClientOptions = {}): sdk.MatrixClient {
  return sdk.createClient({ baseUrl, logger: quietLogger, ...options });
}

/** A localpart no other test (or earlier run against the same state) has used. */
export function uniqueUsername(prefix = "user"): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
}

export function randomPassword(): string {
  return `pw-${randomBytes(12).toString("base64url")}`;
}

export interface Account {
  username: string;
  password: string;
  userId: string;
  deviceId: string;
  accessToken: string;
  refreshToken?: string;
  /** A client logged in with the account's first device. */
  client: sdk.MatrixClient;
}

/**
 * Registers like a client does: POST /register without `auth` answers 401 with a UIA session,
 * then the m.login.dummy stage completes it.
 */
export async function registerUser(
  baseUrl: string,
  options: { username?: string; password?: string; deviceName?: string } = {},
): Promise<Account> {
  const username = options.username ?? uniqueUsername();
  const password = options.password ?? randomPassword();
  const anon = createClient(baseUrl);
  const body = { username, password, initial_device_display_name: options.deviceName ?? "e2e device" };

  const challenge = await expectMatrixError(anon.registerRequest(body), 401);
  const session = challenge.data.session as string | undefined;
  expect(session, "the first /register answers with a UIA session").toEqual(expect.any(String));
  const flows = challenge.data.flows as { stages: string[] }[];
  expect(flows.some((f) => f.stages.length === 1 && f.stages[0] === "m.login.dummy")).toBe(true);

  const res = await anon.registerRequest({ ...body, auth: { type: "m.login.dummy", session } });
  anon.stopClient();
  if (!res.access_token || !res.device_id) throw new Error(`registration returned no access token: ${JSON.stringify(res)}`);
  return {
    username,
    password,
    userId: res.user_id,
    deviceId: res.device_id,
    accessToken: res.access_token,
    client: createClient(baseUrl, { accessToken: res.access_token, userId: res.user_id, deviceId: res.device_id }),
  };
}

/** Logs in with m.login.password (POST /login with an m.id.user identifier). */
export async function loginUser(
  baseUrl: string,
  user: string,
  password: string,
  extra: { refreshToken?: boolean; deviceId?: string } = {},
): Promise<Omit<Account, "username">> {
  const anon = createClient(baseUrl);
  const res = await anon.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    initial_device_display_name: "e2e login",
    ...(extra.deviceId ? { device_id: extra.deviceId } : {}),
    ...(extra.refreshToken ? { refresh_token: true } : {}),
  });
  anon.stopClient();
  return {
    password,
    userId: res.user_id,
    deviceId: res.device_id,
    accessToken: res.access_token,
    refreshToken: res.refresh_token,
    client: createClient(baseUrl, { accessToken: res.access_token, userId: res.user_id, deviceId: res.device_id }),
  };
}

/** Awaits a request that must fail and returns the SDK's MatrixError after checking status and errcode. */
export async function expectMatrixError(promise: Promise<unknown>, status: number, errcode?: string): Promise<sdk.MatrixError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected HTTP ${status}${errcode ? ` ${errcode}` : ""}, but the request succeeded with ${JSON.stringify(outcome.value)}`);
  if (!(outcome.error instanceof sdk.MatrixError)) throw outcome.error;
  const error = outcome.error;
  expect({ status: error.httpStatus, errcode: error.errcode }).toMatchObject({ status, ...(errcode ? { errcode } : {}) });
  return error;
}

/** Resolves once the client's sync loop has prepared (first /sync processed), or fails with the state it got stuck in. */
export function prepared(client: sdk.MatrixClient, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let last: string | null = client.getSyncState();
    if (last === sdk.SyncState.Prepared || last === sdk.SyncState.Syncing) return resolve();
    const timer = setTimeout(() => {
      client.off(sdk.ClientEvent.Sync, onSync);
      reject(new Error(`client ${client.getUserId()} did not finish its first sync in ${ms} ms (sync state ${last})`));
    }, ms);
    const onSync = (state: sdk.SyncState) => {
      last = state;
      if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
        clearTimeout(timer);
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      }
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
}
