/**
 * State resolution (spec: Rooms v1/v2/v12 § State resolution): given the states after each of an
 * event's `prev_events`, the state before it.
 *
 * Synchronous and pure: events come from `getEvent` (the room Durable Object reads them from
 * SQLite), nothing else is touched, and every lookup is memoised for the duration of one call.
 */
import { stateKey, type StateMap } from "../events";
import type { RoomVersion } from "../room-versions";
import { EventGraph, type EventLookup, type StateResOptions } from "./event-graph";
import { resolveV1 } from "./v1";
import { resolveV2 } from "./v2";

export { authChain, authDifference, conflictedStateSubgraph } from "./auth-chain";
export { EventGraph, createEventIdOfRoom, type EventLookup, type EventSource, type StateResOptions } from "./event-graph";
export { isPowerEvent, mainline, mainlineOrdering, reverseTopologicalPowerOrdering, senderPowerLevel } from "./ordering";
export { separateStateV1 } from "./v1";
export { iterativeAuthChecks, separateState } from "./v2";

/**
 * Resolve `stateSets` with the algorithm of `version`. Returns a new map; the inputs are not
 * modified. Events `getEvent` cannot find take no part in the resolution.
 */
export function resolveState(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  getEvent: EventLookup,
  options: StateResOptions = {},
): StateMap {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const graph = new EventGraph(getEvent);
  switch (version.stateRes) {
    case "v1":
      return resolveV1(version, stateSets, graph, options);
    case "v2":
    case "v2.1":
      return resolveV2(version, stateSets, graph, options);
    default: {
      const unknown: never = version.stateRes;
      throw new Error(`unknown state resolution algorithm ${String(unknown)}`);
    }
  }
}

/**
 * The state after an event, S′(E) (spec: Rooms v2 § State resolution): the state before it, with
 * the event itself in place when it is a state event.
 */
export function stateAfterEvent(stateBefore: StateMap, event: { event_id: string; type: string; state_key?: string }): StateMap {
  if (typeof event.state_key !== "string") return stateBefore;
  const after = new Map(stateBefore);
  after.set(stateKey(event.type, event.state_key), event.event_id);
  return after;
}
