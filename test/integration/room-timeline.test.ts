/** GET /rooms/{roomId}/messages, /context/{eventId} and /timestamp_to_event through the Worker. */
import { describe, expect, it } from "vitest";
import { call, createRoom, enc, joinOk, registerUser, roomPath, send, sendOk, type TestUser } from "./room-helpers";

function messages(user: TestUser, roomId: string, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return call("GET", roomPath(roomId, `/messages?${qs}`), { token: user.access_token });
}

function context(user: TestUser, roomId: string, eventId: string, query: Record<string, string | number> = {}) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return call("GET", roomPath(roomId, `/context/${enc(eventId)}?${qs}`), { token: user.access_token });
}

function timestampToEvent(user: TestUser, roomId: string, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return call("GET", `/_matrix/client/v1/rooms/${enc(roomId)}/timestamp_to_event?${qs}`, { token: user.access_token });
}

async function roomWithMessages(n: number) {
  const alice = await registerUser();
  const roomId = await createRoom(alice, { preset: "public_chat" });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await sendOk(alice, roomId, `m${i}`));
  return { alice, roomId, ids };
}

describe("GET /rooms/{roomId}/messages", () => {
  it("pages backwards and forwards with tokens, omitting `end` when nothing is left", async () => {
    const { alice, roomId, ids } = await roomWithMessages(5);

    const first = await messages(alice, roomId, { dir: "b", limit: 3 });
    expect(first.status).toBe(200);
    expect(first.body.chunk.map((e: any) => e.event_id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(first.body.start).toMatch(/^t\d+$/);
    expect(first.body.end).toMatch(/^t\d+$/);

    // Walk back to the room's creation.
    const seen: any[] = [...first.body.chunk];
    let from = first.body.end;
    for (let i = 0; from && i < 20; i++) {
      const next = await messages(alice, roomId, { dir: "b", limit: 3, from });
      seen.push(...next.body.chunk);
      from = next.body.end;
    }
    expect(from).toBeUndefined();
    expect(seen[seen.length - 1].type).toBe("m.room.create");
    expect(new Set(seen.map((e) => e.event_id)).size).toBe(seen.length);

    // Forwards from the oldest gives the same events, oldest first.
    const forward = await messages(alice, roomId, { dir: "f", limit: 100 });
    expect(forward.body.chunk.map((e: any) => e.event_id)).toEqual(seen.map((e) => e.event_id).reverse());
    expect(forward.body.end).toBeUndefined();
    // Events are in the client format: no PDU-only fields.
    expect(forward.body.chunk[0].room_id).toBe(roomId);
    expect(forward.body.chunk[0].auth_events).toBeUndefined();
  });

  it("defaults the limit to 10 and echoes `from` as `start`", async () => {
    const { alice, roomId } = await roomWithMessages(12);
    const res = await messages(alice, roomId, { dir: "b" });
    expect(res.body.chunk).toHaveLength(10);
    const again = await messages(alice, roomId, { dir: "b", from: res.body.end });
    expect(again.body.start).toBe(res.body.end);
  });

  it("applies a JSON RoomEventFilter and lazy-loads the senders' member events", async () => {
    const { alice, roomId } = await roomWithMessages(0);
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const bobMsg = await sendOk(bob, roomId, "from bob");
    const img = await send(alice, roomId, { msgtype: "m.image", body: "pic", url: "mxc://test.local/abc" });
    await send(alice, roomId, { something: "custom" }, "org.example.custom");

    const onlyBob = await messages(bob, roomId, { dir: "b", filter: JSON.stringify({ senders: [bob.user_id], types: ["m.room.message"] }) });
    expect(onlyBob.body.chunk.map((e: any) => e.event_id)).toEqual([bobMsg]);

    const withUrl = await messages(bob, roomId, { dir: "b", filter: JSON.stringify({ contains_url: true }) });
    expect(withUrl.body.chunk.map((e: any) => e.event_id)).toEqual([img.body.event_id]);

    const notCustom = await messages(bob, roomId, { dir: "b", limit: 2, filter: JSON.stringify({ not_types: ["org.example.*"], lazy_load_members: true }) });
    expect(notCustom.body.chunk.map((e: any) => e.event_id)).toEqual([img.body.event_id, bobMsg]);
    expect(notCustom.body.state.map((e: any) => e.state_key).sort()).toEqual([alice.user_id, bob.user_id].sort());
    expect(notCustom.body.state.every((e: any) => e.type === "m.room.member")).toBe(true);

    const plain = await messages(bob, roomId, { dir: "b", limit: 2 });
    expect(plain.body.state).toBeUndefined();
  });

  it("echoes transaction_id to the sending device", async () => {
    const { alice, roomId } = await roomWithMessages(0);
    await send(alice, roomId, { msgtype: "m.text", body: "txn" }, "m.room.message", "my-txn-1");
    const res = await messages(alice, roomId, { dir: "b", limit: 1 });
    expect(res.body.chunk[0].unsigned.transaction_id).toBe("my-txn-1");
  });

  it("rejects a missing dir, a bad token, a bad limit and a bad filter with 400", async () => {
    const { alice, roomId } = await roomWithMessages(1);
    for (const query of [{}, { dir: "x" }, { dir: "b", from: "s12_3" }, { dir: "b", to: "nope" }, { dir: "b", limit: -1 }, { dir: "b", filter: "{not json" }, { dir: "b", filter: '{"types":"m.room.message"}' }, { dir: "b", filter: '{"limit":0}' }]) {
      const res = await messages(alice, roomId, query as Record<string, string>);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(["M_INVALID_PARAM", "M_MISSING_PARAM"]).toContain(res.body.errcode);
    }
  });

  it("is 403 for an unknown room", async () => {
    const alice = await registerUser();
    const res = await messages(alice, "!nope:test.local", { dir: "b" });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
  });
});

describe("GET /rooms/{roomId}/context/{eventId}", () => {
  it("returns the event with events around it, tokens that continue with /messages, and the state", async () => {
    const { alice, roomId, ids } = await roomWithMessages(7);
    const res = await context(alice, roomId, ids[3]!, { limit: 4 });
    expect(res.status).toBe(200);
    expect(res.body.event.event_id).toBe(ids[3]);
    expect(res.body.events_before.map((e: any) => e.event_id)).toEqual([ids[2], ids[1]]);
    expect(res.body.events_after.map((e: any) => e.event_id)).toEqual([ids[4], ids[5]]);
    expect(res.body.state.some((e: any) => e.type === "m.room.create")).toBe(true);
    expect(res.body.state.some((e: any) => e.type === "m.room.member" && e.state_key === alice.user_id)).toBe(true);

    const back = await messages(alice, roomId, { dir: "b", from: res.body.start, limit: 1 });
    expect(back.body.chunk[0].event_id).toBe(ids[0]);
    const fwd = await messages(alice, roomId, { dir: "f", from: res.body.end, limit: 1 });
    expect(fwd.body.chunk[0].event_id).toBe(ids[6]);
  });

  it("filters the lists and state but never the event, and lazy-loads members", async () => {
    const { alice, roomId, ids } = await roomWithMessages(3);
    const bob = await registerUser();
    await joinOk(bob, roomId);
    const bobMsg = await sendOk(bob, roomId, "after");

    const filtered = await context(alice, roomId, ids[1]!, { limit: 10, filter: JSON.stringify({ senders: [bob.user_id] }) });
    expect(filtered.body.event.event_id).toBe(ids[1]);
    expect(filtered.body.events_before).toEqual([]);
    expect(filtered.body.events_after.map((e: any) => e.type)).toEqual(["m.room.member", "m.room.message"]);
    expect(filtered.body.events_after[1].event_id).toBe(bobMsg);
    expect(filtered.body.state.map((e: any) => e.sender)).toEqual([bob.user_id]);

    const lazy = await context(alice, roomId, ids[1]!, { limit: 0, filter: JSON.stringify({ lazy_load_members: true }) });
    expect(lazy.body.events_before).toEqual([]);
    expect(lazy.body.events_after).toEqual([]);
    const members = lazy.body.state.filter((e: any) => e.type === "m.room.member").map((e: any) => e.state_key);
    expect(members).toEqual([alice.user_id]);
  });

  it("is 404 for an unknown event", async () => {
    const { alice, roomId } = await roomWithMessages(1);
    const res = await context(alice, roomId, "$unknown");
    expect(res.status).toBe(404);
    expect(res.body.errcode).toBe("M_NOT_FOUND");
  });
});

describe("GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event", () => {
  it("finds the closest event in each direction and answers 404 M_NOT_FOUND when there is none", async () => {
    const { alice, roomId, ids } = await roomWithMessages(2);
    const last = await call("GET", roomPath(roomId, `/event/${enc(ids[1]!)}`), { token: alice.access_token });
    const future = last.body.origin_server_ts + 1_000_000_000;

    const back = await timestampToEvent(alice, roomId, { ts: future, dir: "b" });
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ event_id: ids[1], origin_server_ts: last.body.origin_server_ts });

    const fromStart = await timestampToEvent(alice, roomId, { ts: 0, dir: "f" });
    expect(fromStart.status).toBe(200);
    const first = await messages(alice, roomId, { dir: "f", limit: 1 });
    expect(fromStart.body.event_id).toBe(first.body.chunk[0].event_id);

    for (const query of [{ ts: future, dir: "f" }, { ts: 0, dir: "b" }]) {
      const none = await timestampToEvent(alice, roomId, query);
      expect(none.status).toBe(404);
      expect(none.body.errcode).toBe("M_NOT_FOUND");
    }
  });

  it("requires ts and dir", async () => {
    const { alice, roomId } = await roomWithMessages(1);
    for (const query of [{ dir: "b" }, { ts: 5 }, { ts: "soon", dir: "b" }, { ts: 5, dir: "up" }]) {
      expect((await timestampToEvent(alice, roomId, query as Record<string, string>)).status, JSON.stringify(query)).toBe(400);
    }
  });
});
