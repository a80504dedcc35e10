/**
 * A per-resolution view of the room's event graph (spec: Rooms v2 § State resolution).
 *
 * State resolution reads the same events and the same `auth_events` links many times: once to
 * compute auth chains, again for every power-level lookup during sorting, again for mainline
 * positions. The Room Durable Object reads events from SQLite, so `EventGraph` memoises each
 * lookup for the duration of one call; nothing is cached across calls, because the caller's
 * store is the source of truth and may learn about rejections in between.
 */
import type { CheckEventAuthOptions } from "../auth";
import { authEventIds, type RoomEvent } from "../events";

/** Reads one event of the room by id; `undefined` when the server does not have it. */
export type EventLookup = (eventId: string) => RoomEvent | undefined;

export interface StateResOptions {
  /**
   * Whether an event was rejected by the authorization rules (spec: Rooms v2 § Rejected events).
   * Rejected events are excluded when they would serve as auth events during the iterative auth
   * checks; they are otherwise handled as usual. Defaults to "nothing is rejected".
   */
  isRejected?: (eventId: string) => boolean;
  /**
   * Passed to every authorization check, e.g. the third-party-invite signature verdicts (which
   * need asynchronous ed25519 and so are decided beforehand). Without them such invites fail.
   */
  authOptions?: CheckEventAuthOptions;
}

/** Anything the building blocks accept as a source of events. */
export type EventSource = EventLookup | EventGraph;

export class EventGraph {
  private readonly events = new Map<string, RoomEvent | null>();
  private readonly authIds = new Map<string, readonly string[]>();
  private readonly powerLevelsAuth = new Map<string, string | null>();
  /** Sender levels by `(power levels id, create id, sender)`: parsing power levels is not free. */
  readonly senderLevels = new Map<string, number>();

  constructor(private readonly lookup: EventLookup) {}

  static of(source: EventSource): EventGraph {
    return source instanceof EventGraph ? source : new EventGraph(source);
  }

  get(eventId: string): RoomEvent | undefined {
    let ev = this.events.get(eventId);
    if (ev === undefined) {
      ev = this.lookup(eventId) ?? null;
      this.events.set(eventId, ev);
    }
    return ev ?? undefined;
  }

  /** The `auth_events` of an event, deduplicated; empty for an event we do not have. */
  authEvents(eventId: string): readonly string[] {
    let ids = this.authIds.get(eventId);
    if (ids === undefined) {
      const ev = this.get(eventId);
      ids = ev ? [...new Set(authEventIds(ev))] : [];
      this.authIds.set(eventId, ids);
    }
    return ids;
  }

  /**
   * The `m.room.power_levels` event among an event's `auth_events`, if any (the step that both
   * the mainline and the sender power lookup take). A v12 event cites at most one; should a
   * malformed event cite several, the first listed wins, as in Synapse and Ruma.
   */
  powerLevelsAuthEvent(eventId: string): string | undefined {
    let pl = this.powerLevelsAuth.get(eventId);
    if (pl === undefined) {
      pl = null;
      for (const aid of this.authEvents(eventId)) {
        const aev = this.get(aid);
        if (aev && aev.type === "m.room.power_levels" && aev.state_key === "") {
          pl = aid;
          break;
        }
      }
      this.powerLevelsAuth.set(eventId, pl);
    }
    return pl ?? undefined;
  }
}

/**
 * The id of the `m.room.create` event of a room whose id is derived from it (room version 12,
 * spec: Rooms v12 § Event format): `!<hash>` belongs to the create event `$<hash>`. Such rooms
 * leave the create event out of `auth_events`, so state resolution has to find it this way.
 */
export function createEventIdOfRoom(roomId: string): string | undefined {
  return roomId.startsWith("!") && roomId.length > 1 ? `$${roomId.slice(1)}` : undefined;
}

/** `origin_server_ts` as a number; a malformed value sorts as 0 rather than poisoning the sort. */
export function originServerTs(ev: RoomEvent | undefined): number {
  const ts = ev?.origin_server_ts;
  return typeof ts === "number" && Number.isFinite(ts) ? ts : 0;
}
