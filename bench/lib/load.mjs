/**
 * Load generation.
 *
 * `openLoop` is an open model: operation i has a fixed intended send time t0 + i/rate, set before
 * the run, whatever the server does. Operations are dealt round-robin to the clients; each client
 * keeps at most one request in flight (a Matrix client sends a room's messages one after another),
 * so when the server falls behind, operations queue in the client and their latency, measured from
 * the intended send time rather than from when the request finally went out, includes that
 * queueing (no coordinated omission). A run whose achieved rate falls short of the offered rate is
 * over capacity. The phase is cut off `graceMs` after its last intended send time: operations not
 * sent by then are counted as `unsent`, and their latency enters the percentiles as a lower bound
 * (cut-off time minus intended time), so an overloaded phase is flagged and its percentiles are
 * marked "≥" rather than looking better than they are.
 *
 * `saturate` is a capacity probe: every client sends back to back for a fixed time. Its latency is
 * service time (from the actual send); its throughput is the capacity at that concurrency.
 */
import { cpuDelta, cpuSnapshot, RssSampler } from "./server.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Seconds the whole run may spend waiting for other load on the machine to calm down. */
let quietBudgetMs = Number(process.env.BENCH_QUIET_WAIT ?? "30") * 1000;
const QUIET_PCT = Number(process.env.BENCH_QUIET_PCT ?? "25");

/**
 * Waits (within the run's budget, at most 10 s per phase) until processes outside the benchmark use
 * less than BENCH_QUIET_PCT % of the machine, so a phase does not start in the middle of someone
 * else's burst. Returns how long it waited and the other load of the last window.
 */
export async function waitForQuiet(server) {
  const started = performance.now();
  let other = 0;
  for (;;) {
    const a = cpuSnapshot(server.pid, server.port);
    await sleep(300);
    other = cpuDelta(a, cpuSnapshot(server.pid, server.port)).otherPct;
    const waited = performance.now() - started;
    if (other < QUIET_PCT || waited > 10_000 || waited > quietBudgetMs) {
      quietBudgetMs -= Math.max(0, waited - 300);
      return { waitedMs: Math.round(waited), otherPctBefore: other };
    }
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((n, x) => n + x, 0) / (s.length || 1);
  return { n: s.length, mean, p50: percentile(s, 50), p90: percentile(s, 90), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/**
 * @param {object} o
 * @param {any[]} o.clients  one entry per simulated client, passed to `op`
 * @param {number} o.rate     offered operations per second, all clients together
 * @param {number} o.count    operations in total
 * @param {(client: any, i: number, intended: number) => Promise<{ok: boolean}>} o.op  `intended` is the performance.now() time op i was due
 * @param {{pid: number, port: number}} o.server
 */
export async function openLoop({ clients, rate, count, op, server, graceMs = 2000 }) {
  const n = clients.length;
  const intervalMs = 1000 / rate;
  const latency = [];
  const service = [];
  const lateness = [];
  let ok = 0;
  let failed = 0;
  const quiet = await waitForQuiet(server);
  const rss = new RssSampler(server.pid, server.port);
  const before = cpuSnapshot(server.pid, server.port);
  const t0 = performance.now() + 20;
  const cutoff = t0 + count * intervalMs + graceMs;
  let unsent = 0;
  let lastDone = t0;
  await Promise.all(
    clients.map(async (client, k) => {
      for (let i = k; i < count; i += n) {
        const intended = t0 + i * intervalMs;
        if (performance.now() > cutoff) {
          unsent++;
          latency.push(cutoff - intended);
          continue;
        }
        const wait = intended - performance.now();
        if (wait > 0) await sleep(wait);
        const sent = performance.now();
        lateness.push(Math.max(0, sent - intended));
        const result = await op(client, i, intended);
        const done = performance.now();
        if (done > lastDone) lastDone = done;
        latency.push(done - intended);
        service.push(done - sent);
        if (result.ok) ok++;
        else failed++;
      }
    }),
  );
  const after = cpuSnapshot(server.pid, server.port);
  const peakRssKb = rss.stop();
  const elapsedMs = lastDone - t0;
  return {
    model: "open",
    clients: n,
    offered: rate,
    count,
    ok,
    failed,
    unsent,
    overloaded: unsent > 0 || ok + failed < count,
    achieved: (ok * 1000) / elapsedMs,
    elapsedMs,
    latency: summarize(latency),
    service: summarize(service),
    sendLateness: summarize(lateness),
    cpu: cpuDelta(before, after),
    peakRssKb,
    quiet,
  };
}

/** Every client sends back to back for `durationMs`. */
export async function saturate({ clients, durationMs, op, server, startIndex = 0, quiet: waitQuiet = true }) {
  const service = [];
  let ok = 0;
  let failed = 0;
  let next = startIndex;
  const quiet = waitQuiet ? await waitForQuiet(server) : undefined;
  const rss = new RssSampler(server.pid, server.port);
  const before = cpuSnapshot(server.pid, server.port);
  const t0 = performance.now();
  const stopAt = t0 + durationMs;
  let lastDone = t0;
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < stopAt) {
        const i = next++;
        const sent = performance.now();
        const result = await op(client, i);
        const done = performance.now();
        if (done > lastDone) lastDone = done;
        service.push(done - sent);
        if (result.ok) ok++;
        else failed++;
      }
    }),
  );
  const after = cpuSnapshot(server.pid, server.port);
  const peakRssKb = rss.stop();
  const elapsedMs = lastDone - t0;
  return {
    model: "saturate",
    clients: clients.length,
    count: ok + failed,
    ok,
    failed,
    achieved: (ok * 1000) / elapsedMs,
    elapsedMs,
    service: summarize(service),
    cpu: cpuDelta(before, after),
    peakRssKb,
    quiet,
    nextIndex: next,
  };
}
