/**
 * Send throughput: PUT /rooms/{id}/send/m.room.message/{txn}. Each scenario uses fresh rooms, runs
 * an open-model phase at the target rate (latency from the intended send time) and then a
 * saturation phase (capacity). Every sent event is recorded for the correctness gates, and each
 * sender's last transaction is sent again to check it is answered with the same event id.
 */
import { enc } from "../lib/http.mjs";
import { openLoop, saturate } from "../lib/load.mjs";
import { createRoom, join } from "../lib/matrix.mjs";
import { MARK } from "../lib/verify.mjs";

function sendScenario({ id, title, senders, rooms, rate, levels = ["info", "off"] }) {
  return {
    id,
    title,
    levels,
    run: async (ctx) => {
      const clients = ctx.users.slice(0, senders);
      // rooms === "shared": all senders in one room; "own": one room per sender; a number: one sender over that many rooms
      const roomsOf = new Map();
      if (rooms === "shared") {
        const roomId = await createRoom(clients[0], `${id} ${ctx.runId}`);
        for (const c of clients.slice(1)) await join(c, roomId);
        const tracked = ctx.trackRoom(roomId, clients[0]);
        for (const c of clients) roomsOf.set(c, [tracked]);
      } else if (rooms === "own") {
        for (const c of clients) roomsOf.set(c, [ctx.trackRoom(await createRoom(c, `${id} ${ctx.runId}`), c)]);
      } else {
        const list = [];
        for (let i = 0; i < rooms; i++) list.push(ctx.trackRoom(await createRoom(clients[0], `${id} ${i} ${ctx.runId}`), clients[0]));
        roomsOf.set(clients[0], list);
      }
      const seq = new Map(clients.map((c) => [c, 0]));
      const last = new Map();
      const op = async (c) => {
        const n = seq.get(c);
        seq.set(c, n + 1);
        const list = roomsOf.get(c);
        const room = list[n % list.length];
        const txn = `${ctx.runId}.${id.replace(/\W/g, "_")}.${n}`;
        const content = { msgtype: "m.text", body: `bench message ${n}`, [MARK]: { run: ctx.runId, sender: c.userId, seq: n, scenario: id } };
        const path = `/_matrix/client/v3/rooms/${enc(room.roomId)}/send/m.room.message/${enc(txn)}`;
        const res = await c.request("PUT", path, content);
        const ok = res.status === 200 && typeof res.body?.event_id === "string";
        room.sent.push({ sender: c.userId, seq: n, eventId: res.body?.event_id, ok, status: res.status });
        if (ok) last.set(c, { path, content, eventId: res.body.event_id });
        return { ok };
      };
      const rows = [];
      rows.push(ctx.row(id, title, await openLoop({ server: ctx.server, clients, rate, count: ctx.count(rate, 5), op })));
      rows.push(ctx.row(id, title, await saturate({ server: ctx.server, clients, durationMs: ctx.ms(3), op })));
      if (id === "send/1-sender-1-room") {
        // The send path relies on the room object to refuse unknown rooms (src/services/rooms.ts).
        const unknown = await clients[0].request("PUT", `/_matrix/client/v3/rooms/${enc(`!bench-unknown-${ctx.runId}:localhost`)}/send/m.room.message/x`, { msgtype: "m.text", body: "x" });
        ctx.gate("unknown-room-404", unknown.status === 404 && unknown.body?.errcode === "M_NOT_FOUND", `sending to an unknown room gave HTTP ${unknown.status} ${JSON.stringify(unknown.body)}`);
      }
      for (const [c, l] of last) {
        const again = await c.request("PUT", l.path, l.content);
        ctx.gate("txn-idempotent", again.status === 200 && again.body?.event_id === l.eventId, `${id}: resending a transaction gave HTTP ${again.status} ${again.body?.event_id} instead of ${l.eventId}`);
      }
      return rows;
    },
  };
}

export default [
  sendScenario({ id: "send/1-sender-1-room", title: "send: 1 sender, 1 room", senders: 1, rooms: "shared", rate: 400 }),
  sendScenario({ id: "send/1-sender-10-rooms", title: "send: 1 sender, round-robin over 10 rooms", senders: 1, rooms: 10, rate: 400 }),
  sendScenario({ id: "send/10-senders-1-room", title: "send: 10 senders, 1 shared room", senders: 10, rooms: "shared", rate: 700 }),
  sendScenario({ id: "send/10-senders-10-rooms", title: "send: 10 senders, a room each", senders: 10, rooms: "own", rate: 700 }),
];
