/**
 * Auth chains, the auth difference and the conflicted state subgraph
 * (spec: Rooms v2 § State resolution § Definitions; Rooms v12 for the subgraph).
 *
 * All three are answered from one walk of the `auth_events` graph below a set of root events:
 * the walk yields the reachable events in post-order (every event after all of its auth events),
 * and one linear pass over that order in each direction propagates "which roots reach this
 * event". That replaces one auth-chain walk per state set (or per event) and the set
 * intersections after it.
 */
import type { StateMap } from "../events";
import { EventGraph, type EventSource } from "./event-graph";

/** The events reachable from `roots` through `auth_events`, in post-order, as dense indices. */
interface AuthGraph {
  ids: string[];
  index: Map<string, number>;
  /** `auth[i]`: indices of the auth events of event `i` (empty for events we do not have). */
  auth: number[][];
  /** Post-order: an event's auth events all come before it. */
  order: Int32Array;
}

function walkAuthGraph(roots: Iterable<string>, graph: EventGraph): AuthGraph {
  const ids: string[] = [];
  const index = new Map<string, number>();
  const auth: number[][] = [];
  const order: number[] = [];

  const intern = (id: string): [number, boolean] => {
    const known = index.get(id);
    if (known !== undefined) return [known, false];
    const i = ids.length;
    ids.push(id);
    index.set(id, i);
    auth.push([]);
    return [i, true];
  };

  // Iterative DFS: auth chains of old rooms are far deeper than the JS call stack.
  const stack: Array<{ node: number; next: number; children: readonly string[] }> = [];
  for (const root of roots) {
    const [r, fresh] = intern(root);
    if (!fresh) continue;
    stack.push({ node: r, next: 0, children: graph.authEvents(root) });
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.children.length) {
        const childId = top.children[top.next++]!;
        const [c, isNew] = intern(childId);
        auth[top.node]!.push(c);
        if (isNew) stack.push({ node: c, next: 0, children: graph.authEvents(childId) });
      } else {
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return { ids, index, auth, order: Int32Array.from(order) };
}

/**
 * The union of the auth chains of `eventIds`: every event reachable through one or more
 * `auth_events` links. The given events themselves are included only when another given event
 * reaches them. Ids of auth events the server does not have are included (they are part of the
 * chain by id) but cannot be walked past.
 */
export function authChain(eventIds: Iterable<string>, source: EventSource): Set<string> {
  const g = walkAuthGraph(eventIds, EventGraph.of(source));
  const reached = new Uint8Array(g.ids.length);
  for (let k = 0; k < g.order.length; k++) for (const a of g.auth[g.order[k]!]!) reached[a] = 1;
  const out = new Set<string>();
  for (let i = 0; i < g.ids.length; i++) if (reached[i]) out.add(g.ids[i]!);
  return out;
}

/**
 * Auth difference (spec: Rooms v2 § Definitions): with C_i the full auth chain of state set S_i
 * (the union of the auth chains of its events), the events in ∪C_i − ∩C_i.
 *
 * Every event gets a bit set with one bit per state set: bit i is set when S_i reaches the event
 * through at least one `auth_events` link. Walking the post-order backwards visits every event
 * before its auth events, so each edge is looked at once.
 */
export function authDifference(stateSets: readonly StateMap[], source: EventSource): Set<string> {
  return analyseAuthGraph(stateSets, undefined, EventGraph.of(source)).authDifference;
}

/**
 * Conflicted state subgraph (spec: Rooms v12 § Definitions): the events on some `auth_events`
 * path from one conflicted event to another, endpoints included.
 */
export function conflictedStateSubgraph(conflicted: ReadonlySet<string>, source: EventSource): Set<string> {
  const graph = EventGraph.of(source);
  const g = walkAuthGraph(conflicted, graph);
  return subgraphOf(g, conflicted);
}

/**
 * Both sets from a single walk below all state-set events (the conflicted events are state-set
 * events, so the same walk covers the subgraph). `conflicted` undefined skips the subgraph.
 */
export function analyseAuthGraph(
  stateSets: readonly StateMap[],
  conflicted: ReadonlySet<string> | undefined,
  graph: EventGraph,
): { authDifference: Set<string>; conflictedSubgraph: Set<string> } {
  const roots = new Set<string>();
  for (const s of stateSets) for (const id of s.values()) roots.add(id);
  const g = walkAuthGraph(roots, graph);
  return {
    authDifference: differenceOf(g, stateSets),
    conflictedSubgraph: conflicted ? subgraphOf(g, conflicted) : new Set(),
  };
}

function differenceOf(g: AuthGraph, stateSets: readonly StateMap[]): Set<string> {
  const n = g.ids.length;
  const k = stateSets.length;
  const out = new Set<string>();
  if (k === 0 || n === 0) return out;
  const words = Math.ceil(k / 32);
  const seed = new Uint32Array(n * words);
  const reach = new Uint32Array(n * words);
  stateSets.forEach((s, i) => {
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    for (const id of s.values()) {
      const v = g.index.get(id);
      if (v !== undefined) seed[v * words + word]! |= bit;
    }
  });
  for (let p = g.order.length - 1; p >= 0; p--) {
    const v = g.order[p]!;
    const edges = g.auth[v]!;
    if (edges.length === 0) continue;
    for (let w = 0; w < words; w++) {
      const bits = reach[v * words + w]! | seed[v * words + w]!;
      if (bits === 0) continue;
      for (const a of edges) reach[a * words + w]! |= bits;
    }
  }
  // `>>> 0` keeps the all-ones word unsigned, as Uint32Array stores it.
  const fullWord = (w: number): number => (w < words - 1 || k % 32 === 0 ? 0xffffffff : ((1 << (k % 32)) - 1) >>> 0);
  for (let v = 0; v < n; v++) {
    let any = false;
    let all = true;
    for (let w = 0; w < words; w++) {
      const bits = reach[v * words + w]!;
      if (bits !== 0) any = true;
      if (bits !== fullWord(w)) all = false;
    }
    if (any && !all) out.add(g.ids[v]!);
  }
  return out;
}

function subgraphOf(g: AuthGraph, conflicted: ReadonlySet<string>): Set<string> {
  const n = g.ids.length;
  const isConflicted = new Uint8Array(n);
  for (const id of conflicted) {
    const v = g.index.get(id);
    if (v !== undefined) isConflicted[v] = 1;
  }
  // below[v]: some conflicted event reaches v through one or more links.
  const below = new Uint8Array(n);
  for (let p = g.order.length - 1; p >= 0; p--) {
    const v = g.order[p]!;
    if (!below[v] && !isConflicted[v]) continue;
    for (const a of g.auth[v]!) below[a] = 1;
  }
  // above[v]: v reaches some conflicted event through one or more links.
  const above = new Uint8Array(n);
  for (let p = 0; p < g.order.length; p++) {
    const v = g.order[p]!;
    for (const a of g.auth[v]!) {
      if (isConflicted[a] || above[a]) {
        above[v] = 1;
        break;
      }
    }
  }
  const out = new Set<string>();
  for (let v = 0; v < n; v++) {
    const fromConflicted = below[v] === 1 || isConflicted[v] === 1;
    const toConflicted = above[v] === 1 || isConflicted[v] === 1;
    // A conflicted event that is on no path to or from another one is not a path "between a
    // pair" of them; it is in the full conflicted set anyway, as a conflicted event.
    if (fromConflicted && toConflicted && (below[v] === 1 || above[v] === 1)) out.add(g.ids[v]!);
  }
  return out;
}
