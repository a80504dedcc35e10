/**
 * Dehydrated devices (MSC3814, unstable prefix org.matrix.msc3814.v1): a device a client leaves
 * in the user's account to receive room keys while no client is running, and picks up later.
 *
 * The device is a real device (a `devices` row, visible in /keys/query and GET /devices) with no
 * access token: nobody is logged in as it. Its keys are stored as POST /keys/upload stores them;
 * to-device messages reach it as any device, in the user object's inbox, and are read back
 * without being taken from it, so an interrupted rehydration can start again. A user has at
 * most one: a new one replaces the old, whose device, keys and queue go.
 */
import { forbidden, invalidParam, MatrixError, notFound } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import type { ToDeviceEvent } from "../objects/user/to-device";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import { createDehydratedDeviceStatements, deleteDehydratedDeviceStatements, getDehydratedDevice } from "../storage/d1/dehydrated-devices";
import type { Deps } from "./deps";
import { sessionsRevoked } from "./sessions";
import { devicesDeleted } from "./device-lists";
import { applyKeyUpload, canonical, prepareKeyUpload, type KeysSession, type UploadKeysInput } from "./e2ee-keys";

export interface DehydratedDeviceUpload extends UploadKeysInput {
  device_id: string;
  device_data: JsonObject;
  initial_device_display_name?: string;
}

/** Events handed out per request when the client names no limit (Synapse's default). */
export const DEHYDRATED_EVENTS_LIMIT = 100;

/**
 * PUT /dehydrated_device. The keys are checked first; then one D1 transaction deletes the old
 * dehydrated device (whichever it is by then) and creates the new one, and its keys are stored
 * as by /keys/upload, which tells users sharing a room that the device list changed.
 */
export async function putDehydratedDevice(deps: Deps, userId: string, body: DehydratedDeviceUpload): Promise<{ device_id: string }> {
  const db = deps.env.DB;
  const deviceId = body.device_id;
  if (!body.device_keys) throw new MatrixError("M_MISSING_PARAM", "device_keys is required");
  if (body.device_keys.device_id !== deviceId) throw invalidParam("device_keys.device_id must be the dehydrated device's device_id");
  const device: KeysSession = { userId, deviceId };
  const prepared = await prepareKeyUpload(deps, device, body, true);
  const deviceData = canonical(body.device_data, "device_data");

  const deletes = deleteDehydratedDeviceStatements(db, userId);
  let results: D1Result[];
  try {
    results = await db.batch([
      ...deletes,
      ...createDehydratedDeviceStatements(db, { userId, deviceId, displayName: body.initial_device_display_name ?? null, deviceData, now: deps.now() }),
    ]);
  } catch (err) {
    if (/UNIQUE|PRIMARY KEY/i.test(String(err))) throw invalidParam("You already have a device with this device_id");
    throw err;
  }
  const old = (results[deletes.length - 1]?.results[0] as { device_id?: string } | undefined)?.device_id;
  // The replaced device's tokens and keys went with it, even under the same id.
  if (old !== undefined) await sessionsRevoked(deps, userId);
  await applyKeyUpload(deps, device, prepared);
  // The replaced device's queue and the device-list news of its going; a device re-uploaded
  // under the same id keeps its queue, which is still meant for it.
  if (old !== undefined && old !== deviceId) await devicesDeleted(deps, userId, [old]);
  return { device_id: deviceId };
}

/** GET /dehydrated_device */
export async function fetchDehydratedDevice(deps: Deps, userId: string): Promise<{ device_id: string; device_data: JsonObject }> {
  const row = await getDehydratedDevice(deps.env.DB, userId);
  if (!row) throw notFound("No dehydrated device available");
  return { device_id: row.device_id, device_data: JSON.parse(row.device_data) as JsonObject };
}

/** DELETE /dehydrated_device: no UIA, unlike DELETE /devices/{id} (MSC3814). */
export async function removeDehydratedDevice(deps: Deps, userId: string): Promise<{ device_id: string }> {
  const db = deps.env.DB;
  const deletes = deleteDehydratedDeviceStatements(db, userId);
  const results = await db.batch(deletes);
  const old = (results[deletes.length - 1]?.results[0] as { device_id?: string } | undefined)?.device_id;
  if (old === undefined) throw notFound("No dehydrated device available");
  await sessionsRevoked(deps, userId);
  await devicesDeleted(deps, userId, [old]);
  return { device_id: old };
}

/** `next_batch` tokens: the inbox position after which to continue. */
function parseBatchToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^d([0-9]{1,15})$/.exec(token);
  if (!m) throw invalidParam("Invalid next_batch token");
  return Number(m[1]);
}

/**
 * The to-device events queued for the dehydrated device, a page at a time. `alwaysNextBatch`:
 * the MSC's POST form always answers a `next_batch` (an empty page marks the end); the GET form
 * that matrix-js-sdk uses (and Synapse prefers) gives one only while more events are left.
 */
export async function dehydratedDeviceEvents(
  deps: Deps,
  userId: string,
  deviceId: string,
  from: string | undefined,
  limit: number,
  alwaysNextBatch: boolean,
): Promise<{ events: ToDeviceEvent[]; next_batch?: string }> {
  const afterSeq = parseBatchToken(from);
  const row = await getDehydratedDevice(deps.env.DB, userId);
  if (!row || row.device_id !== deviceId) throw forbidden("You may only fetch messages for your dehydrated device");
  const stub = typedStub<UserDurableObject, "peekToDevice">(deps.env.USERS.getByName(userId));
  const page = await stub.peekToDevice(userId, deviceId, afterSeq, limit);
  const next = `d${page.lastSeq}`;
  return alwaysNextBatch || page.more ? { events: page.events, next_batch: next } : { events: page.events };
}
