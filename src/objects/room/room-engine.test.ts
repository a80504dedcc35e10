import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import { decodeBase64 } from "../../matrix/base64";
import { signEvent } from "../../matrix/event-signing";
import { computeEventId } from "../../matrix/event-id";
import { stateKey, type Pdu, type RoomEvent } from "../../matrix/events";
import { getRoomVersion, type RoomVersion } from "../../matrix/room-versions";
import { signingKeyFromSeed, type SigningKey } from "../../matrix/signing";
import { verifyEventSignature } from "../../matrix/event-signing";
import { buildCreateEvent } from "./create-event";
import { RoomEngine } from "./room-engine";
import { RoomStore } from "./room-store";
import { migrate } from "./schema";

const SEED = decodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
const ALICE = "@alice:a.test";
const BOB = "@bob:b.test";

let counter = 0;
const randomId = () => `r${++counter}x${Math.random().toString(36).slice(2, 8)}`;

async function makeRoom(versionId = "11") {
  const version = getRoomVersion(versionId)!;
  const key = await signingKeyFromSeed(SEED, "a.test", "ed25519:1");
  const remoteKey = await signingKeyFromSeed(new Uint8Array(32).fill(7), "b.test", "ed25519:1");
  const sign = (pdu: Pdu, v: RoomVersion) => signEvent(pdu, key, v);
  const sql = nodeSql();
  migrate(sql);
  const store = new RoomStore(sql);
  let clock = 1_000_000;
  const engine = new RoomEngine(store, { serverName: "a.test", sign, now: () => ++clock, randomId });
  const { event: create, roomId } = await buildCreateEvent({ version, creator: ALICE, content: {}, serverName: "a.test", now: clock, randomId, sign });
  const init = await engine.initialise(create, roomId, version);
  expect(init.ok).toBe(true);
  const send = async (sender: string, type: string, content: Record<string, unknown>, stateKey?: string) => {
    const r = await engine.append({ sender, type, content: content as never, stateKey });
    if (!r.ok) throw new Error(`${type} refused: ${r.error}`);
    return r.event;
  };
  await send(ALICE, "m.room.member", { membership: "join" }, ALICE);
  // In v12 creators have infinite power and must not be listed in `users`.
  await send(ALICE, "m.room.power_levels", { users: version.privilegedCreators ? {} : { [ALICE]: 100 } }, "");
  await send(ALICE, "m.room.join_rules", { join_rule: "public" }, "");
  return { engine, store, roomId, version, key, remoteKey, send, create };
}

/** Builds an event as a remote server would, on top of given prev/auth events. */
async function remoteEvent(
  room: Awaited<ReturnType<typeof makeRoom>>,
  fields: { sender: string; type: string; content: Record<string, unknown>; state_key?: string; prev: RoomEvent[]; auth: RoomEvent[]; ts?: number },
): Promise<RoomEvent> {
  const pdu: Pdu = {
    room_id: room.roomId,
    sender: fields.sender,
    type: fields.type,
    content: fields.content as never,
    prev_events: fields.prev.map((e) => e.event_id),
    auth_events: fields.auth.map((e) => e.event_id),
    depth: Math.max(...fields.prev.map((e) => e.depth)) + 1,
    origin_server_ts: fields.ts ?? 2_000_000,
  };
  if (fields.state_key !== undefined) pdu.state_key = fields.state_key;
  const signed = await signEvent(pdu, room.remoteKey, room.version);
  return { ...signed, event_id: await computeEventId(signed, room.version) } as RoomEvent;
}

describe("room engine: local events", () => {
  for (const versionId of ["10", "11", "12"]) {
    it(`v${versionId}: builds signed PDUs with prev_events, auth_events and depth`, async () => {
      const room = await makeRoom(versionId);
      const before = room.store.forwardExtremities();
      const msg = await room.send(ALICE, "m.room.message", { msgtype: "m.text", body: "hi" });
      expect(msg.prev_events).toEqual(before);
      const pl = room.store.currentState().get(stateKey("m.room.power_levels", ""));
      const member = room.store.currentState().get(stateKey("m.room.member", ALICE));
      expect(new Set(msg.auth_events as string[])).toEqual(
        new Set([...(versionId === "12" ? [] : [room.create.event_id]), pl!, member!]),
      );
      expect(msg.depth).toBe(room.store.getEvent(before[0]!)!.event.depth + 1);
      expect(await verifyEventSignature(msg, room.version, "a.test", "ed25519:1", room.key.publicKey)).toBe(true);
      expect(room.store.forwardExtremities()).toEqual([msg.event_id]);
      if (versionId === "12") expect(room.roomId).toBe(`!${room.create.event_id.slice(1)}`);
    });
  }

  it("refuses events the auth rules forbid, and stores nothing for them", async () => {
    const room = await makeRoom();
    const streamBefore = room.store.maxStream();
    const r = await room.engine.append({ sender: BOB, type: "m.room.message", content: { body: "not joined" } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errcode).toBe("M_FORBIDDEN");
    expect(room.store.maxStream()).toBe(streamBefore);
    // Bob may join the public room, but not raise his own power.
    await room.send(BOB, "m.room.member", { membership: "join" }, BOB);
    const escalate = await room.engine.append({ sender: BOB, type: "m.room.power_levels", content: { users: { [ALICE]: 100, [BOB]: 100 } }, stateKey: "" });
    expect(escalate.ok).toBe(false);
  });

  it("makes a send idempotent per sender, device and transaction id", async () => {
    const room = await makeRoom();
    const a = await room.engine.append({ sender: ALICE, type: "m.room.message", content: { body: "once" }, txn: { deviceId: "D1", txnId: "t1", scope: "send" } });
    const b = await room.engine.append({ sender: ALICE, type: "m.room.message", content: { body: "once" }, txn: { deviceId: "D1", txnId: "t1", scope: "send" } });
    const c = await room.engine.append({ sender: ALICE, type: "m.room.message", content: { body: "once" }, txn: { deviceId: "D2", txnId: "t1", scope: "send" } });
    expect(a.ok && b.ok && c.ok).toBe(true);
    if (a.ok && b.ok && c.ok) {
      expect(b.event.event_id).toBe(a.event.event_id);
      expect(b.duplicate).toBe(true);
      expect(c.event.event_id).not.toBe(a.event.event_id);
    }
  });

  it("keeps concurrent sends consistent: a single chain, no lost event", async () => {
    const room = await makeRoom();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => room.engine.append({ sender: ALICE, type: "m.room.message", content: { body: `m${i}` } })),
    );
    const events = results.map((r) => (r.ok ? r.event : undefined));
    expect(events.every(Boolean)).toBe(true);
    // Each event points at the one before it: the writes were serialized.
    for (let i = 1; i < events.length; i++) expect(events[i]!.prev_events).toEqual([events[i - 1]!.event_id]);
    expect(room.store.forwardExtremities()).toEqual([events[19]!.event_id]);
  });

  it("keeps state groups as deltas and reloads them exactly", async () => {
    const room = await makeRoom();
    for (let i = 0; i < 150; i++) await room.send(ALICE, "m.room.topic", { topic: `t${i}` }, "");
    const current = new Map(room.store.currentState());
    const fresh = new RoomStore(room.store.sql);
    expect(fresh.loadStateGroup(fresh.currentStateGroup()!)).toEqual(current);
    const rows = room.store.sql.all<{ n: number }>("SELECT COUNT(*) AS n FROM state_group_entries")[0]!.n;
    // 150 topic changes store roughly one row each, plus periodic snapshots, not 150 full copies.
    expect(rows).toBeLessThan(150 * 2 + 40);
  });
});

describe("room engine: events from other servers", () => {
  it("accepts a remote join and message built on known events", async () => {
    const room = await makeRoom();
    const state = room.store.currentState();
    const ev = (k: string) => room.store.getEvent(state.get(k)!)!.event;
    const head = room.store.getEvent(room.store.forwardExtremities()[0]!)!.event;
    const join = await remoteEvent(room, {
      sender: BOB,
      type: "m.room.member",
      state_key: BOB,
      content: { membership: "join" },
      prev: [head],
      auth: [room.create, ev(stateKey("m.room.power_levels", "")), ev(stateKey("m.room.join_rules", ""))],
    });
    expect(await room.engine.ingest(join)).toMatchObject({ ok: true, outcome: "accepted" });
    expect(room.store.currentState().get(stateKey("m.room.member", BOB))).toBe(join.event_id);
  });

  it("rejects an event its own auth events do not allow", async () => {
    const room = await makeRoom();
    const head = room.store.getEvent(room.store.forwardExtremities()[0]!)!.event;
    const msg = await remoteEvent(room, { sender: BOB, type: "m.room.message", content: { body: "x" }, prev: [head], auth: [room.create] });
    expect(await room.engine.ingest(msg)).toMatchObject({ ok: true, outcome: "rejected" });
    expect(room.store.forwardExtremities()).toEqual([head.event_id]);
  });

  it("soft-fails an event allowed before it but not by the current state (a ban racing a message)", async () => {
    const room = await makeRoom();
    const state = room.store.currentState();
    const ev = (k: string) => room.store.getEvent(state.get(k)!)!.event;
    const head = room.store.getEvent(room.store.forwardExtremities()[0]!)!.event;
    const join = await remoteEvent(room, {
      sender: BOB, type: "m.room.member", state_key: BOB, content: { membership: "join" }, prev: [head],
      auth: [room.create, ev(stateKey("m.room.power_levels", "")), ev(stateKey("m.room.join_rules", ""))],
    });
    await room.engine.ingest(join);
    const ban = await room.send(ALICE, "m.room.member", { membership: "ban" }, BOB);
    // Bob's server had not seen the ban: his message points at his join.
    const msg = await remoteEvent(room, {
      sender: BOB, type: "m.room.message", content: { body: "sneaky" }, prev: [join],
      auth: [room.create, ev(stateKey("m.room.power_levels", "")), join],
    });
    expect(await room.engine.ingest(msg)).toMatchObject({ ok: true, outcome: "soft_failed" });
    expect(room.store.forwardExtremities()).toEqual([ban.event_id]);
    expect(room.store.timeline({ fromStream: Number.MAX_SAFE_INTEGER, dir: "b", limit: 5 }).map((s) => s.event.event_id)).not.toContain(msg.event_id);
  });

  it("resolves state when the graph forks, and the next local event merges the extremities", async () => {
    const room = await makeRoom();
    const state = room.store.currentState();
    const ev = (k: string) => room.store.getEvent(state.get(k)!)!.event;
    const head = room.store.getEvent(room.store.forwardExtremities()[0]!)!.event;
    const join = await remoteEvent(room, {
      sender: BOB, type: "m.room.member", state_key: BOB, content: { membership: "join" }, prev: [head],
      auth: [room.create, ev(stateKey("m.room.power_levels", "")), ev(stateKey("m.room.join_rules", ""))],
    });
    await room.engine.ingest(join);
    const localTopic = await room.send(ALICE, "m.room.topic", { topic: "local" }, "");
    // A remote event that forks from Bob's join, concurrent with Alice's topic.
    const remoteMsg = await remoteEvent(room, {
      sender: BOB, type: "m.room.message", content: { body: "fork" }, prev: [join],
      auth: [room.create, ev(stateKey("m.room.power_levels", "")), join],
    });
    expect(await room.engine.ingest(remoteMsg)).toMatchObject({ ok: true, outcome: "accepted" });
    expect(new Set(room.store.forwardExtremities())).toEqual(new Set([localTopic.event_id, remoteMsg.event_id]));
    expect(room.store.currentState().get(stateKey("m.room.topic", ""))).toBe(localTopic.event_id);
    const merge = await room.send(ALICE, "m.room.message", { body: "merge" });
    expect(new Set(merge.prev_events as string[])).toEqual(new Set([localTopic.event_id, remoteMsg.event_id]));
    expect(room.store.forwardExtremities()).toEqual([merge.event_id]);
  });
});
