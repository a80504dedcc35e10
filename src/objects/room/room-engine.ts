/**
 * The room engine: the logic of one room's event graph, independent of workerd (DESIGN §2). The
 * Durable Object owns exactly one engine, so the engine is the room's single writer.
 *
 * Local events are built as full PDUs: `prev_events` are the forward extremities, `auth_events`
 * are selected from the state before the event (spec: Server-Server § Auth events selection),
 * `depth` is one more than the deepest prev event; then hashed, signed, authorized and stored.
 * Remote events go through the receipt checks of Server-Server § Checks performed on receipt of
 * a PDU: auth against their own auth events, against the state before them, and against the
 * current state (soft fail).
 */
import { authEventSelection, canUserDo, checkAuthEventsShape, checkEventAuth, mayApplyRedaction } from "../../matrix/auth";
import type { JsonObject } from "../../matrix/canonical-json";
import { canonicalJson } from "../../matrix/canonical-json";
import { encodeBase64 } from "../../matrix/base64";
import { referenceHash } from "../../matrix/event-hashes";
import { computeEventId, newLegacyEventId } from "../../matrix/event-id";
import { authEventIds, isStateEvent, prevEventIds, stateKey, type EventReference, type Pdu, type RoomEvent, type StateMap } from "../../matrix/events";
import { getRoomVersion, type RoomVersion } from "../../matrix/room-versions";
import { resolveState } from "../../matrix/state-res";
import type { RoomStore, StoredEvent } from "./room-store";

/** Spec: Server-Server § PDUs — an event may be at most 65536 bytes of canonical JSON. */
const MAX_PDU_BYTES = 65536;
/** How many forward extremities a new local event references at most. */
const MAX_PREV_EVENTS = 10;

export interface EngineDeps {
  serverName: string;
  /** Adds the content hash and this server's signature (spec: § Adding hashes and signatures). */
  sign: (pdu: Pdu, version: RoomVersion) => Promise<Pdu>;
  now: () => number;
  /** Opaque random text for room v1/v2 event ids. */
  randomId: () => string;
}

export interface LocalEventInput {
  sender: string;
  type: string;
  content: JsonObject;
  stateKey?: string;
  /** Top-level `redacts` (room versions before 11 also carry it in `content` from v11 on). */
  redacts?: string;
  /**
   * Transaction ids are scoped to a device and an endpoint (spec: § Transaction identifiers), so
   * the same id may be used once for a send and once for a redaction.
   */
  txn?: { deviceId: string; txnId: string; scope: "send" | "redact" };
  /** For tests and imports; defaults to now. */
  originServerTs?: number;
}

export type AppendResult =
  | { ok: true; event: RoomEvent; stream: number; duplicate: boolean }
  | { ok: false; errcode: "M_FORBIDDEN" | "M_TOO_LARGE" | "M_BAD_JSON" | "M_NOT_FOUND"; error: string };

export type IngestResult =
  | { ok: true; outcome: "accepted" | "soft_failed" | "duplicate"; stream: number }
  | { ok: true; outcome: "rejected"; reason: string; stream: number }
  | { ok: false; error: string };

export class RoomEngine {
  private queue: Promise<unknown> = Promise.resolve();
  private versionCache: RoomVersion | undefined;

  constructor(
    readonly store: RoomStore,
    private readonly deps: EngineDeps,
  ) {}

  /** Runs `fn` after every earlier write finished: writes to a room never interleave. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  get roomId(): string | undefined {
    return this.store.getMeta("room_id");
  }

  get version(): RoomVersion {
    if (!this.versionCache) {
      const id = this.store.getMeta("room_version");
      const v = id ? getRoomVersion(id) : undefined;
      if (!v) throw new Error("room is not initialised");
      this.versionCache = v;
    }
    return this.versionCache;
  }

  isInitialised(): boolean {
    return this.store.getMeta("room_id") !== undefined;
  }

  getEvent(eventId: string): StoredEvent | undefined {
    return this.store.getEvent(eventId);
  }

  /** Every stored event takes part in state resolution; rejected ones are marked (spec: rooms/v2 § State resolution). */
  private readonly eventLookup = (id: string): RoomEvent | undefined => this.store.getEvent(id)?.event;
  private readonly resolveOptions = { isRejected: (id: string) => this.store.getEvent(id)?.rejected != null };

  /** Looks up accepted state events for the authorization rules. */
  private lookupIn(state: StateMap): (type: string, key: string) => RoomEvent | undefined {
    return (type, key) => {
      const id = state.get(stateKey(type, key));
      if (id === undefined) return undefined;
      const stored = this.store.getEvent(id);
      return stored && !stored.rejected ? stored.event : undefined;
    };
  }

  currentStateLookup(): (type: string, key: string) => RoomEvent | undefined {
    return this.lookupIn(this.store.currentState());
  }

  /** State after a stored event (its state group), or undefined for outliers and rejected events. */
  stateAfter(eventId: string): StateMap | undefined {
    const stored = this.store.getEvent(eventId);
    if (!stored || stored.stateGroup === null) return undefined;
    return this.store.loadStateGroup(stored.stateGroup);
  }

  /** The state before an event whose prev events are all known with state: resolved across them. */
  private stateBefore(prevIds: string[]): { state: StateMap; group: number } | undefined {
    const groups: number[] = [];
    for (const id of prevIds) {
      const stored = this.store.getEvent(id);
      if (!stored || stored.stateGroup === null) return undefined;
      groups.push(stored.stateGroup);
    }
    const unique = [...new Set(groups)];
    if (unique.length === 1) return { state: this.store.loadStateGroup(unique[0]!), group: unique[0]! };
    const sets = unique.map((g) => this.store.loadStateGroup(g));
    const resolved = resolveState(this.version, sets, this.eventLookup, this.resolveOptions);
    return { state: resolved, group: this.store.createStateGroup(resolved, unique[0]!) };
  }

  /**
   * Initialises the room with its create event, built and signed by the caller (for room v12 the
   * room id is derived from it, so it exists before this object is addressed).
   */
  initialise(create: RoomEvent, roomId: string, version: RoomVersion): Promise<AppendResult> {
    return this.serialize(async () => {
      if (this.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Room already exists" } as const;
      const result = checkEventAuth(create, () => undefined, version);
      if (!result.ok) return { ok: false, errcode: "M_FORBIDDEN", error: result.reason } as const;
      let stream = 0;
      try {
        this.store.sql.transaction(() => {
          this.store.setMeta("room_id", roomId);
          this.store.setMeta("room_version", version.id);
          const state: StateMap = new Map([[stateKey(create.type, ""), create.event_id]]);
          const group = this.store.createStateGroup(state, null);
          stream = this.store.insertEvent({ event: create, stateGroup: group });
          this.store.setForwardExtremities([create.event_id]);
          this.store.setCurrentState(state, group);
        });
      } catch (err) {
        // The store's in-memory copies (meta, the new event) must not outlive the rollback.
        this.store.resetCaches();
        throw err;
      }
      this.versionCache = version;
      return { ok: true, event: create, stream, duplicate: false } as const;
    });
  }

  private async reference(id: string): Promise<EventReference> {
    if (this.version.eventIdFormat !== "v1") return id;
    // Rooms v1/v2 reference events with their hash (spec: rooms/v1 § Event format).
    const stored = this.store.getEvent(id);
    const hash = stored ? encodeBase64(await referenceHash(stored.event, this.version)) : "";
    return [id, { sha256: hash }];
  }

  /** Builds, signs, authorizes and stores a local event. */
  append(input: LocalEventInput): Promise<AppendResult> {
    return this.serialize(() => this.appendLocked(input));
  }

  private async appendLocked(input: LocalEventInput): Promise<AppendResult> {
    if (!this.isInitialised()) return { ok: false, errcode: "M_NOT_FOUND", error: "Unknown room" };
    const version = this.version;
    if (input.txn) {
      const existing = this.store.eventIdForTxn(input.sender, input.txn.deviceId, `${input.txn.scope}/${input.txn.txnId}`);
      if (existing) {
        const stored = this.store.getEvent(existing)!;
        return { ok: true, event: stored.event, stream: stored.stream, duplicate: true };
      }
    }
    const extremities = this.store.forwardExtremities().slice(0, MAX_PREV_EVENTS);
    const before = this.stateBefore(extremities);
    if (!before) return { ok: false, errcode: "M_FORBIDDEN", error: "The room's state is not available" };
    const lookup = this.lookupIn(before.state);

    const authIds: string[] = [];
    for (const [type, key] of authEventSelection(
      { type: input.type, sender: input.sender, state_key: input.stateKey, content: input.content },
      version,
    )) {
      const ev = lookup(type, key);
      if (ev) authIds.push(ev.event_id);
    }
    let depth = 0;
    for (const id of extremities) depth = Math.max(depth, this.store.getEvent(id)?.event.depth ?? 0);

    const pdu: Pdu = {
      room_id: this.roomId!,
      sender: input.sender,
      type: input.type,
      content: input.content,
      prev_events: await Promise.all(extremities.map((id) => this.reference(id))),
      auth_events: await Promise.all(authIds.map((id) => this.reference(id))),
      depth: Math.min(depth + 1, Number.MAX_SAFE_INTEGER),
      origin_server_ts: input.originServerTs ?? this.deps.now(),
    };
    if (input.stateKey !== undefined) pdu.state_key = input.stateKey;
    if (input.redacts !== undefined && !version.redactsInContent) pdu.redacts = input.redacts;
    if (version.eventIdFormat === "v1") {
      pdu.event_id = newLegacyEventId(this.deps.randomId(), this.deps.serverName);
      pdu.origin = this.deps.serverName;
    }

    let signed: Pdu;
    try {
      signed = await this.deps.sign(pdu, version);
    } catch {
      // Canonical JSON refused the content (a float, or an integer out of range).
      return { ok: false, errcode: "M_BAD_JSON", error: "Event content is not valid canonical JSON" };
    }
    if (new TextEncoder().encode(canonicalJson(signed)).length > MAX_PDU_BYTES) {
      return { ok: false, errcode: "M_TOO_LARGE", error: "Event is larger than 65536 bytes" };
    }
    const event = { ...signed, event_id: await computeEventId(signed, version) } as RoomEvent;
    const auth = checkEventAuth(event, lookup, version);
    if (!auth.ok) return { ok: false, errcode: "M_FORBIDDEN", error: auth.reason };
    if (event.type === "m.room.redaction") {
      // The rules let a server redact its own users' events; a client may only redact its own
      // events, or others' with the redact level (spec: Client-Server § Redactions).
      const targetId = version.redactsInContent ? event.content.redacts : event.redacts;
      const target = typeof targetId === "string" ? this.store.getEvent(targetId) : undefined;
      if (target && target.event.sender !== event.sender && !canUserDo(event.sender, "redact", lookup, version)) {
        return { ok: false, errcode: "M_FORBIDDEN", error: "You may only redact your own events" };
      }
    }

    const txn = input.txn ? { sender: input.sender, deviceId: input.txn.deviceId, txnId: `${input.txn.scope}/${input.txn.txnId}` } : undefined;
    const stream = this.persistAccepted(event, before, extremities, txn);
    return { ok: true, event, stream, duplicate: false };
  }

  /** Stores an accepted event and moves the room forward: state group, extremities, current state. */
  private persistAccepted(
    event: RoomEvent,
    before: { state: StateMap; group: number },
    prevIds: string[],
    txn?: { sender: string; deviceId: string; txnId: string },
    softFailed = false,
  ): number {
    const store = this.store;
    let stream = 0;
    try {
      store.sql.transaction(() => {
        let group = before.group;
        let after = before.state;
        if (isStateEvent(event)) {
          // Clients read the previous value from unsigned (spec: § Client behaviour, prev_content);
          // history visibility needs it to recover the state before this event.
          const replaced = before.state.get(stateKey(event.type, event.state_key!));
          if (replaced !== undefined) event.unsigned = { ...(event.unsigned ?? {}), replaces_state: replaced };
          after = new Map(before.state);
          after.set(stateKey(event.type, event.state_key!), event.event_id);
          group = store.createStateGroup(after, before.group);
        }
        stream = store.insertEvent({ event, stateGroup: group, softFailed, txn });
        if (softFailed) return;

        const oldExtremities = store.forwardExtremities();
        const prev = new Set(prevIds);
        const remaining = oldExtremities.filter((id) => !prev.has(id));
        store.setForwardExtremities([...remaining, event.event_id]);
        if (remaining.length === 0) {
          store.setCurrentState(after, group);
        } else {
          // The graph has forked: the current state is the resolution of every extremity's state.
          const sets = [after, ...remaining.map((id) => this.stateAfter(id)).filter((s): s is StateMap => s !== undefined)];
          const resolved = resolveState(this.version, sets, this.eventLookup, this.resolveOptions);
          store.setCurrentState(resolved, store.createStateGroup(resolved, group));
        }
        this.afterAccepted(event, stream);
      });
    } catch (err) {
      store.resetCaches();
      throw err;
    }
    return stream;
  }

  /** Bookkeeping that rides along with an accepted event: redactions and relations. */
  private afterAccepted(event: RoomEvent, stream: number): void {
    const version = this.version;
    if (event.type === "m.room.redaction") {
      const target = version.redactsInContent ? event.content.redacts : event.redacts;
      if (typeof target === "string") {
        const original = this.store.getEvent(target);
        if (original && mayApplyRedaction(event.sender, original.event.sender, this.currentStateLookup(), version)) {
          this.store.markRedacted(target, event.event_id);
        }
      }
    }
    const rel = event.content["m.relates_to"];
    if (rel && typeof rel === "object" && !Array.isArray(rel)) {
      const r = rel as JsonObject;
      if (typeof r.rel_type === "string" && typeof r.event_id === "string") {
        this.store.insertRelation({
          eventId: event.event_id,
          parentId: r.event_id,
          relType: r.rel_type,
          type: event.type,
          sender: event.sender,
          key: typeof r.key === "string" ? r.key : null,
          stream,
        });
      }
    }
  }

  /**
   * Accepts an event from another server whose prev events are all known here (spec:
   * Server-Server § Checks performed on receipt of a PDU, steps 4–6). Signatures and hashes are
   * checked before this by the federation layer.
   */
  ingest(received: RoomEvent): Promise<IngestResult> {
    // `unsigned` is not covered by signatures: nothing a remote server puts there is trusted
    // (history visibility reads our own `replaces_state` from it).
    const { unsigned: _untrusted, ...event } = received;
    return this.serialize(async () => {
      const existing = this.store.getEvent(event.event_id);
      if (existing) return { ok: true, outcome: "duplicate", stream: existing.stream } as const;
      if (event.room_id !== this.roomId) return { ok: false, error: "event is for another room" } as const;
      const version = this.version;

      // Step 4: authorized by its own auth events.
      const authEvents: RoomEvent[] = [];
      for (const id of authEventIds(event)) {
        const stored = this.store.getEvent(id);
        if (!stored) return { ok: false, error: `auth event ${id} is unknown` } as const;
        if (stored.rejected) return this.reject(event, `auth event ${id} was rejected`);
        authEvents.push(stored.event);
      }
      const create = this.store.getEvent(this.store.currentState().get(stateKey("m.room.create", "")) ?? "")?.event;
      const shape = checkAuthEventsShape(event, authEvents, version);
      if (!shape.ok) return this.reject(event, shape.reason);
      const authMap: StateMap = new Map(authEvents.map((e) => [stateKey(e.type, e.state_key ?? ""), e.event_id]));
      if (create && !authMap.has(stateKey("m.room.create", ""))) authMap.set(stateKey("m.room.create", ""), create.event_id);
      const byAuthEvents = checkEventAuth(event, this.lookupIn(authMap), version);
      if (!byAuthEvents.ok) return this.reject(event, byAuthEvents.reason);

      // Step 5: authorized by the state before the event.
      const prevIds = prevEventIds(event);
      const before = this.stateBefore(prevIds);
      if (!before) return { ok: false, error: "prev events are missing; fetching them is not supported yet" } as const;
      const byState = checkEventAuth(event, this.lookupIn(before.state), version);
      if (!byState.ok) return this.reject(event, byState.reason);

      // Step 6: soft fail when the current state would not allow it.
      const byCurrent = checkEventAuth(event, this.currentStateLookup(), version);
      const stream = this.persistAccepted(event, before, prevIds, undefined, !byCurrent.ok);
      return { ok: true, outcome: byCurrent.ok ? "accepted" : "soft_failed", stream } as const;
    });
  }

  private reject(event: RoomEvent, reason: string): IngestResult {
    const stream = this.store.insertEvent({ event, stateGroup: null, rejected: reason });
    return { ok: true, outcome: "rejected", reason, stream };
  }
}
