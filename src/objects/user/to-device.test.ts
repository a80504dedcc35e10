import { describe, expect, it } from "vitest";
import { nodeSql } from "../../../test/support/node-sql";
import { migrate } from "./schema";
import { SyncEngine } from "./sync-engine";
import { TO_DEVICE_PER_SYNC, TO_DEVICE_TXN_KEEP_MS, type ToDeviceMessage } from "./to-device";
import { UserStore } from "./user-store";

const BOB = "@bob:a.test";
const ALICE = "@alice:a.test";

function engine(now: () => number = () => Date.now()) {
  const sql = nodeSql();
  migrate(sql);
  return new SyncEngine(new UserStore(sql), BOB, now);
}

function msg(deviceId: string, txnId: string, body: string | number, sender = ALICE, senderDevice = "ADEV"): ToDeviceMessage {
  return { deviceId, sender, senderDevice, txnId, type: "m.test", content: { body } };
}

const bodies = (r: { toDevice?: { content: { body?: unknown } }[] }) => (r.toDevice ?? []).map((e) => e.content.body);

describe("to-device inbox", () => {
  it("gives a message to its device only, in every sync until a later since acknowledges it", async () => {
    const e = engine();
    const first = await e.sync({ deviceId: "D1" });
    const other = await e.sync({ deviceId: "D2" });
    e.receiveToDevice([msg("D1", "t1", "hello")]);

    const a = await e.sync({ deviceId: "D1", since: first.nextPos });
    expect(a.toDevice).toEqual([{ sender: ALICE, type: "m.test", content: { body: "hello" } }]);
    // The other device of the same user gets nothing.
    expect(bodies(await e.sync({ deviceId: "D2", since: other.nextPos }))).toEqual([]);
    // Syncing again from the old token (the response was lost) gives it again.
    const again = await e.sync({ deviceId: "D1", since: first.nextPos });
    expect(bodies(again)).toEqual(["hello"]);
    // A sync from the token that carried it acknowledges it: gone, even for an older token afterwards.
    const b = await e.sync({ deviceId: "D1", since: a.nextPos });
    expect(bodies(b)).toEqual([]);
    expect(bodies(await e.sync({ deviceId: "D1", since: first.nextPos }))).toEqual([]);
  });

  it("an initial sync carries pending messages and acknowledges nothing", async () => {
    const e = engine();
    e.receiveToDevice([msg("D1", "t1", "one")]);
    const initial = await e.sync({ deviceId: "D1" });
    expect(bodies(initial)).toEqual(["one"]);
    expect(bodies(await e.sync({ deviceId: "D1" }))).toEqual(["one"]);
    expect(bodies(await e.sync({ deviceId: "D1", since: initial.nextPos }))).toEqual([]);
  });

  it("queues a message once per sender, sending device and transaction", async () => {
    const e = engine();
    e.receiveToDevice([msg("D1", "t1", "once")]);
    e.receiveToDevice([msg("D1", "t1", "once")]);
    // Same transaction id from another device or sender is another message.
    e.receiveToDevice([msg("D1", "t1", "other device", ALICE, "ADEV2"), msg("D1", "t1", "other sender", "@carol:a.test")]);
    expect(bodies(await e.sync({ deviceId: "D1" }))).toEqual(["once", "other device", "other sender"]);
  });

  it(`sends at most ${TO_DEVICE_PER_SYNC} per sync, in order, without acknowledging any it did not send`, async () => {
    const e = engine();
    const start = await e.sync({ deviceId: "D1" });
    e.receiveToDevice(Array.from({ length: 250 }, (_, i) => msg("D1", `t${i}`, i)));

    const s1 = await e.sync({ deviceId: "D1", since: start.nextPos });
    expect(bodies(s1)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // The rest is news: this sync answers at once although it asked to wait.
    const started = Date.now();
    const s2 = await e.sync({ deviceId: "D1", since: s1.nextPos, timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(bodies(s2)).toEqual(Array.from({ length: 100 }, (_, i) => i + 100));
    expect(s2.nextPos).toBeGreaterThan(s1.nextPos);
    // s2's response is lost: syncing from s1's token again must not drop what s2 carried.
    const s2again = await e.sync({ deviceId: "D1", since: s1.nextPos });
    expect(bodies(s2again)).toEqual(Array.from({ length: 100 }, (_, i) => i + 100));
    const s3 = await e.sync({ deviceId: "D1", since: s2again.nextPos });
    expect(bodies(s3)).toEqual(Array.from({ length: 50 }, (_, i) => i + 200));
    expect(bodies(await e.sync({ deviceId: "D1", since: s3.nextPos }))).toEqual([]);
  });

  it("wakes the recipient device's long-poll, and another device's stamp is no news for the rest", async () => {
    const e = engine();
    const d1 = await e.sync({ deviceId: "D1" });
    const d2 = await e.sync({ deviceId: "D2" });
    const started = Date.now();
    const poll = e.sync({ deviceId: "D1", since: d1.nextPos, timeoutMs: 5000 });
    setTimeout(() => e.receiveToDevice([msg("D1", "t1", "wake")]), 50);
    expect(bodies(await poll)).toEqual(["wake"]);
    expect(Date.now() - started).toBeLessThan(2000);

    // D1's sync stamped its batch with a stream row; D2 has nothing new and waits out its timeout.
    const waited = Date.now();
    const d2poll = await e.sync({ deviceId: "D2", since: d2.nextPos, timeoutMs: 300 });
    expect(Date.now() - waited).toBeGreaterThanOrEqual(250);
    expect(bodies(d2poll)).toEqual([]);
  });

  it("drops the queues and transaction ids of deleted devices", async () => {
    const e = engine();
    e.receiveToDevice([msg("D1", "t1", "gone"), msg("D2", "t1", "kept")]);
    e.toDevice.markTxnDone("D1", "own", 1000);
    e.toDevice.dropDevices(["D1"]);
    expect(bodies(await e.sync({ deviceId: "D1" }))).toEqual([]);
    expect(bodies(await e.sync({ deviceId: "D2" }))).toEqual(["kept"]);
    expect(e.toDevice.txnDone("D1", "own")).toBe(false);
  });

  it("remembers its own completed transactions per device, for a while", () => {
    const e = engine();
    expect(e.toDevice.txnDone("D1", "t1")).toBe(false);
    e.toDevice.markTxnDone("D1", "t1", 1000);
    expect(e.toDevice.txnDone("D1", "t1")).toBe(true);
    expect(e.toDevice.txnDone("D2", "t1")).toBe(false);
    // Marking another one much later forgets the expired one.
    e.toDevice.markTxnDone("D1", "t2", 1000 + TO_DEVICE_TXN_KEEP_MS + 1);
    expect(e.toDevice.txnDone("D1", "t1")).toBe(false);
    expect(e.toDevice.txnDone("D1", "t2")).toBe(true);
  });
});
