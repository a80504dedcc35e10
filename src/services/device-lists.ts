/**
 * Device lists (spec: Client-Server § Tracking the device list for a user): who must learn that a
 * user's devices changed, and what /sync's `device_lists` and GET /keys/changes report.
 * docs/design/sync.md § Device lists describes the design.
 *
 * A change of a user's device keys is pushed, as a `device_list` stream row, to that user's own
 * object and to the object of every local user sharing a joined room with them (D1 membership
 * index). Membership changes are recorded by the user objects themselves as rooms deliver them
 * (objects/user/device-lists.ts). Both are turned into `changed`/`left` when read, against the
 * membership index as it is then.
 */
import type { DeviceListNews } from "../objects/user/device-lists";
import { hasDeviceListNews } from "../objects/user/device-lists";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import { joinedMembersOfRooms, joinedRoomSharers, localJoinedRoomSharers } from "../storage/d1/rooms";
import type { Deps } from "./deps";
import { dropDeviceInboxes } from "./to-device";
import { notifyUser } from "./user-stream";

/** User objects told at once during a fan-out; the rest wait for a slot. */
const FANOUT_BATCH = 50;

// A type, not an interface, so it fits JsonObject's index signature.
export type DeviceListsWire = {
  changed: string[];
  left: string[];
};

/**
 * Records that `userId`'s device list changed in their own stream and in the stream of every
 * local user sharing a joined room with them. Throws if any object could not be told, so the
 * caller fails and the client retries (a retried upload notifies again).
 */
export async function notifyDeviceListChange(deps: Deps, userId: string): Promise<void> {
  const sharers = await localJoinedRoomSharers(deps.env.DB, userId, deps.config.serverName);
  const recipients = [...new Set([userId, ...sharers])];
  for (let i = 0; i < recipients.length; i += FANOUT_BATCH) {
    await Promise.all(recipients.slice(i, i + FANOUT_BATCH).map((r) => notifyUser(deps, r, { kind: "device_list", userId })));
  }
}

/**
 * After devices (and their keys) were deleted from D1: drops their to-device queues and tells
 * those sharing a room that the user's device list changed. The deletion has already happened,
 * so this is best-effort: a failure is logged, and the worst outcome is that others keep
 * encrypting for a device that no longer exists until their next key query.
 */
export async function devicesDeleted(deps: Deps, userId: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  await dropDeviceInboxes(deps, userId, deviceIds);
  try {
    await notifyDeviceListChange(deps, userId);
  } catch (err) {
    console.error(JSON.stringify({ user_id: userId, error: `device-list notification failed: ${String(err)}` }));
  }
}

/**
 * Turns a stream's device-list news into the wire lists: `changed` are users who share a joined
 * room with `userId` now (or `userId` themself) and whose keys changed or who joined a shared
 * room (every member of a room `userId` joined counts); `left` are users who stopped sharing a
 * room in that span and share none now.
 */
export async function resolveDeviceLists(deps: Deps, userId: string, news: DeviceListNews | undefined): Promise<DeviceListsWire> {
  if (!news || !hasDeviceListNews(news)) return { changed: [], left: [] };
  const db = deps.env.DB;
  const [joinedMembers, leftMembers] = await Promise.all([joinedMembersOfRooms(db, news.joinedRooms), joinedMembersOfRooms(db, news.leftRooms)]);
  const changedCandidates = new Set([...news.changed, ...joinedMembers.filter((u) => u !== userId)]);
  const leftCandidates = new Set([...news.left, ...leftMembers].filter((u) => u !== userId));
  const others = [...new Set([...changedCandidates, ...leftCandidates])].filter((u) => u !== userId);
  const sharing = await joinedRoomSharers(db, userId, others);
  return {
    changed: [...changedCandidates].filter((u) => u === userId || sharing.has(u)).sort(),
    left: [...leftCandidates].filter((u) => !sharing.has(u)).sort(),
  };
}

function stub(deps: Deps, userId: string) {
  return typedStub<UserDurableObject, "deviceListsBetween">(deps.env.USERS.getByName(userId));
}

/**
 * GET /keys/changes: device-list changes between two positions of the user's stream (their sync
 * tokens). `to` bounds the span (later changes reach the client through its syncs from `to`); a
 * `to` at or before `from` is an empty span.
 */
export async function keyChanges(deps: Deps, userId: string, fromPos: number, toPos: number): Promise<DeviceListsWire> {
  if (toPos <= fromPos) return { changed: [], left: [] };
  const news = await stub(deps, userId).deviceListsBetween(userId, fromPos, toPos);
  return resolveDeviceLists(deps, userId, news);
}
