/**
 * A user's sync engine (docs/design/sync.md): takes room deliveries and per-user change
 * notifications into the user's stream, and answers /sync from this object's own tables.
 * Independent of workerd: tested in Node over node:sqlite.
 */
import { waitForWake } from "./wait";
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import { filterAllowsEvent, filterAllowsRoom, type RoomEventFilter } from "../../matrix/filters";
import type { EphemeralDelivery, RoomDelivery, UserChange } from "./stream-types";
import { EPHEMERAL_KINDS, EphemeralState } from "./ephemeral";
import { hiddenByIgnore, inviteFromIgnored } from "./ignored-users";
import { clientTimelineEvent, TIMELINE_KEEP, type RoomEventRow, type RoomStateRow, type UserStore } from "./user-store";
import { PresenceBook, type PresenceEvent, type PresenceInput, type PresenceUpdate } from "./presence";
import { TO_DEVICE_STREAM_KIND, ToDeviceInbox, type ToDeviceEvent, type ToDeviceMessage } from "./to-device";
import { collectDeviceListNews, deviceListNewsBetween, otherMemberRows, ownMembershipRow, type DeviceListNews } from "./device-lists";
import type { PushRuleset } from "../../matrix/push";
import { NotificationBook, type Notified, type RoomNotificationCounts } from "./notifications";

/** How many stream rows one sync reads at most; a client further behind catches up over several syncs. */
const MAX_ROWS_PER_SYNC = 2000;

export interface SyncFilter {
  timeline?: RoomEventFilter;
  state?: RoomEventFilter;
  /** Room-level include/exclude lists (filter.room.rooms / not_rooms). */
  rooms?: RoomEventFilter;
  includeLeave?: boolean;
}

export interface SyncRequest {
  deviceId: string;
  /** Stream position from the `since` token; undefined for an initial sync. */
  since?: number;
  fullState?: boolean;
  timeoutMs?: number;
  filter?: SyncFilter;
  /** Users whose non-state events and invites are left out (ignored-users.ts). */
  ignoredUsers?: ReadonlySet<string>;
}

export interface TimelineSection {
  events: ClientEvent[];
  limited: boolean;
  /** Room position before the first event, as a `t<N>` token's number. */
  prevBatch?: number;
}

export interface JoinedRoomResult {
  timeline: TimelineSection;
  state: ClientEvent[];
  summary: { heroes: string[]; joined: number; invited: number };
  /** True when the user (re)joined within this sync: the client gets the whole room. */
  newlyJoined: boolean;
  /** `m.typing` and `m.receipt` events (ephemeral.ts). */
  ephemeral?: JsonObject[];
  /** `unread_notifications`, and per thread when the filter asks (notifications.ts). */
  unread: RoomNotificationCounts;
}

export interface UserSyncResult {
  nextPos: number;
  join: Record<string, JoinedRoomResult>;
  invite: Record<string, JsonObject[]>;
  knock: Record<string, JsonObject[]>;
  leave: Record<string, { timeline: TimelineSection; state: ClientEvent[] }>;
  /** Account data types that changed; undefined on an initial sync (the caller sends everything). */
  accountData?: { global: string[]; rooms: Record<string, string[]> };
  /** The syncing device's to-device messages (to-device.ts); set by `sync`, not by `compute`. */
  toDevice?: ToDeviceEvent[];
  /** Presence of users this user was told about (presence.ts); the caller keeps only those still sharing a room. */
  presence?: PresenceEvent[];
  /** Device-list news after `since` (device-lists.ts); undefined on an initial sync. */
  deviceLists?: DeviceListNews;
}

function hasUrl(ev: ClientEvent): boolean {
  return typeof ev.content?.url === "string";
}

function allowed(filter: RoomEventFilter | undefined, ev: ClientEvent): boolean {
  return filterAllowsEvent(filter, { type: ev.type, sender: ev.sender, hasUrl: hasUrl(ev) });
}

/** Devices whose lazy-loaded member events are remembered (most recent first out). */
const LAZY_MEMBER_DEVICES = 32;

export class SyncEngine {
  private waiters = new Set<() => void>();
  /**
   * Member event ids already sent to each device, per room, for lazy loading without
   * `include_redundant_members` (spec: § Lazy-loading room members). In memory and best-effort,
   * like Synapse's cache: after a restart a member may be sent again, which the spec allows.
   */
  private readonly sentMembers = new Map<string, Map<string, Set<string>>>();

  constructor(
    private readonly store: UserStore,
    private readonly userId: string,
    private readonly now: () => number,
  ) {}

  private wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const w of waiting) w();
  }

  /**
   * Accepts a room's delivery; items the user already holds are ignored (delivery is at-least-once).
   * With the user's push rules, each new event is evaluated for them (notifications.ts); the
   * notifications it made are returned, for push gateways.
   */
  deliver(d: RoomDelivery, push?: { ruleset: PushRuleset; ignored?: ReadonlySet<string> }): Notified[] {
    const store = this.store;
    let changed = false;
    const notified: Notified[] = [];
    // Counts the notification book moved inside a transaction that rolls back go with it.
    const inTransaction = <T>(fn: () => T): T => {
      try {
        return store.sql.transaction(fn);
      } catch (err) {
        this.notifications.forgetCounts();
        throw err;
      }
    };
    inTransaction(() => {
      const existing = store.getRoom(d.roomId);
      let roomPos = existing?.room_pos ?? 0;
      let membership = existing?.membership ?? "leave";
      let membershipPos = existing?.membership_pos ?? 0;
      let stripped = existing?.stripped_state ?? null;

      const take = (item: RoomDelivery["events"][number]) => {
        if (item.roomStream <= roomPos) return;
        // Nothing an ignored user sends notifies (spec: § Ignoring Users; Synapse does the same).
        if (push && !hiddenByIgnore(item.event, push.ignored)) {
          // Evaluated before the event's own state applies: rules see the room as it was when it was sent.
          const n = this.notifications.evaluate(d.roomId, item.roomStream, item.event, push.ruleset, d.summary.joined);
          if (n) notified.push(n);
        }
        const pos = store.appendStream("event", d.roomId, item.roomStream, null);
        store.insertEvent(d.roomId, item.roomStream, pos, item.event, item.txn);
        const ev = item.event;
        if (item.senderMember) store.setState(d.roomId, item.senderMember, pos);
        if (typeof ev.state_key === "string") {
          const isOtherMember = ev.type === "m.room.member" && ev.state_key !== this.userId;
          // Other members' events stay in the timeline; the state keeps only senders we've seen speak.
          if (!isOtherMember || store.getState(d.roomId, ev.type, ev.state_key)) store.setState(d.roomId, ev, pos);
          if (ev.type === "m.room.member" && ev.state_key === this.userId && typeof ev.content.membership === "string") {
            membership = ev.content.membership;
            membershipPos = pos;
            if (membership === "join" || membership === "leave" || membership === "ban") stripped = null;
          }
          if (ev.type === "m.room.member" && ev.state_key !== this.userId) {
            for (const row of otherMemberRows(ev)) store.appendStream(row.kind, row.roomId, null, row.data);
          }
        }
        roomPos = item.roomStream;
        changed = true;
      };

      if (d.snapshot) {
        const pos = store.appendStream("snapshot", d.roomId, null, null);
        for (const ev of d.snapshot.state) store.setState(d.roomId, ev, pos);
        for (const item of d.snapshot.timeline) {
          if (item.roomStream <= roomPos) continue;
          store.insertEvent(d.roomId, item.roomStream, pos, item.event, item.txn);
          if (item.senderMember) store.setState(d.roomId, item.senderMember, pos);
          roomPos = Math.max(roomPos, item.roomStream);
        }
        changed = true;
      }
      for (const item of d.events) take(item);
      const own = ownMembershipRow(d.roomId, existing?.membership, membership);
      if (own) store.appendStream(own.kind, own.roomId, null, own.data);
      if (d.strippedState) {
        stripped = JSON.stringify(d.strippedState);
        changed = true;
      }
      store.upsertRoom({
        room_id: d.roomId,
        membership,
        membership_pos: membershipPos,
        room_pos: roomPos,
        joined: d.summary.joined,
        invited: d.summary.invited,
        heroes: JSON.stringify(d.summary.heroes),
        stripped_state: stripped,
      });
      store.trimEvents(d.roomId);
    });
    if (changed) this.wake();
    return notified;
  }

  private notificationBook: NotificationBook | undefined;

  /** The user's notifications and unread counts (notifications.ts). */
  get notifications(): NotificationBook {
    this.notificationBook ??= new NotificationBook(this.store, this.userId, this.now);
    return this.notificationBook;
  }

  /** Records a change to data owned elsewhere (account data, …) and wakes waiting syncs. */
  private ephemeralState: EphemeralState | undefined;

  private ephemeral(): EphemeralState {
    this.ephemeralState ??= new EphemeralState(this.store, this.userId, this.now);
    return this.ephemeralState;
  }

  /**
   * Takes a room's typing set or receipts (docs/design/sync.md § Ephemeral events); wakes waiting
   * syncs on news. True when the user's own receipt moved, so their unread counts may have dropped.
   */
  deliverEphemeral(d: EphemeralDelivery): boolean {
    const read = d.kind === "receipts" && this.store.sql.transaction(() => this.notifications.takeReceipts(d.roomId, d.receipts));
    if (this.ephemeral().take(d)) this.wake();
    return read;
  }

  /** Ephemeral events for each joined room of a response: current ones when the room is new to the client. */
  private addEphemeral(result: UserSyncResult, since: number | undefined): void {
    for (const [roomId, room] of Object.entries(result.join)) {
      room.ephemeral = this.ephemeral().forRoom(roomId, since, since === undefined || room.newlyJoined);
    }
  }

  notify(change: UserChange): void {
    const roomId = change.kind === "room_account_data" ? change.roomId : null;
    this.store.appendStream(change.kind, roomId, null, change.kind === "device_list" ? { user_id: change.userId } : { type: change.type });
    this.wake();
  }

  private format(row: RoomEventRow, deviceId: string): ClientEvent {
    return clientTimelineEvent(row, deviceId, this.now());
  }

  private heroesFor(heroes: string): string[] {
    return (JSON.parse(heroes) as string[]).filter((h) => h !== this.userId).slice(0, 5);
  }

  /** State for a room: non-member state, the user's own member event, and the members the timeline needs. */
  private roomState(roomId: string, rows: RoomStateRow[], timeline: ClientEvent[], filter: SyncFilter | undefined, lazy: boolean): ClientEvent[] {
    const inTimeline = new Set(timeline.map((e) => e.event_id));
    const senders = new Set(timeline.map((e) => e.sender));
    const out: ClientEvent[] = [];
    for (const row of rows) {
      const ev = JSON.parse(row.event) as ClientEvent;
      if (inTimeline.has(ev.event_id)) continue;
      if (ev.type === "m.room.member" && lazy && ev.state_key !== this.userId && !senders.has(ev.state_key ?? "")) continue;
      if (!allowed(filter?.state, ev)) continue;
      out.push(ev);
    }
    void roomId;
    return out;
  }

  private timelineOf(rows: RoomEventRow[], limit: number, deviceId: string, filter: RoomEventFilter | undefined, moreBefore: boolean, ignored?: ReadonlySet<string>): TimelineSection {
    const visible = rows.filter((r) => {
      const ev = JSON.parse(r.event) as ClientEvent;
      return allowed(filter, ev) && !hiddenByIgnore(ev, ignored);
    });
    const limited = visible.length > limit || moreBefore;
    const chosen = visible.slice(Math.max(0, visible.length - limit));
    const first = chosen[0] ?? rows[rows.length - 1];
    return {
      events: chosen.map((r) => this.format(r, deviceId)),
      limited,
      prevBatch: first ? first.room_stream - (chosen.length ? 1 : 0) : undefined,
    };
  }

  private rememberMembers(deviceId: string, roomId: string, reset: boolean, events: ClientEvent[]): void {
    let rooms = this.sentMembers.get(deviceId);
    if (rooms) this.sentMembers.delete(deviceId);
    else rooms = new Map();
    this.sentMembers.set(deviceId, rooms);
    if (this.sentMembers.size > LAZY_MEMBER_DEVICES) this.sentMembers.delete(this.sentMembers.keys().next().value!);
    let sent = rooms.get(roomId);
    if (!sent || reset) rooms.set(roomId, (sent = new Set()));
    for (const ev of events) if (ev.type === "m.room.member") sent.add(ev.event_id);
  }

  private joinedRoom(roomId: string, since: number | undefined, req: SyncRequest, newEvents = 0): JoinedRoomResult {
    const store = this.store;
    const room = store.getRoom(roomId)!;
    const filter = req.filter;
    const limit = Math.min(filter?.timeline?.limit ?? 10, TIMELINE_KEEP);
    const lazy = filter?.state?.lazyLoadMembers ?? false;
    // full_state sends all state but "the timeline will still be limited by the since parameter" (spec: GET /sync).
    const whole = since === undefined || room.membership_pos > since;
    let timeline: TimelineSection;
    let state: ClientEvent[];
    if (whole) {
      const rows = store.latestEvents(roomId, TIMELINE_KEEP);
      // Anything before the cached window means older history exists (the create event starts a room).
      const startsRoom = rows[0] !== undefined && (JSON.parse(rows[0].event) as ClientEvent).type === "m.room.create";
      timeline = this.timelineOf(rows, limit, req.deviceId, filter?.timeline, rows.length > 0 && !startsRoom && rows.length >= limit, req.ignoredUsers);
      state = this.roomState(roomId, store.state(roomId), timeline.events, filter, lazy);
    } else {
      const rows = store.eventsSince(roomId, since);
      // More new events than the room's cache still holds: older ones were trimmed, so the timeline has a gap.
      timeline = this.timelineOf(rows, limit, req.deviceId, filter?.timeline, newEvents > rows.length, req.ignoredUsers);
      // State changes the client would otherwise miss: those skipped by the limit.
      if (req.fullState === true) state = this.roomState(roomId, store.state(roomId), timeline.events, filter, lazy);
      else state = timeline.limited ? this.roomState(roomId, store.stateSince(roomId, since), timeline.events, filter, lazy) : [];
      if (lazy) {
        // Lazy loading: members of the timeline's senders, unless this device was already sent
        // them (or always, with include_redundant_members).
        const redundant = filter?.state?.includeRedundantMembers === true;
        const sent = this.sentMembers.get(req.deviceId)?.get(roomId);
        const have = new Set([...state, ...timeline.events].map((e) => e.event_id));
        for (const sender of new Set(timeline.events.map((e) => e.sender))) {
          const row = store.getState(roomId, "m.room.member", sender);
          if (!row) continue;
          const ev = JSON.parse(row.event) as ClientEvent;
          if (have.has(ev.event_id) || (!redundant && sent?.has(ev.event_id))) continue;
          if (!allowed(filter?.state, ev)) continue;
          have.add(ev.event_id);
          state.push(ev);
        }
      }
    }
    if (lazy) this.rememberMembers(req.deviceId, roomId, whole, [...state, ...timeline.events]);
    return {
      timeline,
      state,
      summary: { heroes: this.heroesFor(room.heroes), joined: room.joined, invited: room.invited },
      newlyJoined: whole && since !== undefined,
      unread: this.notifications.counts(roomId, filter?.timeline?.unreadThreadNotifications === true),
    };
  }

  /** Builds the sync response body for the rooms and stream this object owns. */
  compute(req: SyncRequest): UserSyncResult {
    const store = this.store;
    const since = req.since;
    const filter = req.filter;
    const result: UserSyncResult = { nextPos: store.maxPos(), join: {}, invite: {}, knock: {}, leave: {} };
    const roomAllowed = (roomId: string) => filterAllowsRoom(filter?.rooms, roomId);

    if (since === undefined) {
      for (const room of store.allRooms()) {
        if (!roomAllowed(room.room_id)) continue;
        if (room.membership === "join") result.join[room.room_id] = this.joinedRoom(room.room_id, undefined, req);
        else if (room.membership === "invite") {
          const stripped = JSON.parse(room.stripped_state ?? "[]") as JsonObject[];
          if (!inviteFromIgnored(stripped, this.userId, req.ignoredUsers)) result.invite[room.room_id] = stripped;
        }
        else if (room.membership === "knock") result.knock[room.room_id] = JSON.parse(room.stripped_state ?? "[]");
        else if (filter?.includeLeave) {
          const limit = Math.min(filter?.timeline?.limit ?? 10, TIMELINE_KEEP);
          result.leave[room.room_id] = { timeline: this.timelineOf(store.latestEvents(room.room_id, TIMELINE_KEEP), limit, req.deviceId, filter?.timeline, false, req.ignoredUsers), state: [] };
        }
      }
      this.addEphemeral(result, undefined);
      return result;
    }

    const rows = store.streamAfter(since, MAX_ROWS_PER_SYNC);
    if (rows.length === MAX_ROWS_PER_SYNC) result.nextPos = rows[rows.length - 1]!.pos;
    const changedRooms = new Map<string, number>();
    const accountData = { global: new Set<string>(), rooms: new Map<string, Set<string>>() };
    for (const row of rows) {
      if ((row.kind === "event" || row.kind === "snapshot") && row.room_id) changedRooms.set(row.room_id, (changedRooms.get(row.room_id) ?? 0) + (row.kind === "event" ? 1 : 0));
      else if (row.kind === "account_data") accountData.global.add((JSON.parse(row.data ?? "{}") as { type: string }).type);
      else if (row.kind === "room_account_data" && row.room_id) {
        const set = accountData.rooms.get(row.room_id) ?? new Set<string>();
        set.add((JSON.parse(row.data ?? "{}") as { type: string }).type);
        accountData.rooms.set(row.room_id, set);
        // A room whose only news is account data still appears in the response.
        if (!changedRooms.has(row.room_id)) changedRooms.set(row.room_id, 0);
      } else if (EPHEMERAL_KINDS.has(row.kind) && row.room_id && !changedRooms.has(row.room_id) && store.getRoom(row.room_id)?.membership === "join") {
        // Typing or receipts only: the room appears with its ephemeral events.
        changedRooms.set(row.room_id, 0);
      }
    }
    if (req.fullState === true) {
      // Every joined room appears with its whole state, news or not (spec: GET /sync `full_state`).
      for (const room of store.allRooms()) if (room.membership === "join" && !changedRooms.has(room.room_id)) changedRooms.set(room.room_id, 0);
    }
    for (const [roomId, newEvents] of changedRooms) {
      if (!roomAllowed(roomId)) continue;
      const room = store.getRoom(roomId);
      if (!room) continue;
      if (room.membership === "join") result.join[roomId] = this.joinedRoom(roomId, since, req, newEvents);
      else if (room.membership === "invite") {
        const stripped = JSON.parse(room.stripped_state ?? "[]") as JsonObject[];
        // "Servers must not send room invites from ignored users to clients" (spec: § Ignoring Users).
        if (!inviteFromIgnored(stripped, this.userId, req.ignoredUsers)) result.invite[roomId] = stripped;
      }
      else if (room.membership === "knock") result.knock[roomId] = JSON.parse(room.stripped_state ?? "[]");
      else {
        const limit = Math.min(filter?.timeline?.limit ?? 10, TIMELINE_KEEP);
        // Only what happened up to the leave: nothing after it is delivered.
        result.leave[roomId] = { timeline: this.timelineOf(store.eventsSince(roomId, since), limit, req.deviceId, filter?.timeline, false, req.ignoredUsers), state: [] };
      }
    }
    result.deviceLists = collectDeviceListNews(rows);
    result.accountData = {
      global: [...accountData.global],
      rooms: Object.fromEntries([...accountData.rooms].map(([r, s]) => [r, [...s]])),
    };
    this.addEphemeral(result, since);
    return result;
  }

  /** /sync: answers at once when there is news after `since`, otherwise waits up to the timeout. */
  private inbox: ToDeviceInbox | undefined;
  private presenceBook: PresenceBook | undefined;

  /** This user's to-device queues (to-device.ts). */
  get toDevice(): ToDeviceInbox {
    this.inbox ??= new ToDeviceInbox(this.store.sql, this.store);
    return this.inbox;
  }

  /** This user's presence and the presence of others pushed to them (presence.ts). */
  get presence(): PresenceBook {
    this.presenceBook ??= new PresenceBook(this.store.sql, this.store, this.userId);
    return this.presenceBook;
  }

  /** Device-list news between two of this user's sync positions (GET /keys/changes). */
  deviceListsBetween(from: number, to: number): DeviceListNews {
    return deviceListNewsBetween(this.store.sql, from, to);
  }

  /** Queues to-device messages for this user's devices; wakes waiting syncs when one is new. */
  receiveToDevice(messages: ToDeviceMessage[]): void {
    if (this.toDevice.receive(messages) > 0) this.wake();
  }

  /** Changes the user's own presence; what it returns is to be pushed to others (it is already in this user's stream). */
  applyPresence(input: PresenceInput): PresenceUpdate | undefined {
    const update = this.presence.apply(input, this.now());
    if (update) this.receivePresence(update);
    return update;
  }

  /** Takes a user's pushed presence; wakes waiting syncs when it is newer than the copy held, unless it is only a refresh. */
  receivePresence(update: PresenceUpdate): void {
    if (this.presence.receive(update) && !update.refresh) this.wake();
  }

  /** News for a sync from `since`: a stream row (other than another device's to-device stamp), or to-device messages for this device. */
  private hasNews(deviceId: string, since: number): boolean {
    return this.store.hasRowsAfter(since, TO_DEVICE_STREAM_KIND) || this.toDevice.hasPending(deviceId, since);
  }

  /** `compute` plus the device's to-device messages and presence. */
  private respond(req: SyncRequest): UserSyncResult {
    // First: taking messages may stamp them with a new stream row, which next_batch must cover.
    const toDevice = this.toDevice.take(req.deviceId, req.since);
    const result = this.compute(req);
    result.toDevice = toDevice;
    result.presence = this.presence.eventsFor(req.since, result.nextPos, this.now());
    return result;
  }

  async sync(req: SyncRequest): Promise<UserSyncResult> {
    const deadline = this.now() + Math.max(0, req.timeoutMs ?? 0);
    for (;;) {
      if (req.since === undefined || req.fullState || this.hasNews(req.deviceId, req.since)) return this.respond(req);
      const remaining = deadline - this.now();
      if (remaining <= 0) return this.respond(req);
      await waitForWake(this.waiters, remaining);
    }
  }
}
