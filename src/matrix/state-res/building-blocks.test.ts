/**
 * The building blocks of state resolution v2, each against a hand-computed answer or a naive
 * reference implementation on seeded random auth DAGs.
 */
import { describe, expect, it } from "vitest";
import { stateKey, type RoomEvent, type StateMap } from "../events";
import { getRoomVersion, type RoomVersion } from "../room-versions";
import {
  authChain,
  authDifference,
  conflictedStateSubgraph,
  EventGraph,
  iterativeAuthChecks,
  isPowerEvent,
  mainline,
  mainlineOrdering,
  resolveState,
  reverseTopologicalPowerOrdering,
  senderPowerLevel,
  separateState,
  separateStateV1,
} from "./index";
import { expectedStateMap, loadPdus, lookupIn, RoomBuilder, rows, storeOf, versionOfPdus } from "./test-support";

const ALICE = "@alice:example.com";
const BOB = "@bob:example.com";
const CAROL = "@carol:example.com";

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`no room version ${id}`);
  return v;
}

/** mulberry32: a small seeded PRNG, so random cases are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random auth DAG: event i cites up to `fanout` events among the earlier ones. */
function randomDag(seed: number, n: number, fanout = 3): Map<string, RoomEvent> {
  const rand = prng(seed);
  const store = new Map<string, RoomEvent>();
  for (let i = 0; i < n; i++) {
    const auth = new Set<string>();
    if (i > 0) {
      const k = 1 + Math.floor(rand() * fanout);
      for (let j = 0; j < k; j++) auth.add(`$e${Math.floor(rand() * i)}`);
    }
    store.set(`$e${i}`, {
      event_id: `$e${i}`,
      room_id: "!r:example.com",
      sender: ALICE,
      type: "t",
      state_key: `${i}`,
      content: {},
      prev_events: [],
      auth_events: [...auth],
      depth: i,
      origin_server_ts: Math.floor(rand() * 5),
    });
  }
  return store;
}

function naiveChain(id: string, store: Map<string, RoomEvent>): Set<string> {
  const out = new Set<string>();
  const todo = [...((store.get(id)?.auth_events as string[] | undefined) ?? [])];
  while (todo.length > 0) {
    const a = todo.pop()!;
    if (out.has(a)) continue;
    out.add(a);
    todo.push(...((store.get(a)?.auth_events as string[] | undefined) ?? []));
  }
  return out;
}

function randomStateSets(rand: () => number, store: Map<string, RoomEvent>, count: number): StateMap[] {
  const ids = [...store.keys()];
  return Array.from({ length: count }, () => {
    const s: StateMap = new Map();
    for (const id of ids) if (rand() < 0.08) s.set(stateKey("t", id), id);
    return s;
  });
}

describe("auth chain", () => {
  it("is everything reachable through auth_events, not the starting events themselves", () => {
    const store = randomDag(1, 5, 1);
    // Hand-made: e3 -> e1 -> e0, e2 -> e0, e4 -> e3.
    store.get("$e1")!.auth_events = ["$e0"];
    store.get("$e2")!.auth_events = ["$e0"];
    store.get("$e3")!.auth_events = ["$e1"];
    store.get("$e4")!.auth_events = ["$e3", "$missing"];
    expect([...authChain(["$e3"], lookupIn(store))].sort()).toEqual(["$e0", "$e1"]);
    expect([...authChain(["$e4", "$e2"], lookupIn(store))].sort()).toEqual(["$e0", "$e1", "$e3", "$missing"]);
    // A starting event is included only when another one reaches it.
    expect([...authChain(["$e4", "$e3"], lookupIn(store))].sort()).toEqual(["$e0", "$e1", "$e3", "$missing"]);
  });

  it("matches a naive walk on random DAGs", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const store = randomDag(seed, 120);
      const rand = prng(seed * 7);
      const roots = [...store.keys()].filter(() => rand() < 0.05);
      const naive = new Set<string>();
      for (const r of roots) for (const a of naiveChain(r, store)) naive.add(a);
      expect(authChain(roots, lookupIn(store))).toEqual(naive);
    }
  });

  it("walks a 30 000-event chain without recursion limits", () => {
    const store = new Map<string, RoomEvent>();
    for (let i = 0; i < 30_000; i++) {
      store.set(`$c${i}`, {
        event_id: `$c${i}`,
        room_id: "!r:example.com",
        sender: ALICE,
        type: "t",
        state_key: `${i}`,
        content: {},
        prev_events: [],
        auth_events: i === 0 ? [] : [`$c${i - 1}`],
        depth: i,
        origin_server_ts: i,
      });
    }
    expect(authChain(["$c29999"], lookupIn(store)).size).toBe(29_999);
    const a: StateMap = new Map([[stateKey("t", "x"), "$c29999"]]);
    const b: StateMap = new Map([[stateKey("t", "x"), "$c100"]]);
    expect(authDifference([a, b], lookupIn(store)).size).toBe(29_999 - 100);
  });
});

describe("auth difference", () => {
  it("is the union minus the intersection of the state sets' full auth chains", () => {
    const store = randomDag(3, 6, 1);
    store.get("$e1")!.auth_events = ["$e0"];
    store.get("$e2")!.auth_events = ["$e1"];
    store.get("$e3")!.auth_events = ["$e1"];
    store.get("$e4")!.auth_events = ["$e3"];
    store.get("$e5")!.auth_events = ["$e0"];
    const s1: StateMap = new Map([[stateKey("a", ""), "$e2"]]);
    const s2: StateMap = new Map([[stateKey("a", ""), "$e4"], [stateKey("b", ""), "$e5"]]);
    // C1 = {e1, e0}; C2 = {e3, e1, e0} ∪ {e0}.
    expect([...authDifference([s1, s2], lookupIn(store))].sort()).toEqual(["$e3"]);
    expect(authDifference([s1], lookupIn(store)).size).toBe(0);
    expect(authDifference([], lookupIn(store)).size).toBe(0);
  });

  it("matches the naive definition on random DAGs, with 2, 3 and 40 state sets", () => {
    for (const count of [2, 3, 40]) {
      for (let seed = 1; seed <= 10; seed++) {
        const store = randomDag(seed * 13 + count, 150);
        const sets = randomStateSets(prng(seed + count), store, count);
        const chains = sets.map((s) => {
          const c = new Set<string>();
          for (const id of s.values()) for (const a of naiveChain(id, store)) c.add(a);
          return c;
        });
        const union = new Set(chains.flatMap((c) => [...c]));
        const naive = new Set([...union].filter((id) => !chains.every((c) => c.has(id))));
        expect(authDifference(sets, lookupIn(store))).toEqual(naive);
      }
    }
  });
});

describe("conflicted state subgraph", () => {
  it("holds the events on auth paths between conflicted events, endpoints included", () => {
    const store = randomDag(5, 8, 1);
    // c1=e6 -> e4 -> e2 -> c2=e1 -> e0; e6 -> e5 (dead end); e7 (conflicted, isolated) -> e0.
    store.get("$e1")!.auth_events = ["$e0"];
    store.get("$e2")!.auth_events = ["$e1"];
    store.get("$e3")!.auth_events = ["$e0"];
    store.get("$e4")!.auth_events = ["$e2", "$e3"];
    store.get("$e5")!.auth_events = ["$e0"];
    store.get("$e6")!.auth_events = ["$e4", "$e5"];
    store.get("$e7")!.auth_events = ["$e0"];
    const sub = conflictedStateSubgraph(new Set(["$e6", "$e1", "$e7"]), lookupIn(store));
    expect([...sub].sort()).toEqual(["$e1", "$e2", "$e4", "$e6"]);
  });

  it("matches the pairwise definition on random DAGs", () => {
    for (let seed = 1; seed <= 15; seed++) {
      const store = randomDag(seed * 31, 80);
      const rand = prng(seed * 17);
      const conflicted = new Set([...store.keys()].filter(() => rand() < 0.06));
      const reach = new Map<string, Set<string>>();
      for (const id of store.keys()) reach.set(id, new Set([id, ...naiveChain(id, store)]));
      const naive = new Set<string>();
      for (const c1 of conflicted) {
        for (const c2 of conflicted) {
          if (c1 === c2 || !reach.get(c1)!.has(c2)) continue;
          for (const v of reach.get(c1)!) if (reach.get(v)?.has(c2)) naive.add(v);
        }
      }
      expect(conflictedStateSubgraph(conflicted, lookupIn(store))).toEqual(naive);
    }
  });
});

describe("unconflicted state map and conflicted state set", () => {
  const a: StateMap = new Map([
    ["k1", "$x"],
    ["k2", "$y"],
    ["k3", "$z"],
  ]);
  const b: StateMap = new Map([
    ["k1", "$x"],
    ["k2", "$y2"],
  ]);

  it("v2: a key absent from some state set is conflicted", () => {
    const { unconflicted, conflicted } = separateState([a, b]);
    expect([...unconflicted]).toEqual([["k1", "$x"]]);
    expect(conflicted).toEqual(
      new Map([
        ["k2", new Set(["$y", "$y2"])],
        ["k3", new Set(["$z"])],
      ]),
    );
  });

  it("v1: only differing values conflict", () => {
    const { unconflicted, conflicted } = separateStateV1([a, b]);
    expect(unconflicted).toEqual(
      new Map([
        ["k1", "$x"],
        ["k3", "$z"],
      ]),
    );
    expect(conflicted).toEqual(new Map([["k2", new Set(["$y", "$y2"])]]));
  });
});

/** alice (100) creates a room with bob at 50; returns the builder and its state. */
function smallRoom(versionId: string): { room: RoomBuilder; state: StateMap } {
  const v = version(versionId);
  const room = new RoomBuilder(v, v.roomIdFromCreateEvent ? "!create" : "!room:example.com");
  let s: StateMap = new Map();
  s = room.send("$create", s, {
    type: "m.room.create",
    sender: ALICE,
    stateKey: "",
    content: v.implicitRoomCreator ? { room_version: v.id } : { creator: ALICE, room_version: v.id },
  });
  s = room.send("$alice", s, { type: "m.room.member", sender: ALICE, stateKey: ALICE, content: { membership: "join" }, prev: ["$create"] });
  s = room.send("$pl", s, {
    type: "m.room.power_levels",
    sender: ALICE,
    stateKey: "",
    content: { users: v.privilegedCreators ? { [BOB]: 50 } : { [ALICE]: 100, [BOB]: 50 } },
    prev: ["$alice"],
  });
  s = room.send("$jr", s, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "public" }, prev: ["$pl"] });
  s = room.send("$bob", s, { type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" }, prev: ["$jr"] });
  s = room.send("$carol", s, { type: "m.room.member", sender: CAROL, stateKey: CAROL, content: { membership: "join" }, prev: ["$bob"] });
  return { room, state: s };
}

describe("power events and sender power", () => {
  it("classifies power events", () => {
    const { room, state } = smallRoom("10");
    room.send("$kick", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "leave" } });
    room.send("$leave", state, { type: "m.room.member", sender: CAROL, stateKey: CAROL, content: { membership: "leave" } });
    room.send("$ban", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "ban" } });
    room.send("$topic", state, { type: "m.room.topic", sender: ALICE, stateKey: "", content: { topic: "t" } });
    const power = (id: string): boolean => isPowerEvent(room.get(id));
    expect(["$create", "$pl", "$jr", "$kick", "$ban"].map(power)).toEqual([true, true, true, true, true]);
    expect(["$alice", "$leave", "$topic", "$bob"].map(power)).toEqual([false, false, false, false]);
  });

  it("reads the sender's level from the event's own auth events", () => {
    const { room, state } = smallRoom("10");
    room.send("$by-bob", state, { type: "m.room.topic", sender: BOB, stateKey: "", content: {} });
    room.send("$by-carol", state, { type: "m.room.topic", sender: CAROL, stateKey: "", content: {} });
    const v = room.version;
    expect(senderPowerLevel("$by-bob", room.lookup, v)).toBe(50);
    expect(senderPowerLevel("$by-carol", room.lookup, v)).toBe(0);
    // No power levels among its auth events: the creator has 100.
    expect(senderPowerLevel("$pl", room.lookup, v)).toBe(100);
    expect(senderPowerLevel("$create", room.lookup, v)).toBe(0);
  });

  it("v12: creators are infinitely powerful, found through the room id", () => {
    const { room, state } = smallRoom("12");
    room.send("$by-alice", state, { type: "m.room.topic", sender: ALICE, stateKey: "", content: {} });
    expect(room.get("$by-alice").auth_events).not.toContain("$create");
    expect(senderPowerLevel("$by-alice", room.lookup, room.version)).toBe(Infinity);
    expect(senderPowerLevel("$bob", room.lookup, room.version)).toBe(50);
    expect(senderPowerLevel("$carol", room.lookup, room.version)).toBe(0);
  });
});

describe("reverse topological power ordering", () => {
  it("puts auth events first, then more power, then older, then the smaller event id", () => {
    const { room, state } = smallRoom("10");
    room.send("$bob-ts1", state, { type: "m.room.join_rules", sender: BOB, stateKey: "", content: { join_rule: "invite" }, ts: 1 });
    room.send("$z-alice-ts3", state, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "invite" }, ts: 3 });
    room.send("$a-alice-ts3", state, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "invite" }, ts: 3 });
    room.send("$alice-ts2", state, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "invite" }, ts: 2 });
    // Cites bob's event, so it must follow it despite alice's power and an older timestamp.
    room.add("$child", { type: "m.room.power_levels", sender: ALICE, stateKey: "", auth: ["$create", "$pl", "$alice", "$bob-ts1"], ts: 0 });
    const sorted = reverseTopologicalPowerOrdering(room.version, ["$child", "$bob-ts1", "$z-alice-ts3", "$a-alice-ts3", "$alice-ts2"], room.lookup);
    expect(sorted).toEqual(["$alice-ts2", "$a-alice-ts3", "$z-alice-ts3", "$bob-ts1", "$child"]);
  });

  it("pulls in auth events within the given scope only", () => {
    const { room, state } = smallRoom("10");
    room.send("$x", state, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "invite" } });
    const within = new Set(["$x", "$pl", "$alice"]);
    expect(reverseTopologicalPowerOrdering(room.version, ["$x"], room.lookup, within)).toEqual(["$alice", "$pl", "$x"]);
  });

  it("equals a quadratic Kahn's algorithm on random DAGs", () => {
    const v = version("10");
    for (let seed = 1; seed <= 10; seed++) {
      const store = randomDag(seed * 101, 60);
      const ids = [...store.keys()];
      const graph = new EventGraph(lookupIn(store));
      const sorted = reverseTopologicalPowerOrdering(v, ids, graph);
      // Reference: pick the smallest ready event by a linear scan each time.
      const done = new Set<string>();
      const naive: string[] = [];
      while (naive.length < ids.length) {
        const ready = ids.filter((id) => !done.has(id) && (store.get(id)!.auth_events as string[]).every((a) => done.has(a)));
        ready.sort((x, y) => {
          const tx = store.get(x)!.origin_server_ts;
          const ty = store.get(y)!.origin_server_ts;
          return tx !== ty ? tx - ty : x < y ? -1 : 1;
        });
        done.add(ready[0]!);
        naive.push(ready[0]!);
      }
      expect(sorted).toEqual(naive);
    }
  });
});

describe("mainline ordering", () => {
  it("orders by mainline position (furthest first, no power levels at all before everything), then time, then id", () => {
    const { room, state } = smallRoom("10");
    const base = ["$create", "$alice"];
    room.add("$p2", { type: "m.room.power_levels", sender: ALICE, stateKey: "", content: { users: { [ALICE]: 100 } }, auth: [...base, "$pl"] });
    room.add("$p3", { type: "m.room.power_levels", sender: ALICE, stateKey: "", content: { users: { [ALICE]: 100 } }, auth: [...base, "$p2"] });
    // A power levels event off the mainline, built on $pl: its dependents rank like $pl's.
    room.add("$side", { type: "m.room.power_levels", sender: ALICE, stateKey: "", content: { users: { [ALICE]: 100 } }, auth: [...base, "$pl"] });
    void state;
    room.add("$on-p3", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: [...base, "$p3"], ts: 1 });
    room.add("$on-pl", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: [...base, "$pl"], ts: 50 });
    room.add("$on-side-b", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: [...base, "$side"], ts: 40 });
    room.add("$on-side-a", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: [...base, "$side"], ts: 40 });
    room.add("$no-pl", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: base, ts: 99 });
    room.add("$on-p2", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: [...base, "$p2"], ts: 0 });

    expect(mainline("$p3", room.lookup)).toEqual(["$p3", "$p2", "$pl"]);
    const sorted = mainlineOrdering(["$on-p3", "$on-pl", "$on-side-b", "$no-pl", "$on-side-a", "$on-p2", "$unknown"], "$p3", room.lookup);
    expect(sorted).toEqual(["$no-pl", "$on-side-a", "$on-side-b", "$on-pl", "$on-p2", "$on-p3"]);
  });

  it("without a power levels event every position is ∞ and time decides", () => {
    const { room } = smallRoom("10");
    room.add("$late", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: ["$pl"], ts: 9 });
    room.add("$early", { type: "m.room.topic", sender: ALICE, stateKey: "", auth: ["$pl"], ts: 8 });
    expect(mainlineOrdering(["$late", "$early"], undefined, room.lookup)).toEqual(["$early", "$late"]);
  });
});

describe("iterative auth checks", () => {
  it("applies allowed events in order and skips the rest", () => {
    const { room, state } = smallRoom("10");
    room.send("$topic-carol", state, { type: "m.room.topic", sender: CAROL, stateKey: "", content: { topic: "no" } });
    room.send("$topic-bob", state, { type: "m.room.topic", sender: BOB, stateKey: "", content: { topic: "yes" } });
    const out = iterativeAuthChecks(room.version, state, ["$topic-bob", "$topic-carol"], room.lookup);
    expect(out.get(stateKey("m.room.topic", ""))).toBe("$topic-bob");
    expect(state.has(stateKey("m.room.topic", ""))).toBe(false);
  });

  it("falls back to the event's auth events for keys the state lacks, unless they were rejected", () => {
    const { room, state } = smallRoom("10");
    room.send("$ban", state, { type: "m.room.member", sender: BOB, stateKey: CAROL, content: { membership: "ban" } });
    expect(room.get("$ban").auth_events).toContain("$pl");
    const empty: StateMap = new Map();
    expect(iterativeAuthChecks(room.version, empty, ["$ban"], room.lookup).get(stateKey("m.room.member", CAROL))).toBe("$ban");
    // With the power levels event rejected, bob has no power to ban.
    const rejected = iterativeAuthChecks(room.version, empty, ["$ban"], room.lookup, { isRejected: (id) => id === "$pl" });
    expect(rejected.has(stateKey("m.room.member", CAROL))).toBe(false);
  });
});

describe("resolveState", () => {
  it("returns the only state set, or nothing for none, untouched", () => {
    const { room, state } = smallRoom("10");
    expect(resolveState(room.version, [], room.lookup).size).toBe(0);
    const out = resolveState(room.version, [state], room.lookup);
    expect(out).toEqual(state);
    expect(out).not.toBe(state);
  });

  it("does not depend on the order of the state sets", () => {
    const files = ["bootstrap-public-chat", "join-rules-vs-join-common", "join-rules-vs-join-alice", "join-rules-vs-join-ella"];
    const pdus = files.flatMap((f) => loadPdus(`state-res/ruma/fixtures/${f}.json`));
    const v = versionOfPdus(pdus);
    const store = storeOf(pdus);
    const expected = rows(expectedStateMap("state-res/ruma/expected/join_rules_vs_join.json"));
    const rand = prng(42);
    for (let round = 0; round < 5; round++) {
      const shuffled = [...pdus];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const sets = shuffled.map((p): StateMap => new Map([[stateKey(p.type, p.state_key!), p.event_id]]));
      expect(rows(resolveState(v, sets, lookupIn(store)))).toEqual(expected);
    }
  });

  it("reads each event from the store at most once per call", () => {
    const { room, state } = smallRoom("10");
    let s = state;
    let head = "$carol";
    for (let i = 0; i < 300; i++) {
      const user = `@u${i}:example.com`;
      s = room.send(`$join-${i}`, s, { type: "m.room.member", sender: user, stateKey: user, content: { membership: "join" }, prev: [head] });
      head = `$join-${i}`;
    }
    const forkA = room.send("$jr-invite", s, { type: "m.room.join_rules", sender: ALICE, stateKey: "", content: { join_rule: "invite" }, prev: [head] });
    let forkB = room.send("$topic", s, { type: "m.room.topic", sender: BOB, stateKey: "", content: { topic: "t" }, prev: [head] });
    forkB = room.send("$late-join", forkB, { type: "m.room.member", sender: "@late:example.com", stateKey: "@late:example.com", content: { membership: "join" }, prev: ["$topic"] });
    forkB = room.send("$kick", forkB, { type: "m.room.member", sender: BOB, stateKey: "@u7:example.com", content: { membership: "leave" }, prev: ["$late-join"] });

    const reads = new Map<string, number>();
    const counted = (id: string): RoomEvent | undefined => {
      reads.set(id, (reads.get(id) ?? 0) + 1);
      return room.store.get(id);
    };
    const resolved = resolveState(room.version, [forkA, forkB], counted);
    expect(Math.max(...reads.values())).toBe(1);
    expect(resolved.get(stateKey("m.room.join_rules", ""))).toBe("$jr-invite");
    expect(resolved.has(stateKey("m.room.member", "@late:example.com"))).toBe(false);
    expect(resolved.get(stateKey("m.room.member", "@u7:example.com"))).toBe("$kick");
    expect(resolved.get(stateKey("m.room.topic", ""))).toBe("$topic");
  });
});
