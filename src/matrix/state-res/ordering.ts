/**
 * The two orderings of state resolution v2 (spec: Rooms v2 § State resolution § Definitions):
 * the reverse topological power ordering for power events, the mainline ordering for the rest.
 */
import { powerLevelOf } from "../auth";
import { compareCodePoints } from "../canonical-json";
import { stateKey, type RoomEvent, type StateKey } from "../events";
import type { RoomVersion } from "../room-versions";
import { createEventIdOfRoom, EventGraph, originServerTs, type EventSource } from "./event-graph";
import { MinHeap } from "./min-heap";

/**
 * Power event (spec: Rooms v2 § Definitions): `m.room.power_levels`, `m.room.join_rules`, or a
 * membership `leave`/`ban` whose sender is not its target (a kick or a ban).
 *
 * `m.room.create` counts too. The spec does not list it, but Synapse and Ruma both do, and it
 * only makes a difference when the create event is itself in the full conflicted set (a state
 * set without it); matching them keeps servers converging on the same state in that case.
 */
export function isPowerEvent(ev: RoomEvent): boolean {
  switch (ev.type) {
    case "m.room.power_levels":
    case "m.room.join_rules":
    case "m.room.create":
      return ev.state_key === "";
    case "m.room.member": {
      const membership = ev.content["membership"];
      return (membership === "leave" || membership === "ban") && ev.sender !== ev.state_key;
    }
    default:
      return false;
  }
}

/**
 * The power level of an event's sender "when looking at their respective auth_events"
 * (spec: Rooms v2 § Reverse topological power ordering): the `m.room.power_levels` and
 * `m.room.create` events it cites, read with the room version's auth rules. In room version 12
 * the create event is not cited but implied by the room id, and creators are infinitely powerful.
 */
export function senderPowerLevel(eventId: string, source: EventSource, version: RoomVersion): number {
  const graph = EventGraph.of(source);
  const ev = graph.get(eventId);
  // The create event cites no auth events, so it finds no power levels and no creator. Synapse
  // and Ruma both rank it at 0 (it only competes in the sort when it is itself conflicted).
  if (!ev || ev.type === "m.room.create") return 0;
  const byKey = new Map<StateKey, RoomEvent>();
  for (const aid of graph.authEvents(eventId)) {
    const aev = graph.get(aid);
    if (!aev || typeof aev.state_key !== "string") continue;
    const key = stateKey(aev.type, aev.state_key);
    if (!byKey.has(key)) byKey.set(key, aev);
  }
  const createKey = stateKey("m.room.create", "");
  if (version.roomIdFromCreateEvent && !byKey.has(createKey)) {
    const createId = createEventIdOfRoom(ev.room_id ?? "");
    const create = createId === undefined ? undefined : graph.get(createId);
    if (create) byKey.set(createKey, create);
  }
  // Only the power levels and create events matter to `powerLevelOf`, so senders citing the
  // same pair share one answer.
  const memoKey = `${byKey.get(stateKey("m.room.power_levels", ""))?.event_id ?? ""}\u0000${byKey.get(createKey)?.event_id ?? ""}\u0000${ev.sender}`;
  let level = graph.senderLevels.get(memoKey);
  if (level === undefined) {
    level = powerLevelOf(ev.sender, (type, key) => byKey.get(stateKey(type, key)), version);
    graph.senderLevels.set(memoKey, level);
  }
  return level;
}

interface SortKey {
  id: string;
  power: number;
  ts: number;
}

/** x < y: greater sender power, then smaller `origin_server_ts`, then smaller event id. */
function powerOrderLess(x: SortKey, y: SortKey): boolean {
  if (x.power !== y.power) return x.power > y.power;
  if (x.ts !== y.ts) return x.ts < y.ts;
  return compareCodePoints(x.id, y.id) < 0;
}

/**
 * Reverse topological power ordering (spec: Rooms v2 § Definitions) of `eventIds` together with
 * the events of their auth chains that lie in `within` (the full conflicted set in step 1 of the
 * algorithm; by default just `eventIds`). Earliest first.
 *
 * The DAG is walked through `within` only, exactly as Synapse and Ruma build it: an auth event
 * outside `within` is neither added nor walked past. Kahn's algorithm runs on a heap of the events
 * whose auth events have all been emitted, taking the smallest under the spec's comparison each
 * time: O((V + E) log V). Each sender's power level is computed once.
 */
export function reverseTopologicalPowerOrdering(
  version: RoomVersion,
  eventIds: Iterable<string>,
  source: EventSource,
  within?: ReadonlySet<string>,
): string[] {
  const graph = EventGraph.of(source);
  const starts = [...eventIds];
  const scope = within ?? new Set(starts);

  // outgoing: event -> its auth events in scope; incoming: the reverse.
  const outgoing = new Map<string, Set<string>>();
  for (const start of starts) {
    if (outgoing.has(start) || !graph.get(start)) continue;
    const todo = [start];
    outgoing.set(start, new Set());
    while (todo.length > 0) {
      const id = todo.pop()!;
      const edges = outgoing.get(id)!;
      for (const aid of graph.authEvents(id)) {
        if (!scope.has(aid) || !graph.get(aid)) continue;
        edges.add(aid);
        if (!outgoing.has(aid)) {
          outgoing.set(aid, new Set());
          todo.push(aid);
        }
      }
    }
  }

  const incoming = new Map<string, string[]>();
  const pending = new Map<string, number>();
  const heap = new MinHeap<SortKey>(powerOrderLess);
  const keyOf = (id: string): SortKey => ({
    id,
    power: senderPowerLevel(id, graph, version),
    ts: originServerTs(graph.get(id)),
  });
  for (const [id, edges] of outgoing) {
    pending.set(id, edges.size);
    for (const aid of edges) {
      let list = incoming.get(aid);
      if (!list) incoming.set(aid, (list = []));
      list.push(id);
    }
  }
  for (const [id, count] of pending) if (count === 0) heap.push(keyOf(id));

  const sorted: string[] = [];
  for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
    sorted.push(next.id);
    for (const parent of incoming.get(next.id) ?? []) {
      const left = pending.get(parent)! - 1;
      pending.set(parent, left);
      if (left === 0) heap.push(keyOf(parent));
    }
  }
  return sorted;
}

/** The mainline of a power-levels event: [P0, P1, …, Pn], newest first (spec: § Mainline ordering). */
export function mainline(powerLevelsEventId: string | undefined, source: EventSource): string[] {
  const graph = EventGraph.of(source);
  const line: string[] = [];
  const seen = new Set<string>();
  for (let p = powerLevelsEventId; p !== undefined && !seen.has(p); p = graph.powerLevelsAuthEvent(p)) {
    // `seen` only guards against a malformed graph with a cycle.
    seen.add(p);
    line.push(p);
  }
  return line;
}

/**
 * Mainline ordering based on `powerLevelsEventId` (spec: Rooms v2 § Mainline ordering), smallest
 * first: greater mainline position first (∞ — no power-levels event of the mainline in the
 * chain — before everything), then smaller `origin_server_ts`, then smaller event id. Events the
 * server does not have are dropped.
 *
 * Positions are memoised per power-levels event, so events sharing a chain of power-levels
 * events walk it once between them: linear in the events and that chain, plus the sort.
 */
export function mainlineOrdering(
  eventIds: Iterable<string>,
  powerLevelsEventId: string | undefined,
  source: EventSource,
): string[] {
  const graph = EventGraph.of(source);
  const line = mainline(powerLevelsEventId, graph);
  const position = new Map<string, number>();
  line.forEach((id, i) => position.set(id, i));

  // Position of a power-levels event p: the index of the first of p, p's power-levels auth
  // event, its power-levels auth event, … that is on the mainline.
  const positionOfPowerLevels = (start: string): number => {
    const path: string[] = [];
    let found = Number.POSITIVE_INFINITY;
    const onPath = new Set<string>();
    for (let p: string | undefined = start; p !== undefined; p = graph.powerLevelsAuthEvent(p)) {
      const known = position.get(p);
      if (known !== undefined) {
        found = known;
        break;
      }
      if (onPath.has(p)) break;
      onPath.add(p);
      path.push(p);
    }
    for (const p of path) position.set(p, found);
    return found;
  };

  const keys: SortKeyMainline[] = [];
  for (const id of eventIds) {
    const ev = graph.get(id);
    if (!ev) continue;
    // e0 itself is not considered (j ≥ 1): start from its power-levels auth event.
    const pl = graph.powerLevelsAuthEvent(id);
    keys.push({ id, position: pl === undefined ? Number.POSITIVE_INFINITY : positionOfPowerLevels(pl), ts: originServerTs(ev) });
  }
  keys.sort((x, y) => {
    if (x.position !== y.position) return x.position > y.position ? -1 : 1;
    if (x.ts !== y.ts) return x.ts - y.ts;
    return compareCodePoints(x.id, y.id);
  });
  return keys.map((k) => k.id);
}

interface SortKeyMainline {
  id: string;
  position: number;
  ts: number;
}
