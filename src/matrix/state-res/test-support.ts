/**
 * Test helpers for state resolution: loading the Ruma/Tuwunel fixtures, the three ways their
 * harness resolves a room (event by event, file by file, all at once), and a small builder for
 * hand-made rooms. Used only by the `*.test.ts` files beside it.
 */
import { readFixture } from "../../../test/support/fixtures";
import { prevEventIds, stateKey, type RoomEvent, type StateMap } from "../events";
import { authEventSelection } from "../auth";
import { getRoomVersion, type RoomVersion } from "../room-versions";
import { resolveState, stateAfterEvent, type EventLookup } from "./index";

export type EventStore = Map<string, RoomEvent>;

export function loadPdus(relPath: string): RoomEvent[] {
  return readFixture<RoomEvent[]>(relPath);
}

export function storeOf(events: Iterable<RoomEvent>): EventStore {
  const store: EventStore = new Map();
  for (const ev of events) store.set(ev.event_id, ev);
  return store;
}

export function lookupIn(store: EventStore): EventLookup {
  return (id) => store.get(id);
}

/** The room version named by the first PDU, which must be the `m.room.create` event. */
export function versionOfPdus(pdus: readonly RoomEvent[]): RoomVersion {
  const create = pdus[0];
  if (!create || create.type !== "m.room.create") throw new Error("the first PDU must be m.room.create");
  const id = create.content["room_version"];
  const version = typeof id === "string" ? getRoomVersion(id) : getRoomVersion("1");
  if (!version) throw new Error(`unknown room version ${String(id)}`);
  return version;
}

export function stateMapOfIds(ids: readonly string[], store: EventStore): StateMap {
  const out: StateMap = new Map();
  for (const id of ids) {
    const ev = store.get(id);
    if (!ev || typeof ev.state_key !== "string") throw new Error(`${id} is not a known state event`);
    out.set(stateKey(ev.type, ev.state_key), id);
  }
  return out;
}

/** One row of an expected-state file. Ruma's snapshots name the type `type`, Tuwunel's `kind`. */
export interface ExpectedStateEntry {
  type?: string;
  kind?: string;
  state_key: string;
  event_id: string;
}

export function expectedStateMap(relPath: string): StateMap {
  const out: StateMap = new Map();
  for (const e of readFixture<ExpectedStateEntry[]>(relPath)) {
    const type = e.type ?? e.kind;
    if (type === undefined) throw new Error(`${relPath}: a row has neither type nor kind`);
    out.set(stateKey(type, e.state_key), e.event_id);
  }
  return out;
}

/** A state map as sorted `[type, state_key, event_id]` rows, for readable test diffs. */
export function rows(state: StateMap): Array<[string, string, string]> {
  return [...state]
    .map(([k, id]): [string, string, string] => {
      const i = k.indexOf("\u0000");
      return [k.slice(0, i), k.slice(i + 1), id];
    })
    .sort((a, b) => (a[0] + "\u0000" + a[1] < b[0] + "\u0000" + b[1] ? -1 : 1));
}

function singletonStateSets(pdus: Iterable<RoomEvent>): StateMap[] {
  const sets: StateMap[] = [];
  for (const pdu of pdus) {
    if (typeof pdu.state_key !== "string") throw new Error(`${pdu.event_id} is not a state event`);
    sets.push(new Map([[stateKey(pdu.type, pdu.state_key), pdu.event_id]]));
  }
  return sets;
}

/**
 * Walk the PDUs forward along `prev_events`, each resolved against the states after its
 * `prev_events` and then against itself (the state before it, and that state with the PDU in
 * place, so the PDU is auth-checked), then resolve the states at all forward extremities.
 */
export function resolveIteratively(version: RoomVersion, pdus: readonly RoomEvent[]): StateMap {
  const store = storeOf(pdus);
  const lookup = lookupIn(store);
  const children = new Map<string, string[]>();
  const stack: string[] = [];
  for (const pdu of pdus) {
    const prevs = prevEventIds(pdu);
    for (const p of prevs) {
      let list = children.get(p);
      if (!list) children.set(p, (list = []));
      list.push(pdu.event_id);
    }
    if (pdu.type === "m.room.create" && prevs.length === 0) stack.push(pdu.event_id);
  }
  const stateAt = new Map<string, StateMap>();
  const leaves: string[] = [];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (stateAt.has(id)) continue;
    const pdu = store.get(id)!;
    const before: StateMap[] = [];
    let ready = true;
    for (const p of prevEventIds(pdu)) {
      const s = stateAt.get(p);
      if (!s) {
        ready = false;
        break;
      }
      before.push(s);
    }
    // Not every prev event has a state yet: the last of them to finish pushes this one again.
    if (!ready) continue;
    const stateBefore = resolveState(version, before, lookup);
    stateAt.set(id, resolveState(version, [stateBefore, stateAfterEvent(stateBefore, pdu)], lookup));
    const next = children.get(id);
    if (next) stack.push(...next);
    else leaves.push(id);
  }
  if (stateAt.size !== store.size) throw new Error("some PDUs were never reached through prev_events");
  return resolveState(
    version,
    leaves.map((l) => stateAt.get(l)!),
    lookup,
  );
}

/** Resolve each batch, every PDU a state set of its own, on top of the previous batch's result. */
export function resolveInBatches(version: RoomVersion, batches: readonly RoomEvent[][]): StateMap {
  const store: EventStore = new Map();
  let state: StateMap | undefined;
  for (const batch of batches) {
    for (const pdu of batch) store.set(pdu.event_id, pdu);
    const sets = singletonStateSets(batch);
    if (state) sets.unshift(state);
    state = resolveState(version, sets, lookupIn(store));
  }
  return state ?? new Map();
}

/** Resolve every PDU at once, each as its own state set. */
export function resolveAtOnce(version: RoomVersion, pdus: readonly RoomEvent[]): StateMap {
  return resolveState(version, singletonStateSets(pdus), lookupIn(storeOf(pdus)));
}

/**
 * A hand-made room: events get readable ids, increasing timestamps and depths, and auth events
 * picked from the state given for them.
 */
export class RoomBuilder {
  readonly store: EventStore = new Map();
  private ts = 0;

  constructor(
    readonly version: RoomVersion,
    readonly roomId = "!room:example.com",
  ) {}

  get lookup(): EventLookup {
    return lookupIn(this.store);
  }

  get(id: string): RoomEvent {
    const ev = this.store.get(id);
    if (!ev) throw new Error(`no event ${id}`);
    return ev;
  }

  /**
   * Add an event. `auth` lists auth event ids explicitly; `prev` the prev events; `ts` overrides
   * the timestamp (otherwise one more than the previous event's).
   */
  add(
    id: string,
    fields: {
      type: string;
      sender: string;
      stateKey?: string;
      content?: Record<string, unknown>;
      auth?: string[];
      prev?: string[];
      ts?: number;
      depth?: number;
    },
  ): RoomEvent {
    const prev = fields.prev ?? [];
    const depth =
      fields.depth ?? 1 + Math.max(0, ...prev.map((p) => (this.store.get(p)?.depth as number | undefined) ?? 0));
    const ev = {
      event_id: id,
      room_id: this.roomId,
      sender: fields.sender,
      type: fields.type,
      content: (fields.content ?? {}) as RoomEvent["content"],
      prev_events: prev,
      auth_events: fields.auth ?? [],
      depth,
      origin_server_ts: fields.ts ?? ++this.ts,
      ...(fields.stateKey !== undefined ? { state_key: fields.stateKey } : {}),
    } as RoomEvent;
    if (fields.ts !== undefined) this.ts = Math.max(this.ts, fields.ts);
    this.store.set(id, ev);
    return ev;
  }

  /**
   * Add an event whose auth events are those the auth events selection picks from `state`
   * (spec: Server-Server API § Auth events selection) and whose prev events default to `prev`.
   * Returns the state after it.
   */
  send(
    id: string,
    state: StateMap,
    fields: {
      type: string;
      sender: string;
      stateKey?: string;
      content?: Record<string, unknown>;
      prev?: string[];
      ts?: number;
    },
  ): StateMap {
    const selection = authEventSelection(
      { type: fields.type, sender: fields.sender, content: (fields.content ?? {}) as RoomEvent["content"], ...(fields.stateKey !== undefined ? { state_key: fields.stateKey } : {}) },
      this.version,
    );
    const auth: string[] = [];
    for (const [type, key] of selection) {
      const aid = state.get(stateKey(type, key));
      if (aid !== undefined) auth.push(aid);
    }
    const ev = this.add(id, { ...fields, auth });
    return stateAfterEvent(state, ev);
  }

  /** A state map from event ids. */
  state(...ids: string[]): StateMap {
    return stateMapOfIds(ids, this.store);
  }
}
