/**
 * Simplified sliding sync (MSC4186) in a user's object (docs/design/sliding-sync.md): room lists,
 * room subscriptions and extensions answered from the object's own tables, with per-connection
 * state so a client coming back with `pos` gets only what changed. Independent of workerd.
 *
 * Connection state follows Synapse's model: for each room the client has been sent, a position
 * records either "live" (the client has every change up to that position) or the stream position
 * it has the room up to (the room dropped out of range while it changed). Rows are written per
 * position, so a client retrying a `pos` whose response it lost sees the same state again.
 */
import { waitForWake } from "./wait";
import type { JsonObject } from "../../matrix/canonical-json";
import { collectDeviceListNews, hasDeviceListNews } from "./device-lists";
import { EPHEMERAL_KINDS, EphemeralState } from "./ephemeral";
import type { NotificationCounts } from "./notifications";
import { SlidingLists, type ListsOutcome } from "./sliding-sync-lists";
import { SlidingRoomBuilder, type HeldRoom } from "./sliding-sync-rooms";
import { SlidingSyncStore, type ConnRoomRow, type PositionRow } from "./sliding-sync-store";
import type { AccountDataPick, ExtensionScope, RoomConfig, SlidingSyncOutcome, SlidingSyncRequest, SlidingSyncResult } from "./sliding-sync-types";
import { TO_DEVICE_STREAM_KIND, type ToDeviceInbox } from "./to-device";
import type { StreamRow, UserStore } from "./user-store";

/** A `pos` further behind than this many stream rows is expired: the client starts over (M_UNKNOWN_POS). */
export const MAX_ROWS_BEHIND = 10_000;
/** Connections unused this long are forgotten (Synapse keeps them a week too). */
export const CONNECTION_EXPIRY_MS = 7 * 24 * 3600_000;

interface RoomWrite {
  roomId: string;
  live: boolean;
  sentPos: number;
  membership: string;
  config: string;
}

interface Plan {
  result: SlidingSyncResult;
  /** The stream position the response covers. */
  upTo: number;
  listCounts: string;
  writes: RoomWrite[];
  hasNews: boolean;
}

export interface SlidingSyncDeps {
  unread: (roomId: string) => NotificationCounts;
  toDevice: () => ToDeviceInbox;
}

export class SlidingSyncEngine {
  readonly sliding: SlidingSyncStore;
  private readonly rooms: SlidingRoomBuilder;
  private readonly ephemeral: EphemeralState;
  private waiters = new Set<() => void>();

  constructor(
    private readonly store: UserStore,
    private readonly userId: string,
    private readonly now: () => number,
    private readonly deps: SlidingSyncDeps,
  ) {
    this.sliding = new SlidingSyncStore(store.sql);
    this.rooms = new SlidingRoomBuilder(store, this.sliding, userId, now, deps.unread);
    this.ephemeral = new EphemeralState(store, userId, now);
  }

  /** Something was written for this user: waiting requests look again. */
  wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
  }

  async sync(req: SlidingSyncRequest): Promise<SlidingSyncOutcome> {
    const now = this.now();
    this.sliding.expire(now - CONNECTION_EXPIRY_MS);
    let conn: number;
    let from: PositionRow | undefined;
    if (req.pos === undefined) {
      conn = this.sliding.connection(req.deviceId, req.connId, now, true);
    } else {
      const known = this.sliding.findConnection(req.deviceId, req.connId);
      from = known === undefined ? undefined : this.sliding.position(known, req.pos);
      if (!from || this.sliding.rowsAfterExceed(from.stream_pos, MAX_ROWS_BEHIND)) return { ok: false, reason: "unknown_pos" };
      conn = this.sliding.connection(req.deviceId, req.connId, now, false);
      this.sliding.settleOn(conn, from.pos_id);
    }
    const deadline = now + Math.max(0, req.timeoutMs);
    for (;;) {
      // The client started the connection over while this request waited: its pos is gone.
      if (!this.sliding.connectionExists(conn)) return { ok: false, reason: "unknown_pos" };
      const plan = this.plan(req, conn, from);
      // A new connection answers at once (MSC4186: there is always something to send).
      if (!from || plan.hasNews || this.now() >= deadline) return { ok: true, value: this.commit(req, conn, plan) };
      await this.waitForNews(req, plan.upTo, deadline);
    }
  }

  /** Waits until a stream row after `upTo` (or a to-device message) arrives, or the deadline. */
  private async waitForNews(req: SlidingSyncRequest, upTo: number, deadline: number): Promise<void> {
    const toDevice = req.extensions.toDevice;
    const news = () => this.store.hasRowsAfter(upTo, TO_DEVICE_STREAM_KIND) || (toDevice !== undefined && this.deps.toDevice().hasPending(req.deviceId, toDevice.since ?? 0));
    while (!news()) {
      const remaining = deadline - this.now();
      if (remaining <= 0) return;
      await waitForWake(this.waiters, remaining);
    }
  }

  /** Works out the response without writing anything, so a long-poll can look again later. */
  private plan(req: SlidingSyncRequest, conn: number, from: PositionRow | undefined): Plan {
    const upTo = this.store.maxPos();
    const since = from?.stream_pos;
    const rows: StreamRow[] = since === undefined ? [] : this.store.streamAfter(since, MAX_ROWS_BEHIND);
    const news = scanRows(rows);
    const held = from ? this.sliding.rooms(conn, from.pos_id) : new Map<string, ConnRoomRow>();
    const dm = new Set(req.dmRooms);

    const lists = new SlidingLists(this.store, this.sliding, this.userId, req.ignoredUsers).compute(req.lists, req.roomSubscriptions, dm, since);
    const result: SlidingSyncResult = { pos: 0, lists: lists.counts, rooms: {}, extensions: {} };
    const writes: RoomWrite[] = [];

    for (const [roomId, config] of lists.configs) {
      const prev = held.get(roomId);
      const heldRoom: HeldRoom | undefined = prev && { since: prev.live ? since! : prev.sent_pos, membership: prev.membership, config: JSON.parse(prev.config) as RoomConfig };
      const room = this.rooms.build(
        { roomId, config, held: heldRoom, from: since, isDm: dm.has(roomId), bumpStamp: lists.bumpStamps.get(roomId) ?? 0, deviceId: req.deviceId, ignored: req.ignoredUsers },
        // A live room changed if the rows since `pos` name it; a receipt row may be the user's own (unread counts).
        prev?.live ? news.rooms.has(roomId) || (news.ephemeralRooms.has(roomId) && this.sliding.ownReceiptAfter(roomId, this.userId, since!)) : undefined,
      );
      if (room) {
        result.rooms[roomId] = room;
        writes.push({ roomId, live: true, sentPos: upTo, membership: room.membership, config: JSON.stringify(config) });
      } else if (prev && !prev.live) {
        // Back in range with nothing new since the client last had it: it is up to date again.
        writes.push({ roomId, live: true, sentPos: upTo, membership: prev.membership, config: prev.config });
      }
    }
    // Rooms the client had live that changed while out of range — events, or receipts and typing —
    // remember what it has, so their return brings what it missed.
    for (const [roomId, prev] of held) {
      if (prev.live && !lists.configs.has(roomId) && (news.rooms.has(roomId) || news.ephemeralRooms.has(roomId))) {
        writes.push({ roomId, live: false, sentPos: since!, membership: prev.membership, config: prev.config });
      }
    }
    // Rooms back in range that the client last had at an older position: their receipts and
    // typing since then (MSC4186 § Receipts extension: the changes the client has not seen).
    const returning = new Map<string, number>();
    for (const roomId of lists.configs.keys()) {
      const prev = held.get(roomId);
      if (prev && !prev.live && result.rooms[roomId]?.initial !== true) returning.set(roomId, prev.sent_pos);
    }

    const extensionNews = this.extensions(req, result, lists, news, since, returning);
    const listCounts = JSON.stringify(lists.counts);
    const hasNews = Object.keys(result.rooms).length > 0 || extensionNews || listCounts !== from?.list_counts;
    return { result, upTo, listCounts, writes, hasNews };
  }

  /** Rooms an extension covers: those in range of its lists, and its subscribed rooms (MSC4186 § Extensions). */
  private scoped(scope: ExtensionScope, req: SlidingSyncRequest, lists: ListsOutcome): Set<string> {
    const out = new Set<string>();
    const names = !scope.lists || scope.lists.includes("*") ? Object.keys(req.lists) : scope.lists;
    for (const name of names) for (const roomId of lists.inRange[name] ?? []) out.add(roomId);
    const subscribed = Object.keys(req.roomSubscriptions).filter((r) => lists.bumpStamps.has(r));
    const wanted = scope.rooms ?? ["*"];
    for (const roomId of subscribed) if (wanted.includes("*") || wanted.includes(roomId)) out.add(roomId);
    return out;
  }

  /** Fills the extensions the request enables; true when one has something new. */
  private extensions(
    req: SlidingSyncRequest,
    result: SlidingSyncResult,
    lists: ListsOutcome,
    news: RowNews,
    since: number | undefined,
    returning: ReadonlyMap<string, number>,
  ): boolean {
    const ext = req.extensions;
    let any = false;
    const isNew = (roomId: string) => since === undefined || result.rooms[roomId]?.initial === true;

    if (ext.toDevice) any ||= this.deps.toDevice().hasPending(req.deviceId, ext.toDevice.since ?? 0);
    if (ext.e2ee) {
      const deviceLists = since === undefined ? undefined : collectDeviceListNews(news.rows);
      result.extensions.e2ee = { deviceLists };
      any ||= deviceLists !== undefined && hasDeviceListNews(deviceLists);
    }
    if (ext.accountData) {
      const global: AccountDataPick = since === undefined ? "all" : [...news.globalAccountData];
      const rooms: Record<string, AccountDataPick> = {};
      for (const roomId of this.scoped(ext.accountData, req, lists)) {
        if (isNew(roomId)) rooms[roomId] = "all";
        else if (news.roomAccountData.has(roomId)) {
          rooms[roomId] = [...news.roomAccountData.get(roomId)!];
          any = true;
        }
      }
      if (global !== "all" && global.length) any = true;
      result.extensions.accountData = { global, rooms };
    }
    if (ext.receipts || ext.typing) {
      const receiptRooms = ext.receipts ? this.scoped(ext.receipts, req, lists) : new Set<string>();
      const typingRooms = ext.typing ? this.scoped(ext.typing, req, lists) : new Set<string>();
      const receipts: Record<string, JsonObject> = {};
      const typing: Record<string, JsonObject> = {};
      for (const roomId of new Set([...receiptRooms, ...typingRooms])) {
        const whole = isNew(roomId);
        const from = returning.get(roomId) ?? since;
        if (!whole && !returning.has(roomId) && !news.ephemeralRooms.has(roomId)) continue;
        if (this.store.getRoom(roomId)?.membership !== "join") continue;
        const events = this.ephemeral.forRoom(roomId, from, whole);
        const typingEvent = events.find((e) => e.type === "m.typing");
        if (typingEvent && typingRooms.has(roomId)) typing[roomId] = typingEvent;
        const merged = mergeReceipts(events.filter((e) => e.type === "m.receipt"));
        if (merged && receiptRooms.has(roomId)) receipts[roomId] = merged;
      }
      if (ext.receipts) result.extensions.receipts = receipts;
      if (ext.typing) result.extensions.typing = typing;
      any ||= Object.keys(receipts).length + Object.keys(typing).length > 0;
    }
    return any;
  }

  /** Records the new position and what the client now holds, and hands out to-device messages. */
  private commit(req: SlidingSyncRequest, conn: number, plan: Plan): SlidingSyncResult {
    return this.store.sql.transaction(() => {
      const posId = this.sliding.addPosition(conn, plan.upTo, plan.listCounts);
      for (const w of plan.writes) this.sliding.putRoom(conn, posId, w.roomId, w.live, w.sentPos, w.membership, w.config);
      const result = plan.result;
      result.pos = posId;
      const toDevice = req.extensions.toDevice;
      if (toDevice) {
        // As in /sync (to-device.ts): `since` acknowledges what an earlier response carried.
        const events = this.deps.toDevice().take(req.deviceId, toDevice.since, toDevice.limit);
        result.extensions.toDevice = { nextBatch: String(this.store.maxPos()), events };
      }
      return result;
    });
  }
}

interface RowNews {
  rows: StreamRow[];
  /** Rooms with new events (or a join snapshot). */
  rooms: Set<string>;
  ephemeralRooms: Set<string>;
  globalAccountData: Set<string>;
  roomAccountData: Map<string, Set<string>>;
}

function scanRows(rows: StreamRow[]): RowNews {
  const out: RowNews = { rows, rooms: new Set(), ephemeralRooms: new Set(), globalAccountData: new Set(), roomAccountData: new Map() };
  for (const row of rows) {
    if ((row.kind === "event" || row.kind === "snapshot") && row.room_id) out.rooms.add(row.room_id);
    else if (EPHEMERAL_KINDS.has(row.kind) && row.room_id) out.ephemeralRooms.add(row.room_id);
    else if (row.kind === "account_data") out.globalAccountData.add((JSON.parse(row.data ?? "{}") as { type: string }).type);
    else if (row.kind === "room_account_data" && row.room_id) {
      const set = out.roomAccountData.get(row.room_id) ?? new Set<string>();
      set.add((JSON.parse(row.data ?? "{}") as { type: string }).type);
      out.roomAccountData.set(row.room_id, set);
    }
  }
  return out;
}

/**
 * The receipts extension carries one `m.receipt` event per room (MSC4186 § Receipts extension);
 * the user object keeps one per thread category, whose contents merge without loss since a user
 * has one receipt per type and thread, and an event belongs to one thread.
 */
function mergeReceipts(events: JsonObject[]): JsonObject | undefined {
  if (events.length === 0) return undefined;
  const content: Record<string, Record<string, Record<string, JsonObject>>> = {};
  for (const ev of events) {
    for (const [eventId, types] of Object.entries(ev.content as Record<string, Record<string, Record<string, JsonObject>>>)) {
      const byType = (content[eventId] ??= {});
      for (const [type, users] of Object.entries(types)) Object.assign((byType[type] ??= {}), users);
    }
  }
  return { type: "m.receipt", content: content as unknown as JsonObject };
}

