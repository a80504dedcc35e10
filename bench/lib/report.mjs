/** Ratios to the floors, target checks and the printed tables. */

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const x = (r) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "–");

/** The latency a row is judged by: from the intended send time (open) or service time (saturate). */
export const lat = (row) => (row.model === "open" ? row.latency : row.service);

/** Which floor a row is compared with: /versions for unauthenticated routes, whoami for the rest. */
function floorIdFor(row) {
  if (row.id === "floor/versions" || row.id.startsWith("auth/")) return "floor/versions";
  return "floor/whoami";
}

function findFloor(rows, row, floorId) {
  const same = rows.filter((r) => r.id === floorId && r.level === row.level && r.model === row.model);
  if (row.model === "open") return same.find((r) => r.clients === row.clients && r.offered === row.offered) ?? same.find((r) => r.clients === row.clients);
  return same.find((r) => r.clients === row.clients);
}

export function addRatios(rows) {
  for (const row of rows) {
    const floorId = floorIdFor(row);
    const floor = findFloor(rows, row, floorId);
    row.floor = floor ? { id: floorId, model: floor.model, clients: floor.clients, offered: floor.offered } : undefined;
    if (!floor) continue;
    const comparableRate = row.model === "saturate" || row.offered === floor.offered;
    row.ratio = {
      throughput: comparableRate ? ratio(row.achieved, floor.achieved) : NaN,
      p50: ratio(lat(row).p50, lat(floor).p50),
      p99: ratio(lat(row).p99, lat(floor).p99),
      workerCpuPerOp: ratio(row.perOp.workerMs, floor.perOp.workerMs),
    };
  }
}

const find = (rows, level, id, model, clients) => rows.find((r) => r.level === level && r.id === id && r.model === model && (clients === undefined || r.clients === clients));

/** Each target from the issue, per log level. */
export function checkTargets(rows, levels, memory) {
  const out = [];
  for (const level of levels) {
    const seqOpen = find(rows, level, "send/1-sender-1-room", "open");
    const seqSat = find(rows, level, "send/1-sender-1-room", "saturate");
    if (seqOpen) {
      const keptUp = seqOpen.achieved >= 0.97 * seqOpen.offered && seqOpen.failed === 0;
      out.push({
        level,
        target: "sequential sends ≥ 400 msg/s with p99 ≤ 10 ms",
        measured: `open @${seqOpen.offered}/s: achieved ${f0(seqOpen.achieved)}/s, p99 ${seqOpen.overloaded ? "≥" : ""}${f1(seqOpen.latency.p99)} ms; capacity ${f0(seqSat?.achieved)}/s`,
        met: keptUp && seqOpen.latency.p99 <= 10 && (seqSat?.achieved ?? 0) >= 400,
        gap: `${f2(ratio(seqSat?.achieved, 400))}× of the rate; p99 ${f2(ratio(seqOpen.latency.p99, 10))}× of the bound`,
      });
    }
    for (const id of ["send/10-senders-1-room", "send/10-senders-10-rooms"]) {
      const open = find(rows, level, id, "open");
      const sat = find(rows, level, id, "saturate");
      if (!open) continue;
      out.push({
        level,
        target: `10 concurrent clients ≥ 700 msg/s (${id.endsWith("1-room") ? "one room" : "a room each"})`,
        measured: `open @${open.offered}/s: achieved ${f0(open.achieved)}/s (p99 ${open.overloaded ? "≥" : ""}${f1(open.latency.p99)} ms); capacity ${f0(sat?.achieved)}/s`,
        met: open.achieved >= 0.97 * open.offered && open.failed === 0 && (sat?.achieved ?? 0) >= 700,
        gap: `${f2(ratio(sat?.achieved, 700))}× of the rate`,
      });
    }
    for (const [sendId, floorId, clients] of [
      ["send/1-sender-1-room", "floor/do-sign", 1],
      ["send/10-senders-1-room", "floor/do-sign", 10],
      ["send/10-senders-10-rooms", "floor/do-sign-spread", 10],
    ]) {
      const s = find(rows, level, sendId, "saturate", clients);
      const f = find(rows, level, floorId, "saturate", clients);
      if (!s || !f) continue;
      const r = ratio(s.achieved, f.achieved);
      out.push({
        level,
        target: `send path ≥ 0.5× the DO+sign floor (${sendId} vs ${floorId}, ${clients} client${clients > 1 ? "s" : ""})`,
        measured: `${f0(s.achieved)}/s vs ${f0(f.achieved)}/s = ${f2(r)}×`,
        met: r >= 0.5,
        gap: `${f2(r / 0.5)}× of the target ratio`,
      });
    }
    const sendRows = rows.filter((r) => r.level === level && r.id.startsWith("send/"));
    if (sendRows.length) {
      const worst = sendRows.reduce((a, b) => (b.perOp.workerMs > a.perOp.workerMs ? b : a));
      out.push({
        level,
        target: "server CPU ≤ 1 ms per sent event (Worker process)",
        measured: `${f2(Math.min(...sendRows.map((r) => r.perOp.workerMs)))}–${f2(worst.perOp.workerMs)} ms (worst: ${worst.id} ${worst.model}); dev proxy adds ${f2(worst.perOp.proxyMs)} ms, wrangler/Node ${f2(worst.perOp.nodeMs)} ms`,
        met: worst.perOp.workerMs <= 1,
        gap: `${f2(worst.perOp.workerMs)}× of the bound`,
      });
    }
    const d20 = find(rows, level, "delivery/10-rooms-20", "open");
    if (d20) {
      const l = d20.latency;
      out.push({
        level,
        target: "delivery at 20 msg/s, 100 users in 10 rooms: p50 ≤ 30 ms, p99 ≤ 150 ms",
        measured: `p50 ${f1(l.p50)} ms, p95 ${f1(l.p95)} ms, p99 ${f1(l.p99)} ms over ${d20.sync.delivered} of ${d20.sync.deliveries} deliveries`,
        met: l.p50 <= 30 && l.p99 <= 150 && d20.sync.missing === 0,
        gap: `p50 ${f2(ratio(l.p50, 30))}×, p99 ${f2(ratio(l.p99, 150))}× of the bound`,
      });
    }
    for (const [n, bound] of [[100, 500], [1000, 5000]]) {
      const r = find(rows, level, `sync/initial-${n}`, "saturate");
      if (!r) continue;
      const lazy = find(rows, level, `sync/initial-lazy-${n}`, "saturate");
      out.push({
        level,
        target: `initial sync ≤ ${bound} ms for ${n} rooms`,
        measured: `p50 ${f0(r.service.p50)} ms (max ${f0(r.service.max)}, ${r.ok} requests)${lazy ? `; lazy-loading members: p50 ${f0(lazy.service.p50)} ms` : ""}`,
        met: r.service.p50 <= bound && r.failed === 0,
        gap: `${f2(ratio(r.service.p50, bound))}× of the bound`,
      });
    }
    const inc = find(rows, level, "sync/incremental-1-new", "saturate");
    if (inc) {
      out.push({
        level,
        target: "incremental sync with one new event ≤ 10 ms (p50, server)",
        measured: `p50 ${f2(inc.service.p50)} ms as the client sees it (Worker CPU ${f2(inc.perOp.workerMs)} ms); the whoami floor is ${f2(find(rows, level, "floor/whoami", "saturate", 1)?.service.p50)} ms`,
        met: inc.service.p50 <= 10,
        gap: `${f2(ratio(inc.service.p50, 10))}× of the bound (client-observed, an upper bound of server time)`,
      });
    }
    const deliveryRows = rows.filter((r) => r.level === level && r.id.startsWith("delivery/"));
    if (deliveryRows.length) {
      const peak = Math.max(...deliveryRows.map((r) => r.peakRssKb));
      out.push({
        level,
        target: "workerd RSS ≤ 256 MB during the delivery scenario (Worker process, sampled)",
        measured: `peak VmRSS ${f0(peak / 1024)} MB`,
        met: peak / 1024 <= 256,
        gap: `${f2(peak / 1024 / 256)}× of the bound`,
      });
    }
    const mem = memory.find((m) => m.level === level);
    if (mem) {
      out.push({
        level,
        target: "workerd RSS ≤ 256 MB (Worker process, peak)",
        measured: `VmHWM ${f0(mem.workerHwmKb / 1024)} MB (sampled peak VmRSS ${f0(mem.workerPeakRssKb / 1024)} MB); dev proxy ${f0(mem.proxyHwmKb / 1024)} MB`,
        met: mem.workerHwmKb / 1024 <= 256,
        gap: `${f2(mem.workerHwmKb / 1024 / 256)}× of the bound`,
      });
    }
  }
  return out;
}

function mdTable(header, lines) {
  return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...lines.map((l) => `| ${l.join(" | ")} |`)].join("\n");
}

export function resultsTable(rows) {
  return mdTable(
    ["scenario", "log", "model", "clients", "offered/s", "achieved/s", "p50 ms", "p99 ms", "max ms", "Worker CPU ms/op", "vs floor", "× thr", "× p50", "× p99", "× CPU", "other load"],
    rows.map((r) => {
      const l = lat(r);
      const ge = r.overloaded ? "≥" : "";
      return [
        r.id,
        r.level,
        r.model === "open" ? "open" : "saturate",
        r.clients,
        r.model === "open" ? f0(r.offered) : "max",
        `${f0(r.achieved)}${r.overloaded ? " (overloaded)" : ""}`,
        ge + f2(l.p50),
        ge + f2(l.p99),
        ge + f1(l.max),
        f2(r.perOp.workerMs),
        r.floor ? r.floor.id.replace("floor/", "") : "–",
        x(r.ratio?.throughput),
        x(r.ratio?.p50),
        x(r.ratio?.p99),
        x(r.ratio?.workerCpuPerOp),
        `${f0(r.cpu.otherPct)}%`,
      ];
    }),
  );
}

export function cpuTable(rows) {
  return mdTable(
    ["scenario", "log", "model", "clients", "ops", "Worker ms/op", "dev proxy ms/op", "wrangler+node ms/op", "bench client ms/op", "machine busy", "other load", "peak RSS MB"],
    rows.map((r) => [
      r.id,
      r.level,
      r.model,
      r.clients,
      r.ok + r.failed,
      f2(r.perOp.workerMs),
      f2(r.perOp.proxyMs),
      f2(r.perOp.nodeMs),
      f2(r.perOp.clientMs),
      `${f0(r.cpu.machineBusyPct)}%`,
      `${f0(r.cpu.otherPct)}%`,
      f0(r.peakRssKb / 1024),
    ]),
  );
}

export function targetsTable(targets) {
  return mdTable(
    ["log", "target", "measured", "met", "measured ÷ target"],
    targets.map((t) => [t.level, t.target, t.measured, t.met ? "yes" : "**no**", t.gap]),
  );
}

/** Send→sync delivery rows: latency from the intended send time to each receiver's /sync. */
export function deliveryTable(rows) {
  const d = rows.filter((r) => r.id.startsWith("delivery/") || r.id === "sync/send-to-sync");
  if (!d.length) return "";
  return mdTable(
    ["scenario", "log", "receivers", "offered/s", "sent/s", "deliveries", "p50 ms", "p95 ms", "p99 ms", "max ms", "ack→sync p50 ms", "missing", "dup", "polls", "Worker CPU ms/sent event", "peak RSS MB", "other load"],
    d.map((r) => [
      r.id,
      r.level,
      r.sync?.receivers ?? 1,
      f0(r.offered),
      `${f0(r.achieved)}${r.overloaded ? " (overloaded)" : ""}`,
      r.sync?.deliveries ?? r.sync?.delivered,
      f1(r.latency.p50),
      f1(r.latency.p95),
      f1(r.latency.p99),
      f1(r.latency.max),
      f1(r.ackToSync?.p50),
      r.sync?.missing ?? 0,
      r.sync?.duplicates ?? 0,
      r.sync?.polls ?? "–",
      f2(r.perOp.workerMs),
      f0(r.peakRssKb / 1024),
      `${f0(r.cpu.otherPct)}%`,
    ]),
  );
}

/** Initial and incremental sync rows: service time of one request, what it carried. */
export function syncTable(rows) {
  const s = rows.filter((r) => r.id.startsWith("sync/initial") || r.id.startsWith("sync/incremental") || r.id.startsWith("sync/sliding"));
  if (!s.length) return "";
  return mdTable(
    ["scenario", "log", "requests", "p50 ms", "p99 ms", "max ms", "Worker CPU ms/request", "rooms", "timeline events", "response KB", "other load"],
    s.map((r) => [
      r.id,
      r.level,
      r.ok + r.failed,
      f1(r.service.p50),
      f1(r.service.p99),
      f1(r.service.max),
      f2(r.perOp.workerMs),
      r.sync?.rooms ?? "–",
      r.sync?.timelineEvents ?? "–",
      r.sync?.responseBytes ? f0(r.sync.responseBytes / 1024) : "–",
      `${f0(r.cpu.otherPct)}%`,
    ]),
  );
}

export function profileTable(rows) {
  const prof = rows.filter((r) => r.id.startsWith("profile/"));
  if (!prof.length) return "";
  const full = prof.find((r) => r.id === "profile/full");
  return mdTable(
    ["variant", "log", "req/s", "mean ms", "p50 ms", "Worker CPU ms/op", "Δ mean vs full", "Δ CPU vs full"],
    prof.map((r) => [
      r.title.replace("floor step profile: ", ""),
      r.level,
      f0(r.achieved),
      f2(r.service.mean),
      f2(r.service.p50),
      f2(r.perOp.workerMs),
      full ? f2(r.service.mean - full.service.mean) : "–",
      full ? f2(r.perOp.workerMs - full.perOp.workerMs) : "–",
    ]),
  );
}
