/**
 * Room → user delivery planning (docs/design/sync.md). Reads the accepted events after the
 * room's delivery cursor and works out, for each local recipient, what to hand to their user
 * object. Pure over the room store, so it is tested in Node; the Durable Object does the calls.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { toStrippedState, type ClientEvent } from "../../matrix/client-event";
import { stateKey, type StateMap } from "../../matrix/events";
import type { DeliveredEvent, RoomDelivery, RoomSummaryCounts } from "../user/stream-types";
import type { RoomReader } from "./room-reader";
import type { RoomStore, StoredEvent } from "./room-store";

/** How many recent events a user who just joined gets with the room's state. */
const SNAPSHOT_TIMELINE = 20;
/** State an invitee or knocker may see before joining (spec: § Stripped state, recommended list). */
const STRIPPED_TYPES = ["m.room.create", "m.room.name", "m.room.avatar", "m.room.topic", "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption"];

export interface DeliveryPlan {
  /** Move the cursor here once every delivery has been accepted. */
  upTo: number;
  deliveries: Map<string, RoomDelivery>;
}

export class DeliveryPlanner {
  constructor(
    private readonly store: RoomStore,
    private readonly reader: RoomReader,
    private readonly roomId: string,
    private readonly serverName: string,
  ) {}

  cursor(): number {
    return Number(this.store.getMeta("delivered_stream") ?? "0");
  }

  advance(upTo: number): void {
    this.store.setMeta("delivered_stream", String(upTo));
  }

  private isLocal(userId: string): boolean {
    return userId.startsWith("@") && userId.endsWith(`:${this.serverName}`);
  }

  private membershipIn(state: StateMap, userId: string): string | undefined {
    const id = state.get(stateKey("m.room.member", userId));
    const m = id ? this.store.getEvent(id)?.event.content.membership : undefined;
    return typeof m === "string" ? m : undefined;
  }

  private localJoined(state: StateMap): string[] {
    const out: string[] = [];
    for (const [k, id] of state) {
      if (!k.startsWith("m.room.member\u0000")) continue;
      const userId = k.slice("m.room.member\u0000".length);
      if (!this.isLocal(userId)) continue;
      if (this.store.getEvent(id)?.event.content.membership === "join") out.push(userId);
    }
    return out;
  }

  private summary(): RoomSummaryCounts {
    const joined = this.store.membersWith("join");
    const invited = this.store.membersWith("invite");
    return { joined: joined.length, invited: invited.length, heroes: [...joined, ...invited].sort().slice(0, 6) };
  }

  private item(stored: StoredEvent, state: StateMap): DeliveredEvent {
    const item: DeliveredEvent = { roomStream: stored.stream, event: this.reader.format(stored) };
    const memberId = state.get(stateKey("m.room.member", stored.event.sender));
    const member = memberId ? this.store.getEvent(memberId) : undefined;
    if (member && member.event.event_id !== stored.event.event_id) item.senderMember = this.reader.format(member);
    const txn = this.store.txnOf(stored.event.event_id);
    if (txn) item.txn = txn;
    return item;
  }

  private strippedState(state: StateMap, extra: StoredEvent): JsonObject[] {
    const out: JsonObject[] = [];
    for (const type of STRIPPED_TYPES) {
      const id = state.get(stateKey(type, ""));
      const ev = id ? this.store.getEvent(id) : undefined;
      if (ev) out.push(toStrippedState(ev.event));
    }
    out.push(toStrippedState(extra.event));
    return out;
  }

  /** State and recent history for a user who has just joined, as history visibility lets them see it. */
  private snapshot(userId: string, joinEvent: StoredEvent, state: StateMap): { state: ClientEvent[]; timeline: DeliveredEvent[] } {
    const stateEvents: ClientEvent[] = [];
    for (const [k, id] of state) {
      // Other members' events are not copied into every member's object (docs/design/sync.md).
      if (k.startsWith("m.room.member\u0000") && k !== stateKey("m.room.member", userId)) continue;
      const ev = this.store.getEvent(id);
      if (ev) stateEvents.push(this.reader.format(ev));
    }
    const checker = this.reader.visibility(userId);
    const timeline: DeliveredEvent[] = [];
    for (const stored of this.store.timeline({ fromStream: joinEvent.stream, dir: "b", limit: SNAPSHOT_TIMELINE * 3 })) {
      if (timeline.length >= SNAPSHOT_TIMELINE) break;
      if (!checker.canSee(stored)) continue;
      const at = stored.stateGroup !== null ? this.store.loadStateGroup(stored.stateGroup) : state;
      timeline.unshift(this.item(stored, at));
    }
    return { state: stateEvents, timeline };
  }

  plan(limit = 100): DeliveryPlan | undefined {
    const events = this.store.eventsAfter(this.cursor(), limit);
    if (events.length === 0) return undefined;
    const deliveries = new Map<string, RoomDelivery>();
    const summary = this.summary();
    const deliveryFor = (userId: string): RoomDelivery => {
      let d = deliveries.get(userId);
      if (!d) {
        d = { roomId: this.roomId, events: [], summary };
        deliveries.set(userId, d);
      }
      return d;
    };
    for (const stored of events) {
      if (stored.rejected || stored.softFailed || stored.outlier || stored.stateGroup === null) continue;
      const state = this.store.loadStateGroup(stored.stateGroup);
      const ev = stored.event;
      const item = this.item(stored, state);
      const recipients = new Set(this.localJoined(state));
      // The target of a membership change always hears of it, whatever it is (kick, ban, invite, leave).
      if (ev.type === "m.room.member" && typeof ev.state_key === "string" && this.isLocal(ev.state_key)) {
        const target = ev.state_key;
        recipients.add(target);
        const membership = this.membershipIn(state, target);
        if (membership === "join" && ev.content.membership === "join") {
          const replaced = (ev.unsigned as JsonObject | undefined)?.replaces_state;
          const wasJoined = typeof replaced === "string" && this.store.getEvent(replaced)?.event.content.membership === "join";
          if (!wasJoined) deliveryFor(target).snapshot = this.snapshot(target, stored, state);
        } else if (membership === "invite" || membership === "knock") {
          deliveryFor(target).strippedState = this.strippedState(state, stored);
        }
      }
      for (const userId of recipients) deliveryFor(userId).events.push(item);
    }
    return { upTo: events[events.length - 1]!.stream, deliveries };
  }
}
