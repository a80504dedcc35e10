#!/usr/bin/env node
/**
 * CPU profile of the Worker (its isolate: routes, Durable Objects, sync delivery) under one kind of
 * request. `node --cpu-prof` can't see inside workerd; wrangler dev's inspector proxy can: this
 * connects to it with the DevTools protocol, runs the V8 sampling profiler while sending requests
 * and prints where the time went, inclusive per function. The .cpuprofile it writes opens in
 * Chrome DevTools (Performance panel) for a flame chart.
 *
 *   node bench/profile.mjs [send|send-shared|fanout|sync|whoami|versions] [requests]   (default: send 1000)
 *
 * The server runs at LOG_LEVEL=off. Time outside this isolate (miniflare's entry worker, the D1
 * and storage services, workerd's own C++) is not in the profile; /proc CPU per request is printed
 * beside it for scale.
 */
import { readFileSync, readdirSync, readlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { enc } from "./lib/http.mjs";
import { createRoom, join as joinRoom, newUser } from "./lib/matrix.mjs";
import { cpuDelta, cpuSnapshot, serverProcesses, snapshotTree, startServer } from "./lib/server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const which = process.argv[2] ?? "send";
const N = Number(process.argv[3] ?? "1000");

/** Ports a process listens on, from /proc (no ss or lsof needed). */
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const ports = [];
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === "0A" && inodes.has(f[9])) ports.push(parseInt(f[1].split(":")[1], 16));
  }
  return ports;
}

/** wrangler's inspector proxy lives in the proxy workerd; it answers /json with the Worker's target. */
async function inspectorTarget(server) {
  const { proxy, worker } = serverProcesses(server.pid, server.port);
  for (const p of [proxy, worker].filter(Boolean)) {
    for (const port of listeningPorts(p.pid)) {
      if (port === server.port) continue;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(1000) });
        const list = await res.json();
        const t = Array.isArray(list) && list.find((x) => x.webSocketDebuggerUrl);
        if (t) return t.webSocketDebuggerUrl;
      } catch {}
    }
  }
  throw new Error("no inspector found");
}

function devtools(url) {
  // The inspector proxy wants an Origin it trusts.
  // Node's WebSocket (undici) takes extra headers as a non-standard option.
  const ws = new WebSocket(url, { headers: { Origin: "http://localhost" } });
  ws.binaryType = "arraybuffer";
  let id = 0;
  const pending = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(typeof e.data === "string" ? e.data : new TextDecoder().decode(e.data));
    if (msg.id && pending.has(msg.id)) (pending.get(msg.id)(msg), pending.delete(msg.id));
  };
  const opened = new Promise((ok, fail) => ((ws.onopen = ok), (ws.onerror = (e) => fail(new Error(`inspector: ${e.message ?? "connection failed"}`)))));
  const call = (method, params = {}) =>
    new Promise((ok) => {
      const i = ++id;
      pending.set(i, ok);
      ws.send(JSON.stringify({ id: i, method, params }));
    });
  return { opened, call, close: () => ws.close() };
}

function inclusive(profile, ops) {
  const parent = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const incl = new Map();
  const self = new Map();
  const key = (n) => `${n.callFrame.functionName || "(anonymous)"}${n.callFrame.url ? ` ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}` : ""}`;
  for (const [id, c] of counts) {
    self.set(key(byId.get(id)), (self.get(key(byId.get(id))) ?? 0) + c);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(byId.get(cur));
      if (!seen.has(k)) (seen.add(k), incl.set(k, (incl.get(k) ?? 0) + c));
    }
  }
  const total = profile.samples.length;
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / total;
  const fmt = (v) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${((v * msPerSample) / ops).toFixed(3).padStart(7)} ms/op`;
  return [
    "inclusive (function and everything it calls):",
    ...[...incl].sort((a, b) => b[1] - a[1]).slice(0, 45).map(([k, v]) => `${fmt(v)}  ${k}`),
    "",
    "self:",
    ...[...self].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, v]) => `${fmt(v)}  ${k}`),
  ].join("\n");
}

const tree = snapshotTree(resolve(here, ".."));
const server = await startServer({ treeDir: tree, logLevel: "off" });
try {
  const sender = await newUser(server.baseUrl, `prof-${Date.now().toString(36)}`);
  const roomId = await createRoom(sender, "profile");
  const members = [];
  if (which === "send-shared" || which === "fanout") for (let i = 0; i < 9; i++) members.push(await newUser(server.baseUrl, `prof-${Date.now().toString(36)}-${i}`));
  for (const m of members) await joinRoom(m, roomId);
  // fanout: the other nine long-poll /sync as Element does; one operation is a send and the nine
  // polls that bring it back (the delivery scenario's unit of work, closed loop).
  const arrivals = new Map();
  let polling = true;
  const pollers = [];
  if (which === "fanout") {
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 }, state: { lazy_load_members: true } } }));
    for (const m of members) {
      const conn = m.clone();
      let token = (await conn.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${filter}`)).body.next_batch;
      pollers.push((async () => {
        while (polling) {
          const r = await conn.request("GET", `/_matrix/client/v3/sync?since=${token}&timeout=10000&filter=${filter}`);
          if (r.status !== 200) throw new Error(`fanout poll: HTTP ${r.status}`);
          token = r.body.next_batch;
          for (const ev of r.body.rooms?.join?.[roomId]?.timeline?.events ?? []) {
            const n = ev.content?.n;
            if (n !== undefined) arrivals.set(n, (arrivals.get(n) ?? 0) + 1);
          }
        }
      })());
    }
  }
  let seq = 0;
  // An incremental /sync poll with nothing new (timeout 0), as each long-poller makes after a wake.
  const lazy = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 }, state: { lazy_load_members: true } } }));
  let since = (await sender.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${lazy}`)).body.next_batch;
  const op = {
    versions: () => sender.request("GET", "/_matrix/client/versions", undefined, null),
    whoami: () => sender.request("GET", "/_matrix/client/v3/account/whoami"),
    sync: async () => {
      const r = await sender.request("GET", `/_matrix/client/v3/sync?since=${since}&timeout=0&filter=${lazy}`);
      since = r.body?.next_batch ?? since;
      return r;
    },
    fanout: async () => {
      const n = seq++;
      const r = await sender.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/p${n}`, { msgtype: "m.text", body: `fanout ${n}`, n });
      while ((arrivals.get(n) ?? 0) < members.length) await new Promise((ok) => setTimeout(ok, 0.2));
      return r;
    },
    send: () => sender.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/p${seq++}`, { msgtype: "m.text", body: `profile ${seq}` }),
  }[which === "send-shared" ? "send" : which];
  if (!op) throw new Error(`unknown request kind ${which}`);
  for (let i = 0; i < 200; i++) await op(); // warm up

  const dt = devtools(await inspectorTarget(server));
  await dt.opened;
  await dt.call("Profiler.enable");
  await dt.call("Profiler.setSamplingInterval", { interval: 100 });
  await dt.call("Profiler.start");
  const before = cpuSnapshot(server.pid, server.port);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const r = await op();
    if (r.status !== 200) throw new Error(`${which}: HTTP ${r.status}`);
  }
  const wall = (performance.now() - t0) / N;
  const cpu = cpuDelta(before, cpuSnapshot(server.pid, server.port));
  const { result } = await dt.call("Profiler.stop");
  // The isolate's JS heap beside the Worker process's RSS: what Stratus holds vs what the runtime does.
  const heap = (await dt.call("Runtime.getHeapUsage")).result;
  const { worker } = serverProcesses(server.pid, server.port);
  const rss = worker ? Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${worker.pid}/status`, "utf8"))?.[1] ?? 0) / 1024 : NaN;
  console.log(`Worker isolate JS heap ${(heap.usedSize / 2 ** 20).toFixed(1)} MB used of ${(heap.totalSize / 2 ** 20).toFixed(1)} MB; Worker process RSS ${rss.toFixed(0)} MB`);
  dt.close();
  if (pollers.length) {
    polling = false;
    await sender.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/end`, { msgtype: "m.text", body: "end" });
    await Promise.all(pollers);
  }
  mkdirSync(join(here, "results"), { recursive: true });
  const file = join(here, "results", `profile-${which}.cpuprofile`);
  writeFileSync(file, JSON.stringify(result.profile));
  console.log(`${which} ×${N}, one at a time: ${wall.toFixed(2)} ms per request; Worker process ${(cpu.workerMs / N).toFixed(2)} ms CPU, dev proxy ${(cpu.proxyMs / N).toFixed(2)} ms; other load ${cpu.otherPct.toFixed(0)}%`);
  console.log(`profile: ${file}\n`);
  console.log(inclusive(result.profile, N));
} finally {
  await server.stop();
}
