/**
 * A room engine over node:sqlite with a local signing key and a controllable clock, for Node
 * tests of the room's read paths (timeline, visibility) without workerd.
 */
import { decodeBase64 } from "../../src/matrix/base64";
import { signEvent } from "../../src/matrix/event-signing";
import type { Pdu, RoomEvent } from "../../src/matrix/events";
import { getRoomVersion, type RoomVersion } from "../../src/matrix/room-versions";
import { signingKeyFromSeed } from "../../src/matrix/signing";
import { buildCreateEvent } from "../../src/objects/room/create-event";
import { RoomEngine } from "../../src/objects/room/room-engine";
import { RoomReader } from "../../src/objects/room/room-reader";
import { RoomStore } from "../../src/objects/room/room-store";
import { migrate } from "../../src/objects/room/schema";
import { nodeSql } from "./node-sql";

const SEED = decodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");

let counter = 0;
const randomId = () => `r${++counter}x${Math.random().toString(36).slice(2, 8)}`;

export interface TestRoom {
  engine: RoomEngine;
  store: RoomStore;
  reader: RoomReader;
  roomId: string;
  version: RoomVersion;
  /** The clock events are stamped with; tests may move it. */
  clock: { now: number };
  send(sender: string, type: string, content: Record<string, unknown>, stateKey?: string, opts?: { ts?: number; redacts?: string }): Promise<RoomEvent>;
  /** Stream position of a stored event. */
  streamOf(eventId: string): number;
}

/**
 * A room created by `creator` with power levels that let the creator do everything and a public
 * join rule, so other users can join without an invite. `history_visibility` is left unset
 * (so it is "shared") unless given.
 */
export async function makeTestRoom(creator: string, opts: { versionId?: string; historyVisibility?: string } = {}): Promise<TestRoom> {
  const version = getRoomVersion(opts.versionId ?? "11")!;
  const key = await signingKeyFromSeed(SEED, "a.test", "ed25519:1");
  const sign = (pdu: Pdu, v: RoomVersion) => signEvent(pdu, key, v);
  const sql = nodeSql();
  migrate(sql);
  const store = new RoomStore(sql);
  const clock = { now: 1_000_000 };
  const engine = new RoomEngine(store, { serverName: "a.test", sign, now: () => clock.now, randomId });
  const { event: create, roomId } = await buildCreateEvent({ version, creator, content: {}, serverName: "a.test", now: clock.now, randomId, sign });
  const init = await engine.initialise(create, roomId, version);
  if (!init.ok) throw new Error(init.error);
  const send: TestRoom["send"] = async (sender, type, content, stateKey, o = {}) => {
    clock.now += 1;
    const r = await engine.append({ sender, type, content: content as never, stateKey, redacts: o.redacts, originServerTs: o.ts ?? clock.now });
    if (!r.ok) throw new Error(`${type} refused: ${r.error}`);
    return r.event;
  };
  await send(creator, "m.room.member", { membership: "join" }, creator);
  await send(creator, "m.room.power_levels", { users: version.privilegedCreators ? {} : { [creator]: 100 }, invite: 0 }, "");
  await send(creator, "m.room.join_rules", { join_rule: "public" }, "");
  if (opts.historyVisibility) await send(creator, "m.room.history_visibility", { history_visibility: opts.historyVisibility }, "");
  return {
    engine,
    store,
    reader: new RoomReader(store, version, () => clock.now),
    roomId,
    version,
    clock,
    send,
    streamOf: (id) => store.getEvent(id)!.stream,
  };
}
