/**
 * The original state resolution algorithm (spec: Rooms v1 § State resolution), used only by room
 * version 1. Known to reset state in some forks; kept because v1 rooms still exist and every
 * server must resolve them the same way.
 *
 * Where the spec's prose is loose, Synapse (which defined the algorithm) is followed:
 * - within the join-rules and membership passes, every key is resolved against the state as it
 *   stood at the start of the pass, so the result does not depend on iteration order;
 * - an event the server does not have is dropped from its conflict;
 * - for other conflicts, when no candidate passes the auth rules the one with the lowest depth
 *   is kept.
 */
// SHA-1 must be synchronous here (the room Durable Object resolves state synchronously) and
// WebCrypto's digest is not; `node:crypto` is available in Node and, with `nodejs_compat`, in
// workerd.
import { createHash } from "node:crypto";
import { checkEventAuth } from "../auth";
import { splitStateKey, stateKey, type RoomEvent, type StateKey, type StateMap } from "../events";
import type { RoomVersion } from "../room-versions";
import { EventGraph, type EventSource, type StateResOptions } from "./event-graph";

const POWER_LEVELS_KEY = stateKey("m.room.power_levels", "");

/**
 * v1 conflicts: a key is conflicted only when two state sets hold different events for it; a key
 * some sets lack is simply taken from the others (unlike v2).
 */
export function separateStateV1(stateSets: readonly StateMap[]): {
  unconflicted: StateMap;
  conflicted: Map<StateKey, Set<string>>;
} {
  const unconflicted: StateMap = new Map();
  const conflicted = new Map<StateKey, Set<string>>();
  for (const s of stateSets) {
    for (const [k, id] of s) {
      const clash = conflicted.get(k);
      if (clash) {
        clash.add(id);
        continue;
      }
      const prior = unconflicted.get(k);
      if (prior === undefined) unconflicted.set(k, id);
      else if (prior !== id) {
        unconflicted.delete(k);
        conflicted.set(k, new Set([prior, id]));
      }
    }
  }
  return { unconflicted, conflicted };
}

interface Candidate {
  id: string;
  event: RoomEvent;
  depth: number;
  sha1: string;
}

/** Highest depth first, then lowest `sha1(event_id)` (hex, as Synapse compares it). */
function byDepthDescSha1Asc(a: Candidate, b: Candidate): number {
  if (a.depth !== b.depth) return b.depth - a.depth;
  return a.sha1 < b.sha1 ? -1 : a.sha1 > b.sha1 ? 1 : 0;
}

export function resolveV1(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  source: EventSource,
  options: StateResOptions = {},
): StateMap {
  const graph = EventGraph.of(source);
  const { unconflicted, conflicted } = separateStateV1(stateSets);
  const resolved: StateMap = new Map(unconflicted);

  const candidates = new Map<StateKey, Candidate[]>();
  for (const [k, ids] of conflicted) {
    const list: Candidate[] = [];
    for (const id of ids) {
      const event = graph.get(id);
      if (!event) continue;
      const depth = typeof event.depth === "number" && Number.isFinite(event.depth) ? event.depth : 0;
      list.push({ id, event, depth, sha1: createHash("sha1").update(id, "utf8").digest("hex") });
    }
    if (list.length === 1) resolved.set(k, list[0]!.id);
    else if (list.length > 1) candidates.set(k, list.sort(byDepthDescSha1Asc));
  }
  if (candidates.size === 0) return resolved;

  const allowed = (event: RoomEvent, state: StateMap, override?: Candidate): boolean => {
    const overrideKey = override ? stateKey(override.event.type, override.event.state_key ?? "") : undefined;
    return checkEventAuth(
      event,
      (type, key) => {
        const k = stateKey(type, key);
        if (k === overrideKey) return override!.event;
        const id = state.get(k);
        return id === undefined ? undefined : graph.get(id);
      },
      version,
      options.authOptions,
    ).ok;
  };

  // Power levels, join rules and memberships: start from the lowest depth (highest sha1), then
  // keep replacing with the next one while it is allowed in the state built so far.
  const resolveAuthConflict = (list: Candidate[], state: StateMap): string => {
    const ascending = [...list].reverse();
    let current = ascending[0]!;
    for (const next of ascending.slice(1)) {
      if (!allowed(next.event, state, current)) break;
      current = next;
    }
    return current.id;
  };

  const pass = (select: (type: string, key: StateKey) => boolean): void => {
    const snapshot = new Map(resolved);
    const picked: Array<[StateKey, string]> = [];
    for (const [k, list] of candidates) {
      const [type] = splitStateKey(k);
      if (!select(type, k)) continue;
      picked.push([k, resolveAuthConflict(list, snapshot)]);
      candidates.delete(k);
    }
    for (const [k, id] of picked) resolved.set(k, id);
  };
  pass((_, k) => k === POWER_LEVELS_KEY);
  pass((type) => type === "m.room.join_rules");
  pass((type) => type === "m.room.member");

  // Everything else: the highest, lowest-hash event that passes, each against the same state.
  const settled = new Map(resolved);
  for (const [k, list] of candidates) {
    const winner = list.find((c) => allowed(c.event, settled)) ?? list[list.length - 1]!;
    resolved.set(k, winner.id);
  }
  return resolved;
}
