/**
 * Presence (spec: Client-Server § Presence). Each user's presence lives in their user object
 * (src/objects/user/presence.ts); a change is pushed from there to the user objects of the local
 * users who share a joined room with them, per the D1 membership index. Presence is shown only to
 * users who share a room with its owner: GET checks it, and /sync re-checks every event it hands
 * out, so a copy pushed before someone left the last shared room is not shown after.
 */
import { forbidden, invalidParam } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import { domainOf, isValidUserId } from "../matrix/auth/ids";
import type { PresenceEvent, PresenceState, PresenceUpdate } from "../objects/user/presence";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import { joinedRoomSharers, localJoinedRoomPeers, shareJoinedRoom } from "../storage/d1/rooms";
import type { Deps } from "./deps";

/**
 * At most this many user objects are told of one presence change, members of the user's smallest
 * shared rooms (direct chats first): a change by someone in huge rooms costs a bounded number of
 * calls, and members beyond the bound see it in GET /presence but not in /sync.
 */
export const PRESENCE_FANOUT_MAX = 100;

function stub(deps: Deps, userId: string) {
  return typedStub<UserDurableObject, "setPresence" | "getPresence" | "receivePresence">(deps.env.USERS.getByName(userId));
}

/** PUT /presence/{userId}/status: only for yourself (spec: "You cannot set the presence state of another user"). */
export async function setPresence(deps: Deps, sessionUserId: string, userId: string, presence: PresenceState, statusMsg: string | null): Promise<void> {
  if (userId !== sessionUserId) throw forbidden("You cannot set the presence of another user");
  await stub(deps, userId).setPresence(userId, presence, statusMsg);
}

/** GET /presence/{userId}/status: yourself, or a user you share a joined room with. */
export async function getPresence(deps: Deps, sessionUserId: string, userId: string): Promise<JsonObject> {
  if (!isValidUserId(userId)) throw invalidParam("Invalid user id");
  if (userId !== sessionUserId) {
    // Users of other servers share no room here until federation is built, so they end here too.
    if (domainOf(userId) !== deps.config.serverName || !(await shareJoinedRoom(deps.env.DB, sessionUserId, userId))) {
      throw forbidden("You are not allowed to see their presence");
    }
  }
  return stub(deps, userId).getPresence(userId);
}

/**
 * Pushes a presence change to the user objects of up to PRESENCE_FANOUT_MAX local users sharing
 * a joined room with its owner. Best-effort, like presence itself: failures are logged, not retried.
 */
export async function fanOutPresence(deps: Deps, update: PresenceUpdate): Promise<void> {
  try {
    const peers = await localJoinedRoomPeers(deps.env.DB, update.userId, deps.config.serverName, PRESENCE_FANOUT_MAX);
    const results = await Promise.allSettled(peers.map((peer) => stub(deps, peer).receivePresence(peer, update)));
    const failed = results.filter((r) => r.status === "rejected").length;
    if (failed > 0) console.error(JSON.stringify({ user_id: update.userId, error: `presence not delivered to ${failed} of ${peers.length} users` }));
  } catch (err) {
    console.error(JSON.stringify({ user_id: update.userId, error: `presence fan-out failed: ${String(err)}` }));
  }
}

/**
 * The presence events of a sync that the user may see: their own, and those of users still sharing
 * a joined room. An initial sync shows the latest state held of each peer, however old, so it is
 * checked against the D1 membership index; an incremental sync shows only pushes that arrived
 * after `since`, each sent to users who shared a room when it was pushed (fanOutPresence, after
 * the leave had updated the index), so it needs no D1 read on each long-poll.
 */
export async function visiblePresence(deps: Deps, userId: string, events: PresenceEvent[], initial: boolean): Promise<JsonObject[]> {
  let shown = events;
  if (initial) {
    const others = [...new Set(events.map((e) => e.sender).filter((s) => s !== userId))];
    const sharing = await joinedRoomSharers(deps.env.DB, userId, others);
    shown = events.filter((e) => e.sender === userId || sharing.has(e.sender));
  }
  return shown.map((e) => ({ type: "m.presence", sender: e.sender, content: e.content }));
}
