/** Registration, login and the account lifecycle (spec: Client-Server § Account registration and management, § Login). */
import { MatrixError } from "../api/errors";
import { deleteDevicesStatements, listDevices, upsertDeviceStatement } from "../storage/d1/devices";
import { devicesDeleted } from "./device-lists";
import { refundRegistrationTokenStatement } from "../storage/d1/registration-tokens";
import { deactivateUserStatement, getUser, insertUser, setPasswordHashStatement } from "../storage/d1/users";
import { getDehydratedDevice } from "../storage/d1/dehydrated-devices";
import type { Deps } from "./deps";
import { hashPassword, verifyPassword } from "./passwords";
import { randomDeviceId } from "./random";
import { enforceRateLimit } from "./rate-limit";
import { spendRegistrationTokenStatement } from "./registration-tokens";
import { newTokenPair, sessionsRevoked, type IssuedTokens } from "./sessions";
import { resolveUserId, userIdFor, validateNewLocalpart } from "./user-ids";

export interface LoginResult extends IssuedTokens {
  user_id: string;
  device_id: string;
  home_server: string;
  well_known: { "m.homeserver": { base_url: string } };
}

/** Passwords longer than this are refused, so hashing stays bounded. */
const MAX_PASSWORD_LENGTH = 512;

function checkPassword(password: string): void {
  if (password.length > MAX_PASSWORD_LENGTH) throw new MatrixError("M_WEAK_PASSWORD", "Password is too long");
  if (password.length === 0) throw new MatrixError("M_WEAK_PASSWORD", "Password must not be empty");
}

export async function isUsernameAvailable(deps: Deps, username: string): Promise<boolean> {
  const localpart = validateNewLocalpart(username, deps.config.serverName, deps.config.exclusiveUserNamespaces);
  const existing = await getUser(deps.env.DB, userIdFor(localpart, deps.config.serverName));
  if (existing) throw new MatrixError("M_USER_IN_USE", "User ID already taken.");
  return true;
}

/** Checks the requested name before UIA starts, so the client learns of a taken name at once. */
export async function precheckRegistration(deps: Deps, username: string | undefined): Promise<void> {
  if (username !== undefined) await isUsernameAvailable(deps, username);
}

export interface CreateAccountInput {
  username?: string;
  password?: string;
  isAdmin?: boolean;
  displayname?: string;
  registrationToken?: string;
}

/** Creates an account; a generated localpart is used when none was asked for. */
export async function createAccount(deps: Deps, input: CreateAccountInput): Promise<string> {
  const db = deps.env.DB;
  if (input.password !== undefined) checkPassword(input.password);
  const localpart =
    input.username !== undefined
      ? validateNewLocalpart(input.username, deps.config.serverName, deps.config.exclusiveUserNamespaces)
      : await generateLocalpart(deps);
  const userId = userIdFor(localpart, deps.config.serverName);
  if (await getUser(db, userId)) throw new MatrixError("M_USER_IN_USE", "User ID already taken.");
  const passwordHash = input.password !== undefined ? await hashPassword(input.password) : null;

  const spend = input.registrationToken !== undefined ? spendRegistrationTokenStatement(deps, input.registrationToken) : undefined;
  if (spend && (await spend.run()).meta.changes !== 1) throw new MatrixError("M_FORBIDDEN", "Registration token is no longer valid");
  const created = await insertUser(db, {
    userId,
    localpart,
    passwordHash,
    isAdmin: input.isAdmin ?? false,
    displayname: input.displayname ?? localpart,
    createdTs: deps.now(),
  });
  if (!created) {
    // Lost a race for the name: give back the use this attempt spent, as no account came of it.
    if (spend) await refundRegistrationTokenStatement(db, input.registrationToken!).run();
    throw new MatrixError("M_USER_IN_USE", "User ID already taken.");
  }
  return userId;
}

async function generateLocalpart(deps: Deps): Promise<string> {
  // Synapse-style numeric-free generated names; retry on the unlikely collision.
  for (let i = 0; i < 5; i++) {
    const candidate = `user_${randomDeviceId().toLowerCase()}`;
    if (!(await getUser(deps.env.DB, userIdFor(candidate, deps.config.serverName)))) return candidate;
  }
  throw new MatrixError("M_UNKNOWN", "Could not generate a user id", {}, 500);
}

export interface DeviceLoginInput {
  userId: string;
  deviceId?: string;
  initialDisplayName?: string;
  refreshToken: boolean;
  ip: string;
}

/** Creates (or re-uses) a device and issues tokens for it. A re-used device's old tokens are revoked. */
export async function startDeviceSession(deps: Deps, input: DeviceLoginInput): Promise<LoginResult> {
  const db = deps.env.DB;
  const deviceId = input.deviceId ?? randomDeviceId();
  // The dehydrated device (MSC3814) holds no session: a client rehydrates it by reading its
  // events, never by logging in as it, which would revoke nothing but let this login's tokens
  // speak for a device other clients encrypt to while its owner is away.
  if (input.deviceId !== undefined && (await getDehydratedDevice(db, input.userId))?.device_id === input.deviceId) {
    throw new MatrixError("M_INVALID_PARAM", "This device_id belongs to the account's dehydrated device");
  }
  const { tokens, statements } = await newTokenPair(deps, input.userId, deviceId, input.refreshToken);
  await db.batch([
    // Spec: logging in with an existing device_id invalidates any access token previously assigned to it.
    db.prepare("DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?").bind(input.userId, deviceId),
    db.prepare("DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?").bind(input.userId, deviceId),
    upsertDeviceStatement(db, { userId: input.userId, deviceId, displayName: input.initialDisplayName ?? null, now: deps.now(), ip: input.ip }),
    ...statements,
  ]);
  if (input.deviceId !== undefined) await sessionsRevoked(deps, input.userId);
  return {
    user_id: input.userId,
    device_id: deviceId,
    home_server: deps.config.serverName,
    well_known: { "m.homeserver": { base_url: deps.config.publicBaseUrl } },
    ...tokens,
  };
}

/** Password login. The same error for an unknown user and a wrong password, so accounts can't be probed. */
export async function passwordLogin(deps: Deps, user: string, password: string): Promise<string> {
  const userId = resolveUserId(user, deps.config.serverName);
  await enforceRateLimit(deps, "login-account", userId, deps.config.rateLimits.loginPerAccount);
  const row = await getUser(deps.env.DB, userId);
  if (!row || !row.password_hash || !(await verifyPassword(password, row.password_hash))) {
    throw new MatrixError("M_FORBIDDEN", "Invalid username or password");
  }
  if (row.deactivated) throw new MatrixError("M_USER_DEACTIVATED", "This account has been deactivated");
  return userId;
}

/** Changes the password; unless `keepDevices`, every other device is logged out (spec: POST /account/password). */
export async function changePassword(deps: Deps, userId: string, currentDeviceId: string | undefined, password: string, keepDevices: boolean): Promise<void> {
  checkPassword(password);
  const db = deps.env.DB;
  const hash = await hashPassword(password);
  const others = keepDevices ? [] : (await listDevices(db, userId)).map((d) => d.device_id).filter((d) => d !== currentDeviceId);
  await db.batch([setPasswordHashStatement(db, userId, hash), ...deleteDevicesStatements(db, userId, others)]);
  if (others.length > 0) await sessionsRevoked(deps, userId);
  await devicesDeleted(deps, userId, others);
}

/** Deactivation: the account can never log in again and every device and token is removed. */
export async function deactivateAccount(deps: Deps, userId: string): Promise<void> {
  const db = deps.env.DB;
  const devices = (await listDevices(db, userId)).map((d) => d.device_id);
  await db.batch([
    deactivateUserStatement(db, userId),
    ...deleteDevicesStatements(db, userId, devices),
    db.prepare("DELETE FROM access_tokens WHERE user_id = ?").bind(userId),
    db.prepare("DELETE FROM refresh_tokens WHERE user_id = ?").bind(userId),
    db.prepare("DELETE FROM pushers WHERE user_id = ?").bind(userId),
  ]);
  await sessionsRevoked(deps, userId);
  await devicesDeleted(deps, userId, devices);
}

export { enforceRateLimit };
