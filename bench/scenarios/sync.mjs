/**
 * Scenarios that read through GET /sync.
 *  - send→sync delivery: one sender at a fixed rate (open model), one receiver long-polling /sync
 *    in the same room; latency from each event's intended send time to its arrival in the
 *    receiver's sync response. The receiver asks for a timeline limit of 1000 so no response is
 *    `limited`; every acknowledged event must then arrive exactly once (a `limited` gap, legal in
 *    the spec, would be counted and reported rather than failed).
 *  - initial sync: GET /sync without `since` for the user who took part in every send scenario
 *    (runs after them, so it is in every benchmark room with all their events).
 *  - sliding sync: see initial-sync.mjs (measured once the tree has it).
 */
import { enc } from "../lib/http.mjs";
import { openLoop, saturate, summarize } from "../lib/load.mjs";
import { createRoom, join } from "../lib/matrix.mjs";
import { MARK } from "../lib/verify.mjs";

const RATE = 50;
/** A timeline limit above anything one poll can collect here, so a complete delivery is checkable (no `limited` gaps). */
const FILTER = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1000 } } }));

async function sendToSync(ctx) {
  const id = "sync/send-to-sync";
  const [sender, receiver] = ctx.users;
  const roomId = await createRoom(sender, `${id} ${ctx.runId}`);
  await join(receiver, roomId);
  const tracked = ctx.trackRoom(roomId, sender);

  const initial = await receiver.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${FILTER}`);
  if (initial.status !== 200) throw new Error(`initial /sync answered ${initial.status}`);
  let since = initial.body.next_batch;
  const arrived = new Map();
  let duplicates = 0;
  let limited = 0;
  let polls = 0;
  let stop = false;
  const poller = (async () => {
    while (!stop) {
      const res = await receiver.request("GET", `/_matrix/client/v3/sync?timeout=2000&filter=${FILTER}&since=${enc(since)}`);
      const now = performance.now();
      polls++;
      if (res.status !== 200) throw new Error(`/sync answered ${res.status}: ${JSON.stringify(res.body)}`);
      since = res.body.next_batch;
      const room = res.body.rooms?.join?.[roomId];
      if (room?.timeline?.limited) limited++;
      for (const ev of room?.timeline?.events ?? []) {
        const m = ev.content?.[MARK];
        if (!m || m.run !== ctx.runId || m.scenario !== id) continue;
        if (arrived.has(m.seq)) duplicates++;
        else arrived.set(m.seq, now);
      }
    }
  })();

  const intendedAt = new Map();
  const ackAt = new Map();
  let seq = 0;
  const op = async (c, _i, intended) => {
    const n = seq++;
    intendedAt.set(n, intended);
    const content = { msgtype: "m.text", body: `bench sync ${n}`, [MARK]: { run: ctx.runId, sender: c.userId, seq: n, scenario: id } };
    const res = await c.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${ctx.runId}.sync.${n}`, content);
    const ok = res.status === 200 && typeof res.body?.event_id === "string";
    tracked.sent.push({ sender: c.userId, seq: n, eventId: res.body?.event_id, ok, status: res.status });
    if (ok) ackAt.set(n, performance.now());
    return { ok };
  };
  const send = await openLoop({ server: ctx.server, clients: [sender], rate: RATE, count: ctx.count(RATE, 4), op });
  const deadline = performance.now() + 10_000;
  while ([...ackAt.keys()].some((n) => !arrived.has(n)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  stop = true;
  await poller;

  const delivered = [...ackAt.keys()].filter((n) => arrived.has(n));
  const missing = ackAt.size - delivered.length;
  ctx.gate("sync-delivers-exactly-once", duplicates === 0 && (missing === 0 || limited > 0), `${id}: ${missing} of ${ackAt.size} acknowledged events never reached /sync (limited timelines: ${limited}), ${duplicates} delivered twice`);
  const row = ctx.row(id, "send→sync delivery (1 sender, 1 long-polling receiver)", {
    ...send,
    // The row's latency is delivery latency: intended send time → arrival in the receiver's /sync.
    latency: summarize(delivered.map((n) => arrived.get(n) - intendedAt.get(n))),
    sendLatency: send.latency,
    ackToSync: summarize(delivered.map((n) => arrived.get(n) - ackAt.get(n))),
    sync: { delivered: delivered.length, missing, duplicates, limitedResponses: limited, polls },
  });
  return [row];
}

async function initialSync(ctx) {
  const user = ctx.users[0];
  let bytes = 0;
  let rooms = 0;
  let events = 0;
  const op = async (c) => {
    const res = await c.request("GET", "/_matrix/client/v3/sync?timeout=0");
    if (res.status === 200) {
      bytes = JSON.stringify(res.body).length;
      const joined = Object.values(res.body.rooms?.join ?? {});
      rooms = joined.length;
      events = joined.reduce((n, r) => n + (r.timeline?.events?.length ?? 0), 0);
    }
    return { ok: res.status === 200 };
  };
  const result = await saturate({ server: ctx.server, clients: [user], durationMs: ctx.ms(3), op });
  return [ctx.row("sync/initial", "initial sync (no since) of the user in every benchmark room", { ...result, sync: { rooms, timelineEvents: events, responseBytes: bytes } })];
}

export default [
  { id: "sync/send-to-sync", title: "send→sync delivery latency", levels: ["info", "off"], run: sendToSync },
  { id: "sync/initial", title: "initial sync", levels: ["info", "off"], run: initialSync },
];
