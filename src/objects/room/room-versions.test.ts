/**
 * Federation will bring rooms of every version, so the engine must store and authorize events of
 * room versions 1–12, each in its own event format (spec: Rooms § Room versions).
 */
import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import { signEvent, verifyEventSignature } from "../../matrix/event-signing";
import { computeEventId } from "../../matrix/event-id";
import { encodeBase64 } from "../../matrix/base64";
import { referenceHash } from "../../matrix/event-hashes";
import { stateKey, type Pdu, type RoomEvent } from "../../matrix/events";
import { ROOM_VERSIONS, type RoomVersion } from "../../matrix/room-versions";
import { signingKeyFromSeed } from "../../matrix/signing";
import { buildCreateEvent } from "./create-event";
import { RoomEngine } from "./room-engine";
import { RoomStore } from "./room-store";
import { migrate } from "./schema";

const ALICE = "@alice:a.test";
const BOB = "@bob:b.test";

describe.each([...ROOM_VERSIONS.values()])("room version $id", (version: RoomVersion) => {
  it("stores, signs and authorizes local and remote events in this version's format", async () => {
    const key = await signingKeyFromSeed(new Uint8Array(32).fill(1), "a.test", "ed25519:1");
    const remoteKey = await signingKeyFromSeed(new Uint8Array(32).fill(2), "b.test", "ed25519:1");
    let n = 0;
    const randomId = () => `id${++n}`;
    const sign = (pdu: Pdu, v: RoomVersion) => signEvent(pdu, key, v);
    const store = new RoomStore((() => { const s = nodeSql(); migrate(s); return s; })());
    const engine = new RoomEngine(store, { serverName: "a.test", sign, now: () => 1_700_000_000_000 + n, randomId });
    const { event: create, roomId } = await buildCreateEvent({ version, creator: ALICE, content: {}, serverName: "a.test", now: 1, randomId, sign });
    expect((await engine.initialise(create, roomId, version)).ok).toBe(true);

    const send = async (type: string, content: Record<string, unknown>, sk?: string) => {
      const r = await engine.append({ sender: ALICE, type, content: content as never, stateKey: sk });
      if (!r.ok) throw new Error(`${type}: ${r.error}`);
      return r.event;
    };
    await send("m.room.member", { membership: "join" }, ALICE);
    const pl = await send("m.room.power_levels", { users: version.privilegedCreators ? {} : { [ALICE]: 100 } }, "");
    const rules = await send("m.room.join_rules", { join_rule: "public" }, "");
    const msg = await send("m.room.message", { body: "hello" });

    // The id format of the version (spec: rooms/v1 § Event IDs, rooms/v3, rooms/v4).
    if (version.eventIdFormat === "v1") expect(msg.event_id).toMatch(/^\$[^:]+:a\.test$/);
    else if (version.eventIdFormat === "v3") expect(msg.event_id).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
    else expect(msg.event_id).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    // v1/v2 reference events with their hashes; later versions by id alone.
    if (version.eventIdFormat === "v1") {
      const [ref] = msg.prev_events as [string, { sha256: string }][];
      expect(ref![0]).toBe(rules.event_id);
      expect(ref![1].sha256).toBe(encodeBase64(await referenceHash(rules, version)));
    } else {
      expect(msg.prev_events).toEqual([rules.event_id]);
      expect(msg.event_id).toBe(await computeEventId(msg, version));
    }
    expect(await verifyEventSignature(msg, version, "a.test", "ed25519:1", key.publicKey)).toBe(true);

    // A remote user joins and speaks, as their server would build the events.
    const ref = async (e: RoomEvent) => (version.eventIdFormat === "v1" ? [e.event_id, { sha256: encodeBase64(await referenceHash(e, version)) }] : e.event_id);
    const remote = async (fields: Partial<Pdu> & { type: string; content: Record<string, unknown> }, prev: RoomEvent[], auth: RoomEvent[]) => {
      const pdu = {
        room_id: roomId,
        sender: BOB,
        prev_events: await Promise.all(prev.map(ref)),
        auth_events: await Promise.all(auth.filter((e) => !(version.roomIdFromCreateEvent && e.type === "m.room.create")).map(ref)),
        depth: Math.max(...prev.map((e) => e.depth)) + 1,
        origin_server_ts: 1_700_000_100_000,
        ...fields,
      } as Pdu;
      if (version.eventIdFormat === "v1") {
        pdu.event_id = `$remote${++n}:b.test`;
        pdu.origin = "b.test";
      }
      const signed = await signEvent(pdu, remoteKey, version);
      return { ...signed, event_id: await computeEventId(signed, version) } as RoomEvent;
    };
    const join = await remote({ type: "m.room.member", state_key: BOB, content: { membership: "join" } }, [msg], [create, pl, rules]);
    expect(await engine.ingest(join)).toMatchObject({ ok: true, outcome: "accepted" });
    const reply = await remote({ type: "m.room.message", content: { body: "hi" } }, [join], [create, pl, join]);
    expect(await engine.ingest(reply)).toMatchObject({ ok: true, outcome: "accepted" });
    expect(store.currentState().get(stateKey("m.room.member", BOB))).toBe(join.event_id);
    expect(store.forwardExtremities()).toEqual([reply.event_id]);

    // A remote event that breaks the auth rules is rejected in every version.
    const escalate = await remote({ type: "m.room.power_levels", state_key: "", content: { users: { [BOB]: 100 } } }, [reply], [create, pl, join]);
    expect(await engine.ingest(escalate)).toMatchObject({ ok: true, outcome: "rejected" });
    expect(store.currentState().get(stateKey("m.room.power_levels", ""))).toBe(pl.event_id);
  });
});
