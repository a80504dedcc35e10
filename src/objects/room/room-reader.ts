/**
 * Read paths of a room, always through the viewer's eyes: history visibility and membership are
 * applied here, once, for every endpoint that returns events (spec: § History visibility).
 */
import { toClientEvent, type ClientEvent } from "../../matrix/client-event";
import type { JsonObject } from "../../matrix/canonical-json";
import { stateKey, type RoomEvent } from "../../matrix/events";
import type { RoomVersion } from "../../matrix/room-versions";
import type { RoomStore, StoredEvent } from "./room-store";
import { VisibilityChecker } from "./visibility";
import { bundledAggregations, type AggregationViewer } from "./aggregations";
import { RelationsStore } from "./relations-store";

/** Who an event is formatted for: `deviceId` echoes `transaction_id`; `ignoredUsers` leaves their children out of aggregations. */
export type FormatViewer = AggregationViewer & { deviceId?: string };

export type ReadResult<T> = { ok: true; value: T } | { ok: false; errcode: "M_FORBIDDEN" | "M_NOT_FOUND"; error: string };

export class RoomReader {
  constructor(
    private readonly store: RoomStore,
    private readonly version: RoomVersion,
    private readonly now: () => number,
  ) {}

  visibility(userId: string): VisibilityChecker {
    return new VisibilityChecker(this.store, userId);
  }

  /**
   * Formats a stored event for a client, applying redactions and adding `prev_content`.
   *
   * Bundled aggregations (spec: § Aggregations of child events) are part of format(): whenever a
   * `viewer` is given, `unsigned["m.relations"]` is computed for them (aggregations.ts), so every
   * endpoint that serves events through format() with a viewer — /event, /messages, /context,
   * /relations, /threads — bundles them without further wiring. Paths that must not bundle pass
   * no viewer (state and member lists: state events get no bundle anyway). An `m.relations` key
   * in `extraUnsigned` is taken as given and nothing is computed.
   */
  format(stored: StoredEvent, viewer?: FormatViewer, extraUnsigned?: JsonObject): ClientEvent {
    return this.formatWith(stored, viewer, extraUnsigned, viewer ? "full" : "none");
  }

  /** `bundle`: "full" at the top level, "nested" for a thread's latest event (no nested thread), "none" for edits. */
  private formatWith(stored: StoredEvent, viewer: FormatViewer | undefined, extraUnsigned: JsonObject | undefined, bundle: "full" | "nested" | "none"): ClientEvent {
    if (viewer && bundle !== "none" && !(extraUnsigned && "m.relations" in extraUnsigned)) {
      const relations = this.aggregations(stored, viewer, bundle === "full");
      if (relations) extraUnsigned = { ...(extraUnsigned ?? {}), "m.relations": relations };
    }
    const ev = stored.event;
    let redactedBecause: ClientEvent | undefined;
    if (stored.redactedBy) {
      const redaction = this.store.getEvent(stored.redactedBy);
      if (redaction) redactedBecause = toClientEvent(redaction.event, this.version, { now: this.now() });
    }
    let prevContent: JsonObject | undefined;
    let prevSender: string | undefined;
    const replaced = (ev.unsigned as JsonObject | undefined)?.replaces_state;
    if (typeof replaced === "string") {
      const prev = this.store.getEvent(replaced);
      if (prev) {
        prevContent = prev.redactedBy ? {} : prev.event.content;
        prevSender = prev.event.sender;
      }
    }
    let transactionId: string | undefined;
    if (viewer?.deviceId && ev.sender === viewer.userId) {
      transactionId = this.store.transactionIdFor(ev.event_id, viewer.userId, viewer.deviceId);
    }
    return toClientEvent(ev, this.version, { now: this.now(), redactedBecause, prevContent, prevSender, transactionId, extraUnsigned });
  }

  private relationsStore: RelationsStore | undefined;

  /** The bundled aggregations of `stored` as `viewer` sees them (undefined when there are none). */
  aggregations(stored: StoredEvent, viewer: FormatViewer, includeThread = true): JsonObject | undefined {
    this.relationsStore ??= new RelationsStore(this.store.sql);
    let checker: VisibilityChecker | undefined;
    return bundledAggregations(
      {
        store: this.store,
        relations: this.relationsStore,
        canSee: (child) => (checker ??= this.visibility(viewer.userId)).canSee(child),
        format: (child, nested) => this.formatWith(child, viewer, undefined, nested ? "nested" : "none"),
      },
      stored,
      viewer,
      { includeThread },
    );
  }

  /** GET /rooms/{roomId}/event/{eventId}: 404 when unknown or not visible, as the spec asks. */
  event(userId: string, eventId: string, deviceId?: string): ReadResult<ClientEvent> {
    const checker = this.visibility(userId);
    if (!checker.mayReadRoom()) return { ok: false, errcode: "M_FORBIDDEN", error: "You are not a member of this room" };
    const stored = this.store.getEvent(eventId);
    if (!stored || stored.rejected || stored.outlier || !checker.canSee(stored)) {
      return { ok: false, errcode: "M_NOT_FOUND", error: "Event not found" };
    }
    return { ok: true, value: this.format(stored, { userId, deviceId }) };
  }

  /**
   * The state a user may see: the current state while joined (or when world-readable), the state
   * at the moment they left otherwise.
   */
  visibleState(userId: string): ReadResult<Map<string, string>> {
    const checker = this.visibility(userId);
    const current = this.store.currentState();
    if (checker.membership === "join") return { ok: true, value: current };
    if (checker.membership === "leave" || checker.membership === "ban") {
      const id = current.get(stateKey("m.room.member", userId));
      const stored = id ? this.store.getEvent(id) : undefined;
      // Only a user who had been joined may look back at the room.
      if (stored && checker.canSee(stored) && stored.stateGroup !== null) {
        const before = this.store.loadStateGroup(stored.stateGroup);
        const wasJoined = (stored.event.unsigned as JsonObject | undefined)?.replaces_state;
        const prior = typeof wasJoined === "string" ? this.store.getEvent(wasJoined)?.event.content.membership : undefined;
        if (prior === "join") return { ok: true, value: before };
      }
    }
    // Anyone may read a world-readable room's current state, including a user who left it without ever joining.
    if (checker.roomIsWorldReadable()) return { ok: true, value: current };
    return { ok: false, errcode: "M_FORBIDDEN", error: "You are not allowed to view this room's state" };
  }

  stateEvents(userId: string): ReadResult<ClientEvent[]> {
    const state = this.visibleState(userId);
    if (!state.ok) return state;
    const out: ClientEvent[] = [];
    for (const id of state.value.values()) {
      const stored = this.store.getEvent(id);
      if (stored) out.push(this.format(stored));
    }
    return { ok: true, value: out };
  }

  stateEvent(userId: string, type: string, key: string): ReadResult<RoomEvent | undefined> {
    const state = this.visibleState(userId);
    if (!state.ok) return state;
    const id = state.value.get(stateKey(type, key));
    const stored = id ? this.store.getEvent(id) : undefined;
    if (!stored) return { ok: true, value: undefined };
    return { ok: true, value: stored.redactedBy ? { ...stored.event, content: this.format(stored).content } : stored.event };
  }
}

export interface MembersQuery {
  /** Room stream position (from a pagination token): the members as of that point. */
  at?: number;
  membership?: string;
  notMembership?: string;
}

export class MemberReader {
  constructor(
    private readonly store: RoomStore,
    private readonly reader: RoomReader,
  ) {}

  /** GET /rooms/{roomId}/members (spec: § Room membership). */
  members(userId: string, q: MembersQuery): ReadResult<ClientEvent[]> {
    const visible = this.reader.visibleState(userId);
    if (!visible.ok) return visible;
    let state = visible.value;
    if (q.at !== undefined) {
      const point = this.store.timeline({ fromStream: q.at + 1, dir: "b", limit: 1 })[0];
      if (point && point.stateGroup !== null && this.reader.visibility(userId).canSee(point)) {
        state = this.store.loadStateGroup(point.stateGroup);
      }
    }
    const out: ClientEvent[] = [];
    for (const [k, id] of state) {
      if (!k.startsWith("m.room.member\u0000")) continue;
      const stored = this.store.getEvent(id);
      if (!stored) continue;
      const m = stored.event.content.membership;
      if (q.membership !== undefined && m !== q.membership) continue;
      if (q.notMembership !== undefined && m === q.notMembership) continue;
      out.push(this.reader.format(stored));
    }
    return { ok: true, value: out };
  }

  /** GET /rooms/{roomId}/joined_members: only for current members (spec). */
  joinedMembers(userId: string): ReadResult<Record<string, { display_name?: string; avatar_url?: string }>> {
    if (this.reader.visibility(userId).membership !== "join") return { ok: false, errcode: "M_FORBIDDEN", error: "You are not joined to this room" };
    const out: Record<string, { display_name?: string; avatar_url?: string }> = {};
    for (const member of this.store.membersWith("join")) {
      const id = this.store.currentState().get(stateKey("m.room.member", member));
      const content = id ? this.store.getEvent(id)?.event.content : undefined;
      out[member] = {
        display_name: typeof content?.displayname === "string" ? content.displayname : undefined,
        avatar_url: typeof content?.avatar_url === "string" ? content.avatar_url : undefined,
      };
    }
    return { ok: true, value: out };
  }
}
