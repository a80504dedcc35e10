/**
 * /sync at scale (issue 9, issue 4 § Performance):
 *  - initial sync (no `since`) of a user in 10, 100 and 1,000 rooms, once with the default filter
 *    (the server then adds each room's full member list, one room-object call per room,
 *    docs/design/sync.md) and once lazy-loading members, as Element does;
 *  - incremental sync after 1,000 missed events (100 in each of the user's 10 rooms);
 *  - incremental sync with one new event;
 *  - sliding sync (MSC4186, issue 8): the first 20-room window of a user in 500 rooms, then an
 *    incremental request with one new event.
 * One user creates the 1,000 rooms, a few createRoom calls at a time; a second user joins 100 of
 * them and a third 10. The rooms hold their creation events (about seven each). Each figure is
 * the same request repeated back to back (service time), with the Worker CPU per request from /proc.
 */
import { existsSync } from "node:fs";
import { enc } from "../lib/http.mjs";
import { saturate } from "../lib/load.mjs";
import { newUser } from "../lib/matrix.mjs";
import { createRooms, joinAll, pool } from "../lib/population.mjs";
import { MARK } from "../lib/verify.mjs";

const SIZES = [10, 100, 1000];
const LAZY = encodeURIComponent(JSON.stringify({ room: { state: { lazy_load_members: true } } }));
const COUNT_ONLY = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } }, presence: { not_types: ["*"] } }));

const layouts = new WeakMap();

/** Waits until `user`'s own sync stream shows `n` joined rooms (delivery to user objects runs after createRoom answers). */
async function untilJoined(user, n, what) {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const res = await user.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${COUNT_ONLY}`);
    const joined = Object.keys(res.body?.rooms?.join ?? {}).length;
    if (res.status === 200 && joined >= n) return;
    if (performance.now() > deadline) throw new Error(`${what}: ${joined} of ${n} rooms reached the user's sync after 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function layout(ctx) {
  let l = layouts.get(ctx.server);
  if (l) return l;
  const t0 = performance.now();
  const byRooms = new Map(await pool(SIZES, 3, async (n) => [n, await newUser(ctx.server.baseUrl, `sync${n}-${ctx.runId}`)]));
  const owner = byRooms.get(1000);
  const rooms = await createRooms(owner, 1000, `sync scale ${ctx.runId}`, 4);
  await joinAll([...rooms.slice(0, 100).map((r) => [byRooms.get(100), r]), ...rooms.slice(0, 10).map((r) => [byRooms.get(10), r])], 2);
  for (const n of SIZES) await untilJoined(byRooms.get(n), n, `sync/initial-${n}`);
  l = { byRooms, rooms, setupSeconds: (performance.now() - t0) / 1000, seq: 0 };
  layouts.set(ctx.server, l);
  return l;
}

function initialSync(n, lazy) {
  const id = `sync/initial-${lazy ? "lazy-" : ""}${n}`;
  const title = `initial sync, user in ${n} rooms${lazy ? ", lazy-loading members" : ""}`;
  return {
    id,
    title,
    levels: ["off"],
    run: async (ctx) => {
      const l = await layout(ctx);
      const user = l.byRooms.get(n);
      const detail = { rooms: 0, timelineEvents: 0, stateEvents: 0, responseBytes: 0, setupSeconds: +l.setupSeconds.toFixed(1) };
      const op = async (c) => {
        const res = await c.request("GET", `/_matrix/client/v3/sync?timeout=0${lazy ? `&filter=${LAZY}` : ""}`);
        if (res.status === 200) {
          const joined = Object.values(res.body.rooms?.join ?? {});
          detail.rooms = joined.length;
          detail.timelineEvents = joined.reduce((k, r) => k + (r.timeline?.events?.length ?? 0), 0);
          detail.stateEvents = joined.reduce((k, r) => k + (r.state?.events?.length ?? 0), 0);
          detail.responseBytes = JSON.stringify(res.body).length;
        }
        return { ok: res.status === 200 && Object.keys(res.body.rooms?.join ?? {}).length === n };
      };
      // At least a few requests even for 1,000 rooms; more for the small cases.
      const result = await saturate({ server: ctx.server, clients: [user], durationMs: ctx.ms(n >= 1000 ? 6 : 3), op });
      return [ctx.row(id, title, { ...result, sync: detail })];
    },
  };
}

/** Sends `perRoom` events to each room, one sender connection per room so each room's order is the send order. */
async function fill(ctx, l, roomIds, perRoom, scenario) {
  const owner = l.byRooms.get(1000);
  const last = new Map();
  await Promise.all(
    roomIds.map(async (roomId) => {
      const conn = owner.clone();
      const tracked = (l.tracked ??= new Map()).get(roomId) ?? l.tracked.set(roomId, ctx.trackRoom(roomId, owner)).get(roomId);
      for (let i = 0; i < perRoom; i++) {
        const n = l.seq++;
        const res = await conn.request("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${ctx.runId}.scale.${n}`, {
          msgtype: "m.text",
          body: `bench sync scale ${n}`,
          [MARK]: { run: ctx.runId, sender: owner.userId, seq: n, scenario },
        });
        const ok = res.status === 200 && typeof res.body?.event_id === "string";
        tracked.sent.push({ sender: owner.userId, seq: n, eventId: res.body?.event_id, ok, status: res.status });
        if (!ok) throw new Error(`${scenario}: send answered ${res.status} ${JSON.stringify(res.body)}`);
        last.set(roomId, res.body.event_id);
      }
      conn.close();
    }),
  );
  return last;
}

/** Waits until a sync from `since` shows each room's last sent event as that room's newest. */
async function untilDelivered(user, since, last, what) {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const res = await user.request("GET", `/_matrix/client/v3/sync?timeout=0&since=${enc(since)}`);
    const join = res.body?.rooms?.join ?? {};
    const done = [...last].every(([roomId, eventId]) => join[roomId]?.timeline?.events?.at(-1)?.event_id === eventId);
    if (res.status === 200 && done) return res.body;
    if (performance.now() > deadline) throw new Error(`${what}: the sent events had not all reached the user's sync after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function incremental(id, title, perRoom, roomCount) {
  return {
    id,
    title,
    levels: ["off"],
    run: async (ctx) => {
      const l = await layout(ctx);
      const user = l.byRooms.get(10);
      const first = await user.request("GET", `/_matrix/client/v3/sync?timeout=0&filter=${COUNT_ONLY}`);
      const since = first.body.next_batch;
      const last = await fill(ctx, l, l.rooms.slice(0, roomCount), perRoom, id);
      await untilDelivered(user, since, last, id);
      const detail = { missedEvents: perRoom * roomCount, rooms: 0, limitedRooms: 0, timelineEvents: 0, responseBytes: 0 };
      const op = async (c) => {
        const res = await c.request("GET", `/_matrix/client/v3/sync?timeout=0&since=${enc(since)}`);
        if (res.status === 200) {
          const joined = Object.values(res.body.rooms?.join ?? {});
          detail.rooms = joined.length;
          detail.limitedRooms = joined.filter((r) => r.timeline?.limited).length;
          detail.timelineEvents = joined.reduce((k, r) => k + (r.timeline?.events?.length ?? 0), 0);
          detail.responseBytes = JSON.stringify(res.body).length;
        }
        return { ok: res.status === 200 && Object.keys(res.body.rooms?.join ?? {}).length === roomCount };
      };
      const result = await saturate({ server: ctx.server, clients: [user], durationMs: ctx.ms(3), op });
      return [ctx.row(id, title, { ...result, sync: detail })];
    },
  };
}

const SLIDING_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";
/** Sliding sync (MSC4186) is measured once the tree has it. */
const slidingBuilt = existsSync(new URL("../../src/api/client/sliding-sync.ts", import.meta.url));

/**
 * Sliding sync's first window (no `pos`) for a user in 500 rooms: one list, the first 20 rooms by
 * recency, two state types and the newest event of each, as a client's room list asks.
 */
const slidingFirstWindow = {
  id: "sync/sliding-first-window-500",
  title: "sliding sync (MSC4186) first window, user in 500 rooms",
  levels: ["off"],
  run: async (ctx) => {
    const l = await layout(ctx);
    const user = await newUser(ctx.server.baseUrl, `sync500-${ctx.runId}`);
    await joinAll(l.rooms.slice(0, 500).map((r) => [user, r]), 2);
    await untilJoined(user, 500, "sync/sliding-first-window-500");
    const body = { conn_id: "bench", lists: { all: { ranges: [[0, 19]], required_state: [["m.room.name", ""], ["m.room.create", ""]], timeline_limit: 1 } } };
    const detail = { listCount: 0, rooms: 0, responseBytes: 0 };
    const op = async (c) => {
      const res = await c.request("POST", SLIDING_PATH, body);
      if (res.status === 200) {
        detail.listCount = res.body.lists?.all?.count ?? 0;
        detail.rooms = Object.keys(res.body.rooms ?? {}).length;
        detail.responseBytes = JSON.stringify(res.body).length;
      }
      return { ok: res.status === 200 };
    };
    const result = await saturate({ server: ctx.server, clients: [user], durationMs: ctx.ms(3), op });
    const rows = [ctx.row("sync/sliding-first-window-500", "sliding sync first window, user in 500 rooms", { ...result, sync: detail })];

    // An incremental request with one new event (issue 8: ≤ 20 ms p50 on the server): the same
    // `pos`, taken just before one event is sent into the user's newest room, requested back to
    // back (a repeated `pos` gets the same answer, docs/design/sliding-sync.md).
    const start = await user.request("POST", SLIDING_PATH, body);
    const pos = start.body.pos;
    const [newEventId] = [...(await fill(ctx, l, [l.rooms[0]], 1, "sync/sliding-incremental-1-new")).values()];
    const path = `${SLIDING_PATH}?pos=${enc(pos)}&timeout=0`;
    const deadline = performance.now() + 30_000;
    for (;;) {
      const res = await user.request("POST", path, body);
      if (res.status === 200 && res.body.rooms?.[l.rooms[0]]?.timeline?.some((e) => e.event_id === newEventId)) break;
      if (performance.now() > deadline) throw new Error("sync/sliding-incremental-1-new: the new event had not reached sliding sync after 30 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    const incDetail = { rooms: 0, responseBytes: 0 };
    const incOp = async (c) => {
      const res = await c.request("POST", path, body);
      if (res.status === 200) {
        incDetail.rooms = Object.keys(res.body.rooms ?? {}).length;
        incDetail.responseBytes = JSON.stringify(res.body).length;
      }
      return { ok: res.status === 200 && res.body.rooms?.[l.rooms[0]]?.timeline?.some((e) => e.event_id === newEventId) === true };
    };
    const inc = await saturate({ server: ctx.server, clients: [user], durationMs: ctx.ms(3), op: incOp });
    rows.push(ctx.row("sync/sliding-incremental-1-new", "sliding sync incremental request with one new event, user in 500 rooms", { ...inc, sync: incDetail }));
    return rows;
  },
};

export default [
  ...SIZES.map((n) => initialSync(n, false)),
  ...SIZES.map((n) => initialSync(n, true)),
  incremental("sync/incremental-1000-missed", "incremental sync after 1,000 missed events (100 in each of 10 rooms)", 100, 10),
  incremental("sync/incremental-1-new", "incremental sync with one new event", 1, 1),
  slidingBuilt ? slidingFirstWindow : { ...slidingFirstWindow, pending: "not yet: needs sliding sync (MSC4186), which is not built" },
];
