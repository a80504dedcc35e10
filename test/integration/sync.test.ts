import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

const enc = encodeURIComponent;

async function sync(token: string, query = "") {
  const res = await call("GET", `/_matrix/client/v3/sync${query}`, { token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Syncs until `pred` holds or the deadline passes: delivery to the user's stream is asynchronous. */
async function syncUntil(token: string, since: string | undefined, pred: (body: any) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  let body: any;
  let next = since;
  do {
    body = await sync(token, `?timeout=1000${next ? `&since=${next}` : ""}`);
    if (pred(body)) return body;
    next = body.next_batch;
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

describe("/sync", () => {
  it("initial sync shows joined rooms with state, timeline and summary", async () => {
    const alice = await registerUser();
    const roomId = (await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, body: { name: "Lobby", preset: "public_chat" } })).body.room_id;
    await call("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/a1`, { token: alice.access_token, body: { msgtype: "m.text", body: "first" } });
    const body = await syncUntil(alice.access_token, undefined, (b) => b.rooms?.join?.[roomId]?.timeline?.events?.some((e: any) => e.content?.body === "first"));
    const room = body.rooms.join[roomId];
    expect(body.next_batch).toMatch(/^s\d+$/);
    const allEvents = [...room.state.events, ...room.timeline.events];
    expect(allEvents.find((e: any) => e.type === "m.room.name")?.content.name).toBe("Lobby");
    expect(allEvents.some((e: any) => e.type === "m.room.create")).toBe(true);
    expect(room.summary["m.joined_member_count"]).toBe(1);
    const mine = room.timeline.events.find((e: any) => e.content?.body === "first");
    expect(mine.unsigned.transaction_id).toBe("a1");
  });

  it("a long-poll wakes when another user's message arrives, and only that is new", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = (await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, body: { preset: "public_chat" } })).body.room_id;
    await call("POST", `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.access_token, body: {} });
    const first = await syncUntil(bob.access_token, undefined, (b) => Boolean(b.rooms?.join?.[roomId]));
    const started = Date.now();
    const poll = sync(bob.access_token, `?since=${first.next_batch}&timeout=10000`);
    await new Promise((r) => setTimeout(r, 200));
    await call("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/m1`, { token: alice.access_token, body: { msgtype: "m.text", body: "wake up" } });
    const body = await poll;
    expect(Date.now() - started).toBeLessThan(5000);
    const events = body.rooms.join[roomId].timeline.events;
    expect(events.map((e: any) => e.content?.body)).toEqual(["wake up"]);
    // Alice's transaction id is not shown to Bob.
    expect(events[0].unsigned.transaction_id).toBeUndefined();
  });

  it("an idle long-poll is held for its timeout", async () => {
    const alice = await registerUser();
    const first = await sync(alice.access_token);
    const started = Date.now();
    const body = await sync(alice.access_token, `?since=${first.next_batch}&timeout=1500`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(body.next_batch).toBe(first.next_batch);
  });

  it("invites show stripped state, and a user who left gets nothing after the leave", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = (await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, body: { name: "Secret", invite: [bob.user_id] } })).body.room_id;
    const invited = await syncUntil(bob.access_token, undefined, (b) => Boolean(b.rooms?.invite?.[roomId]));
    const stripped = invited.rooms.invite[roomId].invite_state.events;
    expect(stripped.find((e: any) => e.type === "m.room.name")?.content.name).toBe("Secret");
    expect(stripped.find((e: any) => e.type === "m.room.member" && e.state_key === bob.user_id)?.content.membership).toBe("invite");

    await call("POST", `/_matrix/client/v3/join/${enc(roomId)}`, { token: bob.access_token, body: {} });
    const joined = await syncUntil(bob.access_token, invited.next_batch, (b) => Boolean(b.rooms?.join?.[roomId]));
    expect(joined.rooms.join[roomId].state.events.concat(joined.rooms.join[roomId].timeline.events).some((e: any) => e.type === "m.room.name")).toBe(true);

    await call("POST", `/_matrix/client/v3/rooms/${enc(roomId)}/leave`, { token: bob.access_token, body: {} });
    const left = await syncUntil(bob.access_token, joined.next_batch, (b) => Boolean(b.rooms?.leave?.[roomId]));
    await call("PUT", `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/after`, { token: alice.access_token, body: { msgtype: "m.text", body: "after you left" } });
    const later = await sync(bob.access_token, `?since=${left.next_batch}&timeout=1000`);
    expect(JSON.stringify(later)).not.toContain("after you left");
  });

  it("refuses a malformed since token", async () => {
    const alice = await registerUser();
    const res = await call("GET", "/_matrix/client/v3/sync?since=garbage", { token: alice.access_token });
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe("M_INVALID_PARAM");
  });
});
