/**
 * One room of a sliding-sync response (MSC4186 § Room response), from this object's tables:
 * the room summary, cached timeline and the state it keeps (docs/design/sync.md § The user object).
 */
import { hiddenByIgnore } from "./ignored-users";
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import type { NotificationCounts } from "./notifications";
import { strippedContent } from "./sliding-sync-lists";
import type { SlidingSyncStore } from "./sliding-sync-store";
import type { Hero, RoomConfig, SlidingRoom } from "./sliding-sync-types";
import { clientTimelineEvent, TIMELINE_KEEP, type RoomEventRow, type RoomRow, type UserStore } from "./user-store";

const MEMBER = "m.room.member";

/** What the client holds of a room, from the connection's position. */
export interface HeldRoom {
  /** Stream position up to which the client has the room. */
  since: number;
  membership: string;
  config: RoomConfig;
}

export interface RoomInput {
  roomId: string;
  config: RoomConfig;
  held?: HeldRoom;
  /** The request's `pos` stream position (undefined on a new connection): events after it are live. */
  from?: number;
  isDm: boolean;
  bumpStamp: number;
  /** The requesting device: its own sends carry their transaction id, so it can match its local echoes. */
  deviceId: string;
  /** Users the user ignores: their non-state events are left out of the timeline (ignored-users.ts). */
  ignored?: ReadonlySet<string>;
}

const sameState = (a: RoomConfig, b: RoomConfig) => JSON.stringify(a.requiredState) === JSON.stringify(b.requiredState);

function stateKeyMatches(key: string, pattern: string, userId: string): boolean {
  return pattern === "*" || pattern === key || (pattern === "$ME" && key === userId);
}

export class SlidingRoomBuilder {
  constructor(
    private readonly store: UserStore,
    private readonly sliding: SlidingSyncStore,
    private readonly userId: string,
    private readonly now: () => number,
    private readonly unread: (roomId: string) => NotificationCounts,
  ) {}

  /** Whether the room has news for a client holding it up to `since` (events, state, or the user's own read receipt). */
  changedSince(roomId: string, since: number): boolean {
    return this.sliding.countEventsAfter(roomId, since) > 0 || this.sliding.ownReceiptAfter(roomId, this.userId, since);
  }

  /** The room as it is to be sent, or undefined when the client already has all of it. */
  build(input: RoomInput, knownChanged: boolean | undefined): SlidingRoom | undefined {
    const room = this.store.getRoom(input.roomId);
    if (!room) return undefined;
    const held = input.held;
    // A new membership (invite → join, a rejoin, …) changes what the client may see: start over.
    const initial = !held || held.membership !== room.membership;
    if (room.membership === "invite" || room.membership === "knock") return initial ? this.strippedRoom(room, input) : undefined;

    const configChanged = !initial && !sameState(held.config, input.config);
    const expanded = !initial && input.config.timelineLimit > held.config.timelineLimit;
    if (!initial && !configChanged && !expanded && !(knownChanged ?? this.changedSince(input.roomId, held.since))) return undefined;

    const out: SlidingRoom = {
      membership: room.membership,
      initial,
      requiredState: [],
      notificationCount: 0,
      highlightCount: 0,
      isDm: input.isDm,
      bumpStamp: input.bumpStamp,
    };
    const whole = initial || expanded;
    const timelineRows = this.timeline(out, input, whole ? undefined : held.since);
    if (expanded) out.expandedTimeline = true;
    const timelineEvents = timelineRows.map((r) => this.format(r, input.deviceId)).filter((e) => !hiddenByIgnore(e, input.ignored));
    if (input.config.timelineLimit > 0) out.timeline = timelineEvents;

    this.requiredState(out, input, initial || configChanged ? undefined : held!.since, timelineEvents);
    this.summary(out, room, initial);
    if (room.membership === "join") {
      const counts = this.unread(input.roomId);
      out.notificationCount = counts.notification_count;
      out.highlightCount = counts.highlight_count;
    }
    return out;
  }

  private strippedRoom(room: RoomRow, input: RoomInput): SlidingRoom {
    const stripped = room.stripped_state ? (JSON.parse(room.stripped_state) as JsonObject[]) : [];
    const out: SlidingRoom = {
      membership: room.membership,
      initial: true,
      requiredState: [],
      notificationCount: 0,
      highlightCount: 0,
      isDm: input.isDm,
      bumpStamp: input.bumpStamp,
    };
    if (room.membership === "invite") out.inviteState = stripped;
    else out.knockState = stripped;
    const name = strippedContent(stripped, "m.room.name")?.name;
    if (typeof name === "string" && name !== "") out.name = name;
    const url = strippedContent(stripped, "m.room.avatar")?.url;
    if (typeof url === "string" && url !== "") out.avatar = url;
    return out;
  }

  private format(row: RoomEventRow, deviceId: string): ClientEvent {
    return clientTimelineEvent(row, deviceId, this.now());
  }

  /**
   * The newest `timeline_limit` events: all of the cached ones when `since` is undefined, else
   * those after it. `limited` when older events exist that the client doesn't have: beyond the
   * limit, trimmed from the cache, or (for a whole room) before the cache unless it starts at the
   * room's creation.
   */
  private timeline(out: SlidingRoom, input: RoomInput, since: number | undefined): RoomEventRow[] {
    const limit = Math.min(input.config.timelineLimit, TIMELINE_KEEP);
    if (limit === 0) return [];
    // One more than the limit tells whether there are older events.
    const rows = since === undefined ? this.store.latestEvents(input.roomId, limit + 1) : this.store.eventsSince(input.roomId, since);
    const chosen = rows.slice(Math.max(0, rows.length - limit));
    const first = chosen[0];
    if (since === undefined) {
      out.limited = chosen.length < rows.length || (first !== undefined && (JSON.parse(first.event) as ClientEvent).type !== "m.room.create");
    } else {
      const newEvents = this.sliding.countEventsAfter(input.roomId, since);
      out.limited = chosen.length < rows.length || newEvents > rows.length;
    }
    if (first) out.prevBatch = first.room_stream - 1;
    out.numLive = input.from === undefined ? 0 : chosen.filter((r) => r.pos > input.from!).length;
    return chosen;
  }

  /**
   * `required_state` (MSC4186 § Required state): the state matching the request, whole when
   * `since` is undefined, else what changed after it. `$LAZY` members are the timeline's
   * senders; member events this object doesn't hold are left for the service (`needMembers`).
   */
  private requiredState(out: SlidingRoom, input: RoomInput, since: number | undefined, timeline: ClientEvent[]): void {
    const pairs = input.config.requiredState;
    if (pairs.length === 0) return;
    const userId = this.userId;
    const matches = (type: string, key: string) =>
      pairs.some(([t, k]) => (t === "*" || t === type) && k !== "$LAZY" && stateKeyMatches(key, k, userId));
    const rows = since === undefined ? this.store.state(input.roomId) : this.store.stateSince(input.roomId, since);
    const have = new Set<string>();
    for (const row of rows) {
      if (!matches(row.type, row.state_key)) continue;
      out.requiredState.push(JSON.parse(row.event) as ClientEvent);
      have.add(`${row.type}\u0000${row.state_key}`);
    }
    const lazy = pairs.some(([t, k]) => (t === MEMBER || t === "*") && k === "$LAZY");
    if (lazy) {
      for (const sender of new Set(timeline.map((e) => e.sender))) {
        if (have.has(`${MEMBER}\u0000${sender}`)) continue;
        const row = this.store.getState(input.roomId, MEMBER, sender);
        if (!row) continue;
        out.requiredState.push(JSON.parse(row.event) as ClientEvent);
        have.add(`${MEMBER}\u0000${sender}`);
      }
    }
    // Members beyond those this object keeps: all of them for `*` (when the client may lack some),
    // or the named users missing here.
    const allMembers = pairs.some(([t, k]) => (t === MEMBER || t === "*") && k === "*");
    if (allMembers && (since === undefined || out.limited === true)) {
      out.needMembers = "all";
      return;
    }
    if (since !== undefined) return;
    const named = pairs
      .filter(([t, k]) => (t === MEMBER || t === "*") && k !== "*" && k !== "$LAZY")
      .map(([, k]) => (k === "$ME" ? userId : k))
      .filter((k) => k.startsWith("@") && !have.has(`${MEMBER}\u0000${k}`));
    if (named.length) out.needMembers = [...new Set(named)];
  }

  /** Name, avatar, heroes (when the room has no name) and member counts. */
  private summary(out: SlidingRoom, room: RoomRow, initial: boolean): void {
    const content = (type: string) => {
      const row = this.store.getState(room.room_id, type, "");
      return row ? (JSON.parse(row.event) as ClientEvent).content : undefined;
    };
    // "An m.room.name event with an absent, null, or empty name field is treated as no name" (spec: m.room.name).
    const name = content("m.room.name")?.name;
    if (typeof name === "string" && name !== "") out.name = name;
    const avatar = content("m.room.avatar");
    if (typeof avatar?.url === "string" && avatar.url !== "") out.avatar = avatar.url;
    else if (avatar && !initial) out.avatar = null;
    if (out.name === undefined) {
      const heroes: Hero[] = [];
      const missing: string[] = [];
      const ids = (JSON.parse(room.heroes) as string[]).filter((h) => h !== this.userId).slice(0, 5);
      for (const userId of ids) {
        const row = this.store.getState(room.room_id, MEMBER, userId);
        const member = row ? (JSON.parse(row.event) as ClientEvent).content : undefined;
        const hero: Hero = { userId };
        if (typeof member?.displayname === "string") hero.displayname = member.displayname;
        if (typeof member?.avatar_url === "string") hero.avatarUrl = member.avatar_url;
        if (!member) missing.push(userId);
        heroes.push(hero);
      }
      out.heroes = heroes;
      if (missing.length) out.missingHeroes = missing;
    }
    if (room.membership === "join") {
      out.joinedCount = room.joined;
      out.invitedCount = room.invited;
    }
  }
}
