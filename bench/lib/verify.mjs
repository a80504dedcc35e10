/**
 * Correctness gates: every event the benchmark sent is in its room exactly once, each sender's
 * events are in the order they were sent, and (checked in run.mjs) no request got a 5xx.
 *
 * The room's timeline is read with GET /rooms/{id}/messages when the server has it; without it,
 * each sent event is fetched with GET /rooms/{id}/event/{id}, which proves nothing was lost but can
 * only check order through origin_server_ts and cannot see an extra copy stored under another id.
 */
import { enc } from "./http.mjs";

export const MARK = "org.stratus.bench";

/** Reads a room's whole timeline, oldest first; undefined when /messages is not built. */
async function readTimeline(client, roomId) {
  const events = [];
  let from;
  for (let page = 0; page < 10_000; page++) {
    const q = new URLSearchParams({ dir: "b", limit: "1000" });
    if (from) q.set("from", from);
    const res = await client.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/messages?${q}`);
    if (res.status === 405 || (res.status === 404 && res.body?.errcode === "M_UNRECOGNIZED")) return undefined;
    if (res.status !== 200) throw new Error(`/messages ${roomId}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    const chunk = res.body.chunk ?? [];
    events.push(...chunk);
    if (chunk.length === 0 || !res.body.end || res.body.end === from) break;
    from = res.body.end;
  }
  return events.reverse();
}

async function pool(items, width, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/**
 * @param {{ roomId: string, reader: import("./http.mjs").Client, sent: {sender: string, seq: number, eventId?: string, ok: boolean}[] }[]} rooms
 * @param {string} runId
 */
export async function verifyRooms(rooms, runId) {
  const out = { method: "messages", rooms: rooms.length, checked: 0, missing: 0, duplicated: 0, outOfOrder: 0, unexpected: 0, idMismatch: 0, examples: [] };
  const note = (msg) => out.examples.length < 10 && out.examples.push(msg);
  for (const { roomId, reader, sent } of rooms) {
    const ok = sent.filter((s) => s.ok);
    const timeline = out.method === "messages" ? await readTimeline(reader, roomId) : undefined;
    if (timeline) {
      const expected = new Map(ok.map((s) => [`${s.sender}|${s.seq}`, s]));
      const seen = new Map();
      const lastSeq = new Map();
      for (const ev of timeline) {
        const m = ev.content?.[MARK];
        if (!m || m.run !== runId) continue;
        const key = `${m.sender}|${m.seq}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        const want = expected.get(key);
        if (!want) {
          out.unexpected++;
          note(`${roomId}: event ${ev.event_id} (${key}) was not acknowledged to the sender`);
        } else if (want.eventId !== ev.event_id && seen.get(key) === 1) {
          out.idMismatch++;
          note(`${roomId}: ${key} is ${ev.event_id} in the timeline but ${want.eventId} in the send response`);
        }
        const prev = lastSeq.get(m.sender) ?? -Infinity;
        if (m.seq <= prev) {
          out.outOfOrder++;
          note(`${roomId}: ${m.sender} seq ${m.seq} after ${prev}`);
        }
        lastSeq.set(m.sender, Math.max(prev, m.seq));
      }
      for (const [key] of expected) {
        out.checked++;
        const n = seen.get(key) ?? 0;
        if (n === 0) (out.missing++, note(`${roomId}: ${key} is missing`));
        if (n > 1) (out.duplicated += n - 1, note(`${roomId}: ${key} appears ${n} times`));
      }
      continue;
    }
    // Fallback: fetch every acknowledged event by id.
    out.method = "event";
    const ts = new Map();
    await pool(ok, 4, async (s) => {
      const res = await reader.request("GET", `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(s.eventId)}`);
      out.checked++;
      const m = res.body?.content?.[MARK];
      if (res.status !== 200) return void (out.missing++, note(`${roomId}: ${s.eventId} → HTTP ${res.status}`));
      if (!m || m.sender !== s.sender || m.seq !== s.seq || m.run !== runId) return void (out.idMismatch++, note(`${roomId}: ${s.eventId} holds other content`));
      ts.set(s, res.body.origin_server_ts);
    });
    const bySender = new Map();
    for (const s of ok) (bySender.get(s.sender) ?? bySender.set(s.sender, []).get(s.sender)).push(s);
    for (const list of bySender.values()) {
      list.sort((a, b) => a.seq - b.seq);
      for (let i = 1; i < list.length; i++) {
        if ((ts.get(list[i]) ?? Infinity) < (ts.get(list[i - 1]) ?? -Infinity)) (out.outOfOrder++, note(`${roomId}: seq ${list[i].seq} has an earlier origin_server_ts`));
      }
    }
  }
  out.passed = out.missing === 0 && out.duplicated === 0 && out.outOfOrder === 0 && out.unexpected === 0 && out.idMismatch === 0;
  return out;
}
