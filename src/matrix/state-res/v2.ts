/**
 * State resolution v2 (spec: Rooms v2 § State resolution, used by room versions 2–11) and v2.1
 * (spec: Rooms v12 § State resolution, MSC4297). v2.1 differs in two places, both marked below:
 * the first iterative auth checks start from an empty state map, and the full conflicted set
 * also holds the conflicted state subgraph.
 */
import { checkEventAuth } from "../auth";
import { stateKey, type RoomEvent, type StateKey, type StateMap } from "../events";
import type { RoomVersion } from "../room-versions";
import { analyseAuthGraph } from "./auth-chain";
import { createEventIdOfRoom, EventGraph, type EventSource, type StateResOptions } from "./event-graph";
import { isPowerEvent, mainlineOrdering, reverseTopologicalPowerOrdering } from "./ordering";

const POWER_LEVELS_KEY = stateKey("m.room.power_levels", "");
const CREATE_KEY = stateKey("m.room.create", "");

/**
 * Unconflicted state map and conflicted state set (spec: Rooms v2 § Definitions): a key whose
 * value is the same event in every state set is unconflicted; otherwise every event any set
 * holds for it is conflicted — including when some set lacks the key altogether.
 */
export function separateState(stateSets: readonly StateMap[]): {
  unconflicted: StateMap;
  conflicted: Map<StateKey, Set<string>>;
} {
  const unconflicted: StateMap = new Map();
  const conflicted = new Map<StateKey, Set<string>>();
  const [first, ...rest] = stateSets;
  if (!first) return { unconflicted, conflicted };
  const keys = new Set<StateKey>(first.keys());
  for (const s of rest) for (const k of s.keys()) keys.add(k);
  for (const k of keys) {
    const v = first.get(k);
    let same = v !== undefined;
    const values = new Set<string>();
    for (const s of stateSets) {
      const w = s.get(k);
      if (w === undefined) same = false;
      else {
        values.add(w);
        if (w !== v) same = false;
      }
    }
    if (same && v !== undefined) unconflicted.set(k, v);
    else conflicted.set(k, values);
  }
  return { unconflicted, conflicted };
}

/**
 * Iterative auth checks (spec: Rooms v2 § Definitions): apply each event in order to the state
 * when the authorization rules allow it against that state. A key the rules need but the state
 * lacks comes from the event's own `auth_events`, unless that auth event was rejected. Rejected
 * events in the list itself are checked like any other (spec: § Rejected events).
 */
export function iterativeAuthChecks(
  version: RoomVersion,
  initialState: StateMap,
  eventIds: Iterable<string>,
  source: EventSource,
  options: StateResOptions = {},
): StateMap {
  const graph = EventGraph.of(source);
  const rejected = options.isRejected ?? (() => false);
  const state: StateMap = new Map(initialState);
  for (const eventId of eventIds) {
    const event = graph.get(eventId);
    if (!event || typeof event.state_key !== "string") continue;

    const fromAuthEvents = new Map<StateKey, RoomEvent>();
    for (const aid of graph.authEvents(eventId)) {
      const aev = graph.get(aid);
      if (!aev || typeof aev.state_key !== "string" || rejected(aid)) continue;
      fromAuthEvents.set(stateKey(aev.type, aev.state_key), aev);
    }
    // Room version 12 leaves the create event out of `auth_events`; the rules still need it,
    // and it is the one event the room id names (spec: Rooms v12 § Event format).
    if (version.roomIdFromCreateEvent && event.type !== "m.room.create" && !fromAuthEvents.has(CREATE_KEY)) {
      const createId = createEventIdOfRoom(event.room_id ?? "");
      const create = createId === undefined ? undefined : graph.get(createId);
      if (create) fromAuthEvents.set(CREATE_KEY, create);
    }

    const lookup = (type: string, key: string): RoomEvent | undefined => {
      const k = stateKey(type, key);
      const id = state.get(k);
      if (id !== undefined && !rejected(id)) {
        const ev = graph.get(id);
        if (ev) return ev;
      }
      return fromAuthEvents.get(k);
    };
    const result = checkEventAuth(event, lookup, version, options.authOptions);
    if (result.ok) state.set(stateKey(event.type, event.state_key), eventId);
  }
  return state;
}

/** Resolution of a set of states under v2 or v2.1, per `version.stateRes`. */
export function resolveV2(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  source: EventSource,
  options: StateResOptions = {},
): StateMap {
  const graph = EventGraph.of(source);
  const v21 = version.stateRes === "v2.1";
  const { unconflicted, conflicted } = separateState(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const conflictedIds = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedIds.add(id);

  // Full conflicted set: conflicted state ∪ auth difference (∪ conflicted state subgraph, v2.1).
  // Events the server does not have cannot be checked, so they take no part.
  const { authDifference, conflictedSubgraph } = analyseAuthGraph(stateSets, v21 ? conflictedIds : undefined, graph);
  const full = new Set<string>();
  for (const part of [conflictedIds, authDifference, conflictedSubgraph]) {
    for (const id of part) if (graph.get(id)) full.add(id);
  }

  // Step 1: the power events and their auth chains within the full conflicted set.
  const powerEvents = [...full].filter((id) => isPowerEvent(graph.get(id)!));
  const sortedPower = reverseTopologicalPowerOrdering(version, powerEvents, graph, full);

  // Step 2 (v2.1: from the empty state map, so that unconflicted state which the conflicted
  // power events invalidate cannot survive; MSC4297 "problem A").
  const partial = iterativeAuthChecks(version, v21 ? new Map() : unconflicted, sortedPower, graph, options);

  // Step 3: everything else, in mainline order of the resolved power levels.
  const picked = new Set(sortedPower);
  const remaining = [...full].filter((id) => !picked.has(id));
  const sortedRest = mainlineOrdering(remaining, partial.get(POWER_LEVELS_KEY), graph);

  // Step 4, then step 5: the unconflicted state map has the last word.
  const resolved = iterativeAuthChecks(version, partial, sortedRest, graph, options);
  for (const [k, id] of unconflicted) resolved.set(k, id);
  return resolved;
}
