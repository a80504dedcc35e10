/**
 * Sliding-sync room lists (MSC4186 § Lists): the user's rooms, filtered, sorted by recency and
 * cut to the requested ranges, computed from this object's own tables in one pass.
 */
import { inviteFromIgnored } from "./ignored-users";
import type { JsonObject } from "../../matrix/canonical-json";
import type { ClientEvent } from "../../matrix/client-event";
import type { BumpRow, SlidingSyncStore } from "./sliding-sync-store";
import type { ListFilters, ListRequest, RoomConfig } from "./sliding-sync-types";
import type { RoomDelivery } from "./stream-types";
import type { UserStore } from "./user-store";

/**
 * Event types that move a room up the list (MSC4186 § bump_stamp; the set Synapse uses):
 * messages and other things a person would want to see, not state or reactions.
 */
export const BUMP_EVENT_TYPES: ReadonlySet<string> = new Set(["m.room.create", "m.room.message", "m.room.encrypted", "m.sticker", "m.call.invite", "m.poll.start", "m.beacon_info"]);

/**
 * After a room's delivery has been stored: the recency of its bump events. Called in the same
 * synchronous turn as the delivery, so both are written together.
 */
export function recordDeliveredBumps(sliding: SlidingSyncStore, d: RoomDelivery): void {
  const streams = [...d.events, ...(d.snapshot?.timeline ?? [])].filter((i) => BUMP_EVENT_TYPES.has(i.event.type)).map((i) => i.roomStream);
  sliding.recordBumps(d.roomId, streams);
}

export interface ListedRoom {
  roomId: string;
  membership: string;
  bumpStamp: number;
}

export interface ListsOutcome {
  counts: Record<string, { count: number }>;
  /** The rooms in each list's ranges. */
  inRange: Record<string, string[]>;
  /** Every room to consider, with its config merged over the lists and subscriptions it is in. */
  configs: Map<string, RoomConfig>;
  bumpStamps: Map<string, number>;
}

/** Merges two configs for the same room: the larger timeline and the union of required state (as Synapse does). */
export function mergeConfig(a: RoomConfig | undefined, b: RoomConfig): RoomConfig {
  if (!a) return { requiredState: dedupe(b.requiredState), timelineLimit: b.timelineLimit };
  return { requiredState: dedupe([...a.requiredState, ...b.requiredState]), timelineLimit: Math.max(a.timelineLimit, b.timelineLimit) };
}

function dedupe(pairs: [string, string][]): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const p of pairs) seen.set(`${p[0]}\u0000${p[1]}`, p);
  return [...seen.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, p]) => p);
}

function strippedOf(store: UserStore, roomId: string): JsonObject[] {
  const row = store.getRoom(roomId);
  return row?.stripped_state ? (JSON.parse(row.stripped_state) as JsonObject[]) : [];
}

export function strippedContent(stripped: JsonObject[], type: string): JsonObject | undefined {
  const ev = stripped.find((e) => e.type === type && (e.state_key ?? "") === "");
  return ev?.content as JsonObject | undefined;
}

export class SlidingLists {
  private encrypted?: Set<string>;
  private types?: Map<string, string | null>;
  private stripped = new Map<string, JsonObject[]>();

  constructor(
    private readonly store: UserStore,
    private readonly sliding: SlidingSyncStore,
    private readonly userId: string,
    private readonly ignored?: ReadonlySet<string>,
  ) {}

  /** Recency: the newest bump event for a joined room, else the user's membership event (as Synapse). */
  static bumpOf(r: BumpRow): number {
    return r.membership === "join" && r.bump_pos !== null ? Math.max(r.bump_pos, 0) : r.membership_pos;
  }

  /**
   * Which rooms a list may show: not rooms the user left of their own accord, unless they left
   * after `since` (so the client sees the leave); kicks and bans stay (as Synapse does).
   */
  private shown(r: BumpRow, since: number | undefined): boolean {
    // No invites from ignored users (spec: § Ignoring Users).
    if (r.membership === "invite") return !inviteFromIgnored(this.strippedFor(r.room_id), this.userId, this.ignored);
    if (r.membership !== "leave") return true;
    if (since !== undefined && r.membership_pos > since) return true;
    const own = this.store.getState(r.room_id, "m.room.member", this.userId);
    const sender = own ? (JSON.parse(own.event) as ClientEvent).sender : this.userId;
    return sender !== this.userId;
  }

  private strippedFor(roomId: string): JsonObject[] {
    let s = this.stripped.get(roomId);
    if (!s) this.stripped.set(roomId, (s = strippedOf(this.store, roomId)));
    return s;
  }

  private isEncrypted(r: ListedRoom): boolean {
    if (r.membership === "invite" || r.membership === "knock") return strippedContent(this.strippedFor(r.roomId), "m.room.encryption") !== undefined;
    this.encrypted ??= this.sliding.roomsWithState("m.room.encryption");
    return this.encrypted.has(r.roomId);
  }

  private roomType(r: ListedRoom): string | null {
    if (r.membership === "invite" || r.membership === "knock") {
      const t = strippedContent(this.strippedFor(r.roomId), "m.room.create")?.type;
      return typeof t === "string" ? t : null;
    }
    this.types ??= this.sliding.roomTypes();
    return this.types.get(r.roomId) ?? null;
  }

  private matcher(f: ListFilters | undefined, dm: Set<string>): (r: ListedRoom) => boolean {
    if (!f) return () => true;
    const children = f.spaces ? this.sliding.spaceChildren(f.spaces) : undefined;
    return (r) => {
      if (f.isDm !== undefined && dm.has(r.roomId) !== f.isDm) return false;
      if (f.isInvite !== undefined && (r.membership === "invite") !== f.isInvite) return false;
      if (f.isEncrypted !== undefined && this.isEncrypted(r) !== f.isEncrypted) return false;
      if (children && !children.has(r.roomId)) return false;
      if (f.roomTypes || f.notRoomTypes) {
        const t = this.roomType(r);
        if (f.notRoomTypes?.includes(t)) return false;
        if (f.roomTypes && !f.roomTypes.includes(t)) return false;
      }
      return true;
    };
  }

  /** Sorts once, then filters and cuts each list; adds the subscriptions the user has a room for. */
  compute(lists: Record<string, ListRequest>, subscriptions: Record<string, RoomConfig>, dm: Set<string>, since: number | undefined): ListsOutcome {
    const rooms = this.sliding.roomsWithBumps();
    const bumpStamps = new Map<string, number>();
    const sorted: ListedRoom[] = [];
    for (const r of rooms) {
      const stamp = SlidingLists.bumpOf(r);
      bumpStamps.set(r.room_id, stamp);
      if (this.shown(r, since)) sorted.push({ roomId: r.room_id, membership: r.membership, bumpStamp: stamp });
    }
    sorted.sort((a, b) => b.bumpStamp - a.bumpStamp || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));

    const out: ListsOutcome = { counts: {}, inRange: {}, configs: new Map(), bumpStamps };
    for (const [name, list] of Object.entries(lists)) {
      const matches = this.matcher(list.filters, dm);
      const filtered = sorted.filter(matches);
      out.counts[name] = { count: filtered.length };
      const picked = new Set<string>();
      for (const [start, end] of list.ranges ?? [[0, filtered.length - 1]]) {
        for (const r of filtered.slice(start, end + 1)) picked.add(r.roomId);
      }
      out.inRange[name] = [...picked];
      for (const roomId of picked) out.configs.set(roomId, mergeConfig(out.configs.get(roomId), list));
    }
    for (const [roomId, config] of Object.entries(subscriptions)) {
      // Only rooms the user is or was in: nothing is revealed about others (Synapse ignores them too).
      if (!bumpStamps.has(roomId)) continue;
      out.configs.set(roomId, mergeConfig(out.configs.get(roomId), config));
    }
    return out;
  }
}
