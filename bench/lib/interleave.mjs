/**
 * Comparing server configurations fairly on a shared machine: several servers run at once and
 * their measurement rounds are interleaved (order rotated each round), so a burst of other load
 * hits every configuration alike; each figure is the median over the rounds.
 */
import { enc } from "./http.mjs";
import { saturate, summarize } from "./load.mjs";
import { createRoom, join, newUser } from "./matrix.mjs";

/** Ten users with a room each on `server`, and request makers for the cases below. */
export async function prepare(server, tag) {
  const users = [];
  for (let i = 0; i < 10; i++) users.push(await newUser(server.baseUrl, `${tag}-${Date.now().toString(36)}-${i}`));
  const rooms = new Map();
  for (const u of users) rooms.set(u, await createRoom(u, tag));
  // One room all ten are in: every event is delivered to ten user objects.
  const shared = await createRoom(users[0], `${tag} shared`);
  for (const u of users.slice(1)) await join(u, shared);
  const seq = new Map(users.map((u) => [u, 0]));
  const sendTo = (roomOf) => async (u) => {
    const n = seq.get(u);
    seq.set(u, n + 1);
    const res = await u.request("PUT", `/_matrix/client/v3/rooms/${enc(roomOf(u))}/send/m.room.message/${tag}${n}`, { msgtype: "m.text", body: `${tag} ${n}` });
    return { ok: res.status === 200 };
  };
  const send = sendTo((u) => rooms.get(u));
  const sendShared = sendTo(() => shared);
  const versions = async (u) => ({ ok: (await u.request("GET", "/_matrix/client/versions", undefined, null)).status === 200 });
  const whoami = async (u) => ({ ok: (await u.request("GET", "/_matrix/client/v3/account/whoami")).status === 200 });
  return { users, send, sendShared, versions, whoami };
}

export const CASES = {
  "GET /versions, 1 client": (p) => ({ clients: [p.users[0]], op: p.versions }),
  "GET /whoami, 1 client": (p) => ({ clients: [p.users[0]], op: p.whoami }),
  "send, 1 sender, 1 room": (p) => ({ clients: [p.users[0]], op: p.send }),
  "send, 10 senders, a room each": (p) => ({ clients: p.users, op: p.send }),
  "send, 10 senders, 1 shared room": (p) => ({ clients: p.users, op: p.sendShared }),
  "send, 1 sender, room of 10": (p) => ({ clients: [p.users[0]], op: p.sendShared }),
};

/** @param {{name: string, server: any, prepared: any}[]} configs */
export async function interleave(configs, caseNames, rounds, seconds) {
  const results = [];
  for (const caseName of caseNames) {
    const per = new Map(configs.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++) {
      const order = configs.map((_, i) => configs[(i + r) % configs.length]);
      for (const c of order) {
        const { clients, op } = CASES[caseName](c.prepared);
        per.get(c.name).push(await saturate({ server: c.server, clients, durationMs: seconds * 1000, op }));
      }
    }
    for (const c of configs) {
      const rs = per.get(c.name);
      const med = (f) => summarize(rs.map(f)).p50;
      results.push({
        case: caseName,
        config: c.name,
        rounds: rs.length,
        throughput: med((x) => x.achieved),
        meanMs: med((x) => x.service.mean),
        p99Ms: med((x) => x.service.p99),
        workerCpuMsPerOp: med((x) => x.cpu.workerMs / Math.max(1, x.ok)),
        proxyCpuMsPerOp: med((x) => x.cpu.proxyMs / Math.max(1, x.ok)),
        nodeCpuMsPerOp: med((x) => x.cpu.nodeMs / Math.max(1, x.ok)),
        otherLoadPct: med((x) => x.cpu.otherPct),
        failed: rs.reduce((n, x) => n + x.failed, 0),
      });
    }
  }
  return results;
}

export function table(results) {
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : "–");
  return [
    "| case | configuration | req/s | mean ms | p99 ms | Worker CPU ms/op | dev proxy ms/op | wrangler+node ms/op | other load | failed |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...results.map((r) => `| ${r.case} | ${r.config} | ${f(r.throughput, 0)} | ${f(r.meanMs)} | ${f(r.p99Ms)} | ${f(r.workerCpuMsPerOp)} | ${f(r.proxyCpuMsPerOp)} | ${f(r.nodeCpuMsPerOp)} | ${f(r.otherLoadPct, 0)}% | ${r.failed} |`),
  ].join("\n");
}
