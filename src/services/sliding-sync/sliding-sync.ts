/**
 * Simplified sliding sync (MSC4186, docs/design/sliding-sync.md). The user's object works out the
 * lists, rooms and stream-based extensions from its own tables (and its cached `m.direct`); this
 * layer adds what lives elsewhere — account data and E2EE key counts (D1), and member events the
 * object doesn't copy (the room object) — and builds the wire response.
 */
import { MatrixError } from "../../api/errors";
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import { typedStub } from "../../objects/rpc";
import type { PresenceState } from "../../objects/user/presence";
import { directRoomIds } from "../../objects/user/sliding-sync-dm";
import type { SlidingRoom, SlidingSyncRequest, SlidingSyncResult } from "../../objects/user/sliding-sync-types";
import type { UserDurableObject } from "../../objects/user/user-object";
import { getAccountData, GLOBAL_ROOM } from "../../storage/d1/account-data";
import { accountDataForSync, type AccountDataEvent, type SyncAccountData } from "../account-data";
import type { Deps } from "../deps";
import { e2eeSyncFields } from "../e2ee-keys";
import type { UserObjectAuth } from "../sessions";
import { checkedUserCall } from "../sync";
import { roomStub } from "../rooms";
import { roomWire } from "./wire";

/** Longest long-poll held, as for /sync. */
export const MAX_TIMEOUT_MS = 120_000;

export type SlidingSyncInput = Omit<SlidingSyncRequest, "dmRooms" | "deviceId">;

function userStub(deps: Deps, userId: string) {
  return typedStub<UserDurableObject, "slidingSync">(deps.env.USERS.getByName(userId));
}

/**
 * The rooms `m.direct` names (spec: § Direct Messaging): the source of `is_dm` (MSC4186 § Lists,
 * filters). Read by the user's object, which caches it (objects/user/sliding-sync-dm.ts).
 */
export async function directRooms(deps: Deps, userId: string): Promise<string[]> {
  const text = await getAccountData(deps.env.DB, userId, GLOBAL_ROOM, "m.direct");
  return text ? directRoomIds(JSON.parse(text) as unknown) : [];
}

/**
 * Member events the user's object doesn't hold (it keeps the user's own and recent senders'):
 * read from the room object, one call per room that needs them — rooms whose request asks for
 * every member or named ones, and unnamed rooms whose heroes the object hasn't seen.
 */
async function addMembers(deps: Deps, userId: string, roomId: string, room: SlidingRoom): Promise<void> {
  const page = await roomStub(deps, roomId).members(userId, {});
  if (!page.ok) return;
  const byUser = new Map<string, ClientEvent>(page.value.map((e) => [e.state_key ?? "", e]));
  const have = new Set(room.requiredState.map((e) => e.event_id));
  const want = room.needMembers === "all" ? page.value : (room.needMembers ?? []).map((u) => byUser.get(u)).filter((e): e is ClientEvent => e !== undefined);
  for (const ev of want) if (!have.has(ev.event_id)) room.requiredState.push(ev);
  for (const hero of room.heroes ?? []) {
    const content = byUser.get(hero.userId)?.content;
    if (typeof content?.displayname === "string") hero.displayname = content.displayname;
    if (typeof content?.avatar_url === "string") hero.avatarUrl = content.avatar_url;
  }
}

/** The account data the object picked: everything for a new connection or room, else the types that changed. */
async function accountDataWire(deps: Deps, userId: string, pick: NonNullable<SlidingSyncResult["extensions"]["accountData"]>): Promise<JsonObject> {
  const wholesale = pick.global === "all" || Object.values(pick.rooms).includes("all");
  let data: SyncAccountData;
  if (wholesale) data = await accountDataForSync(deps, userId);
  else {
    const rooms: Record<string, string[]> = {};
    for (const [roomId, types] of Object.entries(pick.rooms)) if (types !== "all") rooms[roomId] = types;
    data = await accountDataForSync(deps, userId, { global: pick.global as string[], rooms });
  }
  const keep = (events: AccountDataEvent[], types: "all" | string[]) => (types === "all" ? events : events.filter((e) => types.includes(e.type)));
  const rooms: JsonObject = {};
  for (const [roomId, types] of Object.entries(pick.rooms)) {
    const events = keep(data.rooms[roomId] ?? [], types);
    if (events.length) rooms[roomId] = events as unknown as JsonObject[];
  }
  return { global: keep(data.global, pick.global) as unknown as JsonObject[], rooms };
}

/** `auth`: the caller's token, checked by the user object (services/sessions.ts). */
export async function slidingSync(deps: Deps, auth: UserObjectAuth, input: SlidingSyncInput, setPresence?: PresenceState): Promise<JsonObject> {
  const request: SlidingSyncInput = { ...input, timeoutMs: Math.min(Math.max(0, input.timeoutMs), MAX_TIMEOUT_MS) };
  const answer = await checkedUserCall(deps, auth, (userId, caller) => userStub(deps, userId).slidingSync(userId, caller, request, setPresence));
  const { userId, deviceId, value: outcome } = answer;
  // MSC4186: an unknown or expired `pos` is 400 M_UNKNOWN_POS; the client starts a new connection.
  if (!outcome.ok) throw new MatrixError("M_UNKNOWN_POS", "Unknown or expired position; start again without pos", {}, 400);
  const result = outcome.value;

  const ext = result.extensions;
  const [, accountData, e2ee] = await Promise.all([
    Promise.all(
      Object.entries(result.rooms)
        .filter(([, room]) => room.needMembers !== undefined || room.missingHeroes !== undefined)
        .map(([roomId, room]) => addMembers(deps, userId, roomId, room)),
    ),
    ext.accountData ? accountDataWire(deps, userId, ext.accountData) : undefined,
    ext.e2ee ? e2eeSyncFields(deps, userId, deviceId, ext.e2ee.deviceLists, answer.keyCounts) : undefined,
  ]);

  const rooms: JsonObject = {};
  for (const [roomId, room] of Object.entries(result.rooms)) rooms[roomId] = roomWire(room);
  const extensions: JsonObject = {};
  if (ext.toDevice) extensions.to_device = { next_batch: ext.toDevice.nextBatch, events: ext.toDevice.events as unknown as JsonObject[] };
  if (e2ee) extensions.e2ee = e2ee as unknown as JsonObject;
  if (accountData) extensions.account_data = accountData;
  if (ext.receipts) extensions.receipts = { rooms: ext.receipts };
  if (ext.typing) extensions.typing = { rooms: ext.typing };
  return { pos: String(result.pos), lists: result.lists, rooms, extensions };
}
