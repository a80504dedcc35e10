/**
 * GET /sync (spec: Client-Server § Syncing): the user's object answers from its own stream and
 * room summaries (docs/design/sync.md); this layer turns tokens and filters into its request and
 * its result into the wire format.
 */
import { MatrixError } from "../api/errors";
import type { ClientEvent } from "../matrix/client-event";
import type { JsonObject } from "../matrix/canonical-json";
import { typedStub } from "../objects/rpc";
import type { SyncFilter, TimelineSection, UserSyncResult } from "../objects/user/sync-engine";
import type { CheckedSync, SyncCaller, UserDurableObject } from "../objects/user/user-object";
import { verifyInD1, type UserObjectAuth } from "./sessions";
import type { DeviceKeyCounts } from "./e2ee-keys";
import type { Deps } from "./deps";
import { roomToken } from "./pagination-tokens";
import { roomStub } from "./rooms";
import { memberEventsOfRooms } from "../storage/d1/rooms";
import { accountDataForSync } from "./account-data";
import type { PresenceState } from "../objects/user/presence";
import { visiblePresence } from "./presence";
import { e2eeSyncFields } from "./e2ee-keys";
import { filterAllowsEvent, filterBlocksAll, projectEventFields, type Filter, type RoomEventFilter } from "../matrix/filters";

/** Longest long-poll we hold, so a forgotten connection can't pin an object forever. */
const MAX_TIMEOUT_MS = 120_000;

export function parseSyncToken(token: string): number {
  const m = /^s(\d{1,15})$/.exec(token);
  if (!m) throw new MatrixError("M_INVALID_PARAM", "Invalid since token");
  return Number(m[1]);
}

export function syncToken(pos: number): string {
  return `s${pos}`;
}

export function userStub(deps: Deps, userId: string) {
  return typedStub<UserDurableObject, "deliver" | "notify" | "sync">(deps.env.USERS.getByName(userId));
}

export interface SyncParams {
  /** The caller's token, checked by the user object (services/sessions.ts). */
  auth: UserObjectAuth;
  since?: string;
  timeoutMs: number;
  fullState: boolean;
  filter: SyncFilter;
  /**
   * The client's whole filter, for the sections this layer fills (spec: § Filtering): presence,
   * global and room account data, ephemeral events, and `event_fields`.
   */
  clientFilter?: Filter;
  /** `set_presence`; absent marks the user online (spec: GET /sync). */
  setPresence?: PresenceState;
}

function timelineWire(t: TimelineSection): JsonObject {
  const out: JsonObject = { events: t.events as unknown as JsonObject[], limited: t.limited };
  if (t.prevBatch !== undefined) out.prev_batch = roomToken(t.prevBatch);
  return out;
}

/**
 * Member lists for the rooms whose state a client that doesn't lazy-load members needs in full
 * (member events are not copied into every user's object): one D1 query for all of them, from the
 * events the room objects store beside the membership index (migration 0012); a room with rows
 * older than that is asked directly. So an initial sync makes no call per room
 * (docs/design/sync.md § Member lists).
 */
async function memberLists(deps: Deps, userId: string, roomIds: string[]): Promise<Map<string, ClientEvent[]>> {
  const now = deps.now();
  const stored = await memberEventsOfRooms(deps.env.DB, roomIds);
  const out = new Map<string, ClientEvent[]>();
  for (const [roomId, events] of stored) {
    out.set(
      roomId,
      events.map((json) => {
        const ev = JSON.parse(json) as ClientEvent;
        return { ...ev, unsigned: { ...(ev.unsigned ?? {}), age: Math.max(0, now - ev.origin_server_ts) } };
      }),
    );
  }
  await Promise.all(
    roomIds
      .filter((roomId) => !out.has(roomId))
      .map(async (roomId) => {
        const page = await roomStub(deps, roomId).members(userId, {});
        if (page.ok) out.set(roomId, page.value);
      }),
  );
  return out;
}

/** A room's state plus the member events that are in neither it nor the timeline, as the state filter allows. */
function withMembers(members: ClientEvent[], state: ClientEvent[], timeline: ClientEvent[], filter: RoomEventFilter | undefined): ClientEvent[] {
  const have = new Set([...state, ...timeline].map((e) => e.event_id));
  const allowed = (e: ClientEvent) => filterAllowsEvent(filter, { type: e.type, sender: e.sender, hasUrl: false });
  return [...state, ...members.filter((e) => !have.has(e.event_id) && allowed(e))];
}

/** Events of a section that its filter lets through, at most `limit` of them (the newest). */
function filtered<T extends { type: string; sender?: string; content?: unknown }>(events: T[], filter: RoomEventFilter | undefined, roomId?: string): T[] {
  if (!filter) return events;
  const kept = events.filter((e) => filterAllowsEvent(filter, { type: e.type, sender: e.sender, hasUrl: false, roomId }));
  return filter.limit !== undefined && kept.length > filter.limit ? kept.slice(kept.length - filter.limit) : kept;
}

/**
 * Calls the user's object with the caller's token for it to check (services/sessions.ts); if it
 * refuses, D1 decides, which throws the right M_UNKNOWN_TOKEN or verifies the token for a retry.
 */
export async function checkedUserCall<T>(
  deps: Deps,
  auth: UserObjectAuth,
  call: (userId: string, caller: SyncCaller) => Promise<CheckedSync<T>>,
): Promise<{ userId: string; deviceId: string; keyCounts?: DeviceKeyCounts; value: T }> {
  const caller = (a: UserObjectAuth): SyncCaller => (a.session ? { deviceId: a.session.deviceId } : { tokenHash: a.tokenHash });
  let answer = await call(auth.userId, caller(auth));
  let userId = auth.userId;
  if (answer.refused) {
    if (auth.session) throw new MatrixError("M_UNKNOWN_TOKEN", "Unrecognised access token", { soft_logout: false });
    const verified = await verifyInD1(deps, auth.tokenHash);
    userId = verified.userId;
    answer = await call(userId, caller(verified));
    if (answer.refused) throw new MatrixError("M_UNKNOWN_TOKEN", "Unrecognised access token", { soft_logout: false });
  }
  return { userId, deviceId: answer.deviceId, keyCounts: answer.keyCounts, value: answer.value };
}

export async function sync(deps: Deps, params: SyncParams): Promise<JsonObject> {
  const since = params.since !== undefined ? parseSyncToken(params.since) : undefined;
  const request = { since, fullState: params.fullState, timeoutMs: Math.min(Math.max(0, params.timeoutMs), MAX_TIMEOUT_MS), filter: params.filter };
  const answer = await checkedUserCall(deps, params.auth, (userId, caller) => userStub(deps, userId).sync(userId, caller, request, params.setPresence));
  const { userId, deviceId } = answer;
  const result: UserSyncResult = answer.value;
  const lazy = params.filter.state?.lazyLoadMembers ?? false;
  const roomFilter = params.clientFilter?.room;
  const fields = params.clientFilter?.eventFields;
  const project = (events: ClientEvent[]): ClientEvent[] => (fields?.length ? events.map((e) => projectEventFields(e, fields) as ClientEvent) : events);
  // Account data lives in D1: all of it on an initial sync, only what changed otherwise.
  const accountData = await accountDataForSync(deps, userId, since === undefined ? undefined : result.accountData);

  const join: JsonObject = {};
  const needMembers = lazy
    ? []
    : Object.entries(result.join)
        .filter(([roomId, room]) => (since === undefined || room.newlyJoined || params.fullState) && filterAllowsEvent(params.filter.state, { type: "m.room.member", hasUrl: false, roomId }))
        .map(([roomId]) => roomId);
  const members = await memberLists(deps, userId, needMembers);
  for (const [roomId, room] of Object.entries(result.join)) {
    const roomMembers = members.get(roomId);
    const state = roomMembers ? withMembers(roomMembers, room.state, room.timeline.events, params.filter.state) : room.state;
    join[roomId] = {
      timeline: timelineWire({ ...room.timeline, events: project(room.timeline.events) }),
      state: { events: project(state) as unknown as JsonObject[] },
      summary: { "m.heroes": room.summary.heroes, "m.joined_member_count": room.summary.joined, "m.invited_member_count": room.summary.invited },
      // Counts from the user's push rules and read receipts (objects/user/notifications.ts).
      unread_notifications: { ...room.unread.room },
      ...(room.unread.threads ? { unread_thread_notifications: room.unread.threads as unknown as JsonObject } : {}),
      ephemeral: { events: filtered((room.ephemeral ?? []) as { type: string }[], roomFilter?.ephemeral, roomId) as JsonObject[] },
      account_data: { events: filtered(accountData.rooms[roomId] ?? [], roomFilter?.accountData, roomId) as unknown as JsonObject[] },
    };
  }
  const invite: JsonObject = {};
  for (const [roomId, events] of Object.entries(result.invite)) invite[roomId] = { invite_state: { events } };
  const knock: JsonObject = {};
  for (const [roomId, events] of Object.entries(result.knock)) knock[roomId] = { knock_state: { events } };
  const leave: JsonObject = {};
  for (const [roomId, room] of Object.entries(result.leave)) {
    leave[roomId] = { timeline: timelineWire({ ...room.timeline, events: project(room.timeline.events) }), state: { events: project(room.state) as unknown as JsonObject[] }, account_data: { events: [] } };
  }
  const presenceFilter = params.clientFilter?.presence;
  return {
    next_batch: syncToken(result.nextPos),
    account_data: { events: filtered(accountData.global, params.clientFilter?.accountData) as unknown as JsonObject[] },
    to_device: { events: (result.toDevice ?? []) as unknown as JsonObject[] },
    presence: { events: filterBlocksAll(presenceFilter) ? [] : filtered(await visiblePresence(deps, userId, result.presence ?? [], since === undefined) as { type: string; sender: string }[], presenceFilter) },
    rooms: { join, invite, knock, leave },
    // One-time key counts, fallback key types and device lists of the syncing device (e2ee-keys.ts).
    ...(await e2eeSyncFields(deps, userId, deviceId, result.deviceLists, answer.keyCounts)),
  };
}
