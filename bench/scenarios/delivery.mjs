/**
 * Send→sync delivery with many users (issue 9, issue 4 § Performance): 100 users long-polling
 * GET /sync while messages are sent on a fixed schedule (open model).
 *  - 10 rooms of 10 members, one sender per room, 20 and 100 messages/s in total;
 *  - one hot room of 100 members, 10 senders, 20 messages/s.
 * Latency is measured for every (event, receiver) pair, from the event's intended send time to the
 * moment that receiver's /sync response carrying it has been read, so a receiver that only
 * hears of an event in its next poll counts the whole wait. Every acknowledged event must reach
 * every other member exactly once (a `limited` timeline may legally skip events; such gaps are
 * counted and reported, not failed).
 *
 * Runs at the quietest level only: the setup (100 accounts, 190 joins) and the phases take about
 * two minutes, and `npm run bench` must stay near ten.
 *
 * Pollers behave like Element: lazy-loaded members, a 10 s long-poll, a new poll as soon as the
 * previous one returns. Each user's sends go over a second connection, as a client's would.
 */
import { enc } from "../lib/http.mjs";
import { openLoop, summarize } from "../lib/load.mjs";
import { createRooms, joinAll, pool, users as population } from "../lib/population.mjs";
import { cpuDelta, cpuSnapshot } from "../lib/server.mjs";
import { MARK } from "../lib/verify.mjs";

const USERS = 100;
const POLL_TIMEOUT_MS = 10_000;
/** The user objects keep 50 events per room, so no timeline limit above that is served anyway. */
const FILTER = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 }, state: { lazy_load_members: true } } }));
/** How long to wait after the last send for every delivery before calling the rest missing. */
const DRAIN_MS = 20_000;

const settings = new WeakMap();

/** 10 rooms of 10 members and one room of all 100, made once per server and shared by the phases. */
async function layout(ctx) {
  let l = settings.get(ctx.server);
  if (l) return l;
  const all = await population(ctx, USERS);
  const owners = all.filter((_, i) => i % 10 === 0);
  const spread = [];
  for (const [r, owner] of owners.entries()) {
    const [roomId] = await createRooms(owner, 1, `delivery ${r} ${ctx.runId}`, 1);
    spread.push({ roomId, members: all.slice(r * 10, r * 10 + 10) });
  }
  // Joins go a few at a time across rooms and one at a time into the hot room: under wrangler dev,
  // a burst of concurrent joins into one room of ~80 members made the dev proxy lose its
  // connection to the Worker and wrangler exit (BENCHMARKS.md § Known problems).
  await joinAll(spread.flatMap((room) => room.members.slice(1).map((u) => [u, room.roomId])), 2);
  const [hotId] = await createRooms(all[0], 1, `hot room ${ctx.runId}`, 1);
  await joinAll(all.slice(1).map((u) => [u, hotId]), 1);
  l = { spread, hot: { roomId: hotId, members: all }, seq: 0 };
  // Tracked once per room (the phases share rooms), for the exactly-once-in-order gate.
  for (const room of [...spread, l.hot]) room.tracked = ctx.trackRoom(room.roomId, room.members[0]);
  settings.set(ctx.server, l);
  return l;
}

/**
 * One measured phase: `rooms` (each {roomId, members, senders}) with every member long-polling,
 * `rate` sends per second dealt round-robin over every room's senders.
 */
async function deliveryPhase(ctx, l, { id, title, rooms, rate, seconds }) {
  const pollers = new Map();
  for (const room of rooms) {
    for (const u of room.members) if (!pollers.has(u.userId)) pollers.set(u.userId, { user: u, conn: u.clone(), rooms: new Set() });
    for (const u of room.members) pollers.get(u.userId).rooms.add(room.roomId);
  }
  // Starting positions: each poller's first sync (lazy members, so no room-object calls), a few at a time.
  await pool([...pollers.values()], 4, async (p) => {
    const res = await p.conn.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${FILTER}`);
    if (res.status !== 200) throw new Error(`${id}: initial /sync answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    p.since = res.body.next_batch;
  });

  const arrived = new Map(); // `${seq}|${userId}` → time
  const limitedBy = new Map(); // userId → limited responses in the phase's rooms
  let duplicates = 0;
  let polls = 0;
  let stop = false;
  let pollError;
  const loops = [...pollers.values()].map(async (p) => {
    while (!stop) {
      let res;
      try {
        res = await p.conn.request("GET", `/_matrix/client/v3/sync?timeout=${POLL_TIMEOUT_MS}&filter=${FILTER}&since=${enc(p.since)}`);
      } catch (err) {
        pollError ??= `/sync for ${p.user.userId} failed: ${err instanceof Error ? err.message : err}`;
        return;
      }
      const now = performance.now();
      polls++;
      if (res.status !== 200) {
        pollError ??= `/sync for ${p.user.userId} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`;
        return;
      }
      p.since = res.body.next_batch;
      for (const [roomId, room] of Object.entries(res.body.rooms?.join ?? {})) {
        if (!p.rooms.has(roomId)) continue;
        if (room.timeline?.limited) limitedBy.set(p.user.userId, (limitedBy.get(p.user.userId) ?? 0) + 1);
        for (const ev of room.timeline?.events ?? []) {
          const m = ev.content?.[MARK];
          if (!m || m.run !== ctx.runId || m.scenario !== id) continue;
          if (m.stop) {
            if (m.stop === "end") stop = true;
            continue;
          }
          const key = `${m.seq}|${p.user.userId}`;
          if (arrived.has(key)) duplicates++;
          else arrived.set(key, now);
        }
      }
    }
  });

  const senders = rooms.flatMap((room) => room.senders.map((u) => ({ conn: u.clone(), user: u, room })));
  const sent = []; // {seq, room, sender, intended, ackAt}
  // Sequence numbers go on across phases: the order gate reads each sender's events in a room.
  const op = async (s, _i, intended) => {
    const n = l.seq++;
    const content = { msgtype: "m.text", body: `bench delivery ${n}`, [MARK]: { run: ctx.runId, sender: s.user.userId, seq: n, scenario: id } };
    const res = await s.conn.request("PUT", `/_matrix/client/v3/rooms/${enc(s.room.roomId)}/send/m.room.message/${ctx.runId}.${id.replace(/\W/g, "_")}.${n}`, content);
    const ok = res.status === 200 && typeof res.body?.event_id === "string";
    s.room.tracked.sent.push({ sender: s.user.userId, seq: n, eventId: res.body?.event_id, ok, status: res.status });
    if (ok) sent.push({ seq: n, room: s.room, sender: s.user.userId, intended, ackAt: performance.now() });
    return { ok };
  };
  const cpuBefore = cpuSnapshot(ctx.server.pid, ctx.server.port);
  let send;
  try {
    send = await openLoop({ server: ctx.server, clients: senders, rate, count: ctx.count(rate, seconds), op });
  } catch (err) {
    stop = true; // the pollers leave after their current poll
    throw err;
  }
  const expected = sent.flatMap((s) => s.room.members.filter((u) => u.userId !== s.sender).map((u) => ({ s, userId: u.userId })));
  const deadline = performance.now() + DRAIN_MS;
  while (!pollError && expected.some((e) => !arrived.has(`${e.s.seq}|${e.userId}`)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  const drainedAt = performance.now();
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(ctx.server.pid, ctx.server.port));

  // Wake every poller with a last event per room so none is left holding a 10 s poll.
  for (const room of rooms) {
    const s = senders.find((x) => x.room === room);
    const n = l.seq++;
    const res = await s.conn.request("PUT", `/_matrix/client/v3/rooms/${enc(room.roomId)}/send/m.room.message/${ctx.runId}.${id.replace(/\W/g, "_")}.${n}`, {
      msgtype: "m.text",
      body: "bench delivery: end of phase",
      [MARK]: { run: ctx.runId, sender: s.user.userId, seq: n, scenario: id, stop: "end" },
    });
    room.tracked.sent.push({ sender: s.user.userId, seq: n, eventId: res.body?.event_id, ok: res.status === 200, status: res.status });
  }
  stop = true;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, POLL_TIMEOUT_MS + 2000))]);
  for (const p of pollers.values()) p.conn.close();
  for (const s of senders) s.conn.close();
  if (pollError) throw new Error(pollError);

  const got = expected.filter((e) => arrived.has(`${e.s.seq}|${e.userId}`));
  const missing = expected.filter((e) => !arrived.has(`${e.s.seq}|${e.userId}`));
  const unexplained = missing.filter((e) => !limitedBy.has(e.userId)).length;
  ctx.gate(
    "sync-delivers-exactly-once",
    duplicates === 0 && unexplained === 0,
    `${id}: ${missing.length} of ${expected.length} (event, receiver) deliveries never reached /sync (${unexplained} without a limited timeline), ${duplicates} delivered twice`,
  );
  const delivery = summarize(got.map((e) => arrived.get(`${e.s.seq}|${e.userId}`) - e.s.intended));
  return ctx.row(id, title, {
    ...send,
    // CPU from the first send until the last delivery arrived (or the drain deadline).
    cpu: { ...cpu, drainMs: drainedAt - cpuBefore.at },
    latency: delivery,
    // Delivery is late when the sends were: it is judged on the send schedule, so this is not "overloaded" unless sends were.
    sendLatency: send.latency,
    ackToSync: summarize(got.map((e) => arrived.get(`${e.s.seq}|${e.userId}`) - e.s.ackAt)),
    sync: {
      receivers: pollers.size,
      rooms: rooms.length,
      deliveries: expected.length,
      delivered: got.length,
      missing: missing.length,
      skippedByLimited: missing.length - unexplained,
      duplicates,
      limitedResponses: [...limitedBy.values()].reduce((a, b) => a + b, 0),
      polls,
    },
  });
}

export default [
  {
    id: "delivery/10-rooms-20",
    title: "send→sync delivery: 100 users long-polling in 10 rooms of 10, 20 msg/s",
    levels: ["off"],
    run: async (ctx) => {
      const l = await layout(ctx);
      const rooms = l.spread.map((r) => ({ ...r, senders: [r.members[0]] }));
      return [await deliveryPhase(ctx, l, { id: "delivery/10-rooms-20", title: "send→sync delivery: 100 users in 10 rooms, 20 msg/s", rooms, rate: 20, seconds: 10 })];
    },
  },
  {
    id: "delivery/10-rooms-100",
    title: "send→sync delivery: 100 users long-polling in 10 rooms of 10, 100 msg/s",
    levels: ["off"],
    run: async (ctx) => {
      const l = await layout(ctx);
      const rooms = l.spread.map((r) => ({ ...r, senders: [r.members[0]] }));
      return [await deliveryPhase(ctx, l, { id: "delivery/10-rooms-100", title: "send→sync delivery: 100 users in 10 rooms, 100 msg/s", rooms, rate: 100, seconds: 8 })];
    },
  },
  {
    id: "delivery/hot-room",
    title: "send→sync delivery: one hot room of 100 long-polling members, 10 senders, 20 msg/s",
    levels: ["off"],
    run: async (ctx) => {
      const l = await layout(ctx);
      const rooms = [{ ...l.hot, senders: l.hot.members.slice(0, 10) }];
      return [await deliveryPhase(ctx, l, { id: "delivery/hot-room", title: "send→sync delivery: hot room of 100, 10 senders, 20 msg/s", rooms, rate: 20, seconds: 8 })];
    },
  },
];
