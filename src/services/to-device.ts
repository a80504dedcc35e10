/**
 * Send-to-device messaging (spec: Client-Server § Send-to-Device messaging). Each recipient
 * device's queue lives in its user's object (src/objects/user/to-device.ts); the sender's object
 * remembers completed transaction ids, so a retried request delivers nothing twice.
 */
import { forbidden, invalidParam } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { domainOf, isValidUserId } from "../matrix/auth/ids";
import type { ToDeviceMessage } from "../objects/user/to-device";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import { deviceIdsOfUsers } from "../storage/d1/devices";
import type { Deps } from "./deps";

function stub(deps: Deps, userId: string) {
  return typedStub<UserDurableObject, "receiveToDevice" | "toDeviceTxnDone" | "markToDeviceTxnDone" | "dropDevices">(deps.env.USERS.getByName(userId));
}

/**
 * PUT /sendToDevice/{eventType}/{txnId}. `messages` maps user ids to device ids (or `*`, every
 * device the user has) to contents; devices the user doesn't have are skipped. Users of other
 * servers would need federation ("should be sent on to the remote servers via federation"), which
 * is not built: such a request is refused whole, before anything is delivered.
 *
 * Idempotency: the sender's object records the transaction once every recipient has queued its
 * messages, and a retry of a recorded transaction does nothing. A retry after a failure part-way
 * finds the messages still queued where they were delivered (a queue holds one message per
 * sender, sending device and transaction); only a recipient that already synced past such a
 * message before the retry would see it again.
 */
export async function sendToDevice(
  deps: Deps,
  sender: { userId: string; deviceId: string },
  type: string,
  txnId: string,
  messages: Record<string, Record<string, JsonObject>>,
): Promise<void> {
  const userIds = Object.keys(messages);
  for (const userId of userIds) {
    if (!isValidUserId(userId)) throw invalidParam(`Invalid user id: ${userId}`);
    if (domainOf(userId) !== deps.config.serverName) {
      throw forbidden("Federation is not supported yet: to-device messages cannot be sent to users on other servers");
    }
  }
  const own = stub(deps, sender.userId);
  if (await own.toDeviceTxnDone(sender.userId, sender.deviceId, txnId)) return;

  const devices = await deviceIdsOfUsers(deps.env.DB, userIds);
  await Promise.all(
    userIds.map(async (userId) => {
      const known = devices.get(userId) ?? [];
      const byDevice = messages[userId]!;
      const contents = new Map<string, JsonObject>();
      const all = byDevice["*"];
      if (all) for (const d of known) contents.set(d, all);
      // A device named explicitly gets its own message rather than the `*` one.
      for (const [d, content] of Object.entries(byDevice)) if (d !== "*" && known.includes(d)) contents.set(d, content);
      if (contents.size === 0) return;
      const queued: ToDeviceMessage[] = [...contents].map(([deviceId, content]) => ({
        deviceId,
        sender: sender.userId,
        senderDevice: sender.deviceId,
        txnId,
        type,
        content,
      }));
      await stub(deps, userId).receiveToDevice(userId, queued);
    }),
  );
  await own.markToDeviceTxnDone(sender.userId, sender.deviceId, txnId);
}

/**
 * Drops the to-device queues of deleted devices. Called after the devices are gone from D1, so
 * it is best-effort: a failure is logged, and a queue left behind only wastes space (a device
 * id used again at login would receive what was queued for it).
 */
export async function dropDeviceInboxes(deps: Deps, userId: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  try {
    await stub(deps, userId).dropDevices(userId, deviceIds);
  } catch (err) {
    console.error(JSON.stringify({ user_id: userId, error: `dropping to-device queues failed: ${String(err)}` }));
  }
}
