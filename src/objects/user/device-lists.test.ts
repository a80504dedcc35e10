import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import type { ClientEvent } from "../../matrix/client-event";
import type { JsonObject } from "../../matrix/canonical-json";
import { migrate } from "./schema";
import { SyncEngine } from "./sync-engine";
import { UserStore } from "./user-store";

const ME = "@me:a.test";
const BOB = "@bob:a.test";
const CAROL = "@carol:a.test";
const ROOM = "!room:a.test";

function engine() {
  const sql = nodeSql();
  migrate(sql);
  return new SyncEngine(new UserStore(sql), ME, () => 5_000_000);
}

let n = 0;
let stream = 0;
function member(userId: string, membership: string, prev?: string): ClientEvent {
  n += 1;
  const unsigned: JsonObject = prev ? { prev_content: { membership: prev } } : {};
  return { event_id: `$m${n}`, room_id: ROOM, sender: userId, type: "m.room.member", content: { membership }, state_key: userId, origin_server_ts: 1, unsigned };
}

function deliver(e: SyncEngine, ...events: ClientEvent[]) {
  e.deliver({ roomId: ROOM, summary: { joined: 1, invited: 0, heroes: [] }, events: events.map((event) => ({ roomStream: ++stream, event })) });
}

const news = (e: SyncEngine, since: number) => e.compute({ deviceId: "D", since }).deviceLists;

describe("user object: device-list news", () => {
  it("another member joining is `changed`; a profile change (join → join) is not", () => {
    const e = engine();
    deliver(e, member(ME, "join"));
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    deliver(e, member(BOB, "join", "invite"));
    expect(news(e, s0)).toEqual({ changed: [BOB], left: [], joinedRooms: [], leftRooms: [] });
    const s1 = e.compute({ deviceId: "D" }).nextPos;
    deliver(e, member(BOB, "join", "join"));
    expect(news(e, s1)).toEqual({ changed: [], left: [], joinedRooms: [], leftRooms: [] });
  });

  it("another member leaving or banned is a `left` candidate; an invite is nothing", () => {
    const e = engine();
    deliver(e, member(ME, "join"));
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    deliver(e, member(BOB, "leave", "join"), member(CAROL, "ban", "join"), member("@dave:a.test", "invite"));
    expect(news(e, s0)).toEqual({ changed: [], left: [BOB, CAROL], joinedRooms: [], leftRooms: [] });
  });

  it("this user's own join and leave name the room, once per change", () => {
    const e = engine();
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    deliver(e, member(ME, "join"));
    expect(news(e, s0)).toEqual({ changed: [], left: [], joinedRooms: [ROOM], leftRooms: [] });
    const s1 = e.compute({ deviceId: "D" }).nextPos;
    deliver(e, member(ME, "join", "join"));
    expect(news(e, s1)!.joinedRooms).toEqual([]);
    deliver(e, member(ME, "leave", "join"));
    expect(news(e, s1)).toEqual({ changed: [], left: [], joinedRooms: [], leftRooms: [ROOM] });
  });

  it("a device_list notification is `changed` and wakes a waiting sync", async () => {
    const e = engine();
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    const waiting = e.sync({ deviceId: "D", since: s0, timeoutMs: 5_000 });
    e.notify({ kind: "device_list", userId: BOB });
    const r = await waiting;
    expect(r.deviceLists).toEqual({ changed: [BOB], left: [], joinedRooms: [], leftRooms: [] });
    expect(r.nextPos).toBeGreaterThan(s0);
    // An initial sync carries no device-list news.
    expect(e.compute({ deviceId: "D" }).deviceLists).toBeUndefined();
  });

  it("deviceListsBetween reads only the span (from, to]", () => {
    const e = engine();
    const s0 = e.compute({ deviceId: "D" }).nextPos;
    e.notify({ kind: "device_list", userId: BOB });
    const s1 = e.compute({ deviceId: "D" }).nextPos;
    e.notify({ kind: "account_data", type: "m.x" });
    e.notify({ kind: "device_list", userId: CAROL });
    const s2 = e.compute({ deviceId: "D" }).nextPos;
    expect(e.deviceListsBetween(s0, s1).changed).toEqual([BOB]);
    expect(e.deviceListsBetween(s1, s2).changed).toEqual([CAROL]);
    expect(e.deviceListsBetween(s0, s2).changed).toEqual([BOB, CAROL]);
    expect(e.deviceListsBetween(s2, s2).changed).toEqual([]);
  });
});
