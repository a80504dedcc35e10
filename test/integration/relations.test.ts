import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

let txn = 0;

async function createRoom(owner: User, body: Record<string, unknown> = { preset: "public_chat" }): Promise<string> {
  const res = await call("POST", "/_matrix/client/v3/createRoom", { token: owner.access_token, body });
  expect(res.status).toBe(200);
  return res.body.room_id as string;
}

async function join(user: User, roomId: string): Promise<void> {
  const res = await call("POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: user.access_token, body: {} });
  expect(res.status).toBe(200);
}

async function send(user: User, roomId: string, content: Record<string, unknown>, type = "m.room.message"): Promise<string> {
  const res = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/rel${++txn}`, { token: user.access_token, body: content });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.event_id as string;
}

const text = (body: string, rel?: Record<string, unknown>) => ({ msgtype: "m.text", body, ...(rel ? { "m.relates_to": rel } : {}) });
const edit = (target: string, body: string) => ({
  msgtype: "m.text",
  body: `* ${body}`,
  "m.new_content": { msgtype: "m.text", body },
  "m.relates_to": { rel_type: "m.replace", event_id: target },
});

function getEvent(user: User, roomId: string, eventId: string) {
  return call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`, { token: user.access_token });
}

function relations(user: User, roomId: string, eventId: string, suffix = "", query = "") {
  return call("GET", `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(eventId)}${suffix}${query ? `?${query}` : ""}`, {
    token: user.access_token,
  });
}

function threads(user: User, roomId: string, query = "") {
  return call("GET", `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/threads${query ? `?${query}` : ""}`, { token: user.access_token });
}

const ids = (chunk: { event_id: string }[]) => chunk.map((e) => e.event_id);

describe("bundled aggregations", () => {
  it("bundles the latest edit by the original sender on /event and /messages, leaving the content alone", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const root = await send(alice, roomId, text("original"));
    await send(alice, roomId, edit(root, "first"));
    const latest = await send(alice, roomId, edit(root, "second"));
    await send(bob, roomId, edit(root, "not bob's to edit"));

    const ev = await getEvent(bob, roomId, root);
    expect(ev.status).toBe(200);
    expect(ev.body.content.body).toBe("original");
    const replace = ev.body.unsigned["m.relations"]["m.replace"];
    expect(replace.event_id).toBe(latest);
    expect(replace.content["m.new_content"].body).toBe("second");

    const messages = await call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=20`, { token: bob.access_token });
    expect(messages.status).toBe(200);
    const served = (messages.body.chunk as { event_id: string; unsigned?: Record<string, any> }[]).find((e) => e.event_id === root);
    expect(served?.unsigned?.["m.relations"]?.["m.replace"]?.event_id).toBe(latest);
  });

  it("summarises threads and references, and drops redacted children", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    await join(carol, roomId);
    const root = await send(alice, roomId, text("root"));
    await send(bob, roomId, text("one", { rel_type: "m.thread", event_id: root }));
    const two = await send(bob, roomId, text("two", { rel_type: "m.thread", event_id: root }));
    const ref = await send(carol, roomId, text("ref", { rel_type: "m.reference", event_id: root }));
    await send(carol, roomId, { "m.relates_to": { rel_type: "m.annotation", event_id: root, key: "👍" } }, "m.reaction");

    const forCarol = (await getEvent(carol, roomId, root)).body.unsigned["m.relations"];
    expect(forCarol["m.thread"]).toMatchObject({ count: 2, current_user_participated: false, latest_event: { event_id: two } });
    expect(forCarol["m.reference"]).toEqual({ chunk: [{ event_id: ref }] });
    expect(forCarol).not.toHaveProperty("m.annotation");
    expect((await getEvent(bob, roomId, root)).body.unsigned["m.relations"]["m.thread"].current_user_participated).toBe(true);

    const redact = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(two)}/r1`, {
      token: bob.access_token,
      body: {},
    });
    expect(redact.status).toBe(200);
    const after = (await getEvent(carol, roomId, root)).body.unsigned["m.relations"]["m.thread"];
    expect(after.count).toBe(1);
    expect(after.latest_event.content.body).toBe("one");
  });

  it("stores a relation to an event of another room without aggregating it", async () => {
    const alice = await registerUser();
    const roomA = await createRoom(alice);
    const roomB = await createRoom(alice);
    const root = await send(alice, roomA, text("in room A"));
    const stray = await send(alice, roomB, text("reply from room B", { rel_type: "m.thread", event_id: root }));
    expect(stray).toMatch(/^\$/);
    expect((await getEvent(alice, roomA, root)).body.unsigned).not.toHaveProperty("m.relations");
    const fromB = await relations(alice, roomB, root);
    expect(fromB.status).toBe(404);
    expect(fromB.body.errcode).toBe("M_NOT_FOUND");
  });
});

describe("GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}", () => {
  it("filters by relation and event type and paginates with next_batch", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const root = await send(alice, roomId, text("root"));
    const replies: string[] = [];
    for (let i = 0; i < 3; i++) replies.push(await send(alice, roomId, text(`r${i}`, { rel_type: "m.thread", event_id: root })));
    const like = await send(alice, roomId, { "m.relates_to": { rel_type: "m.annotation", event_id: root, key: "x" } }, "m.reaction");

    const all = await relations(alice, roomId, root);
    expect(all.status).toBe(200);
    expect(ids(all.body.chunk)).toEqual([like, replies[2], replies[1], replies[0]]);
    expect(all.body).not.toHaveProperty("next_batch");
    expect(all.body).not.toHaveProperty("prev_batch");
    expect(all.body).not.toHaveProperty("recursion_depth");

    expect(ids((await relations(alice, roomId, root, "/m.thread")).body.chunk)).toEqual([replies[2], replies[1], replies[0]]);
    expect(ids((await relations(alice, roomId, root, "/m.annotation/m.reaction")).body.chunk)).toEqual([like]);
    expect((await relations(alice, roomId, root, "/m.annotation/m.room.message")).body.chunk).toEqual([]);

    const p1 = await relations(alice, roomId, root, "/m.thread", "limit=2");
    expect(ids(p1.body.chunk)).toEqual([replies[2], replies[1]]);
    expect(typeof p1.body.next_batch).toBe("string");
    const p2 = await relations(alice, roomId, root, "/m.thread", `limit=2&from=${encodeURIComponent(p1.body.next_batch)}`);
    expect(ids(p2.body.chunk)).toEqual([replies[0]]);
    expect(p2.body.prev_batch).toBe(p1.body.next_batch);
    expect(p2.body).not.toHaveProperty("next_batch");

    const forward = await relations(alice, roomId, root, "/m.thread", "dir=f&limit=2");
    expect(ids(forward.body.chunk)).toEqual([replies[0], replies[1]]);
  });

  it("follows relations of relations with recurse and reports the depth", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice);
    const root = await send(alice, roomId, text("root"));
    const c1 = await send(alice, roomId, text("c1", { rel_type: "m.reference", event_id: root }));
    const c2 = await send(alice, roomId, text("c2", { rel_type: "m.reference", event_id: c1 }));
    const c3 = await send(alice, roomId, text("c3", { rel_type: "m.reference", event_id: c2 }));
    await send(alice, roomId, text("c4", { rel_type: "m.reference", event_id: c3 }));

    const deep = await relations(alice, roomId, root, "", "recurse=true");
    expect(ids(deep.body.chunk)).toEqual([c3, c2, c1]);
    expect(deep.body.recursion_depth).toBe(3);
    const flat = await relations(alice, roomId, root, "", "recurse=false");
    expect(ids(flat.body.chunk)).toEqual([c1]);
    expect(flat.body.recursion_depth).toBe(1);
  });

  it("answers 403 outside the room, 404 for unknown or hidden events, 400 for bad parameters", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice, { preset: "private_chat" });
    const root = await send(alice, roomId, text("root"));

    const outsider = await relations(eve, roomId, root);
    expect(outsider.status).toBe(403);
    expect(outsider.body.errcode).toBe("M_FORBIDDEN");
    const unknown = await relations(alice, roomId, "$nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    for (const query of ["limit=0", "limit=abc", "dir=x", "recurse=yes", "from=garbage"]) {
      const bad = await relations(alice, roomId, root, "", query);
      expect(bad.status, query).toBe(400);
      expect(bad.body.errcode, query).toBe("M_INVALID_PARAM");
    }
  });
});

describe("GET /_matrix/client/v1/rooms/{roomId}/threads", () => {
  it("lists thread roots by latest activity, with bundles, filtered by participation and paginated", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(alice);
    await join(bob, roomId);
    const a = await send(alice, roomId, text("thread a"));
    const b = await send(alice, roomId, text("thread b"));
    await send(alice, roomId, text("plain"));
    await send(alice, roomId, text("a1", { rel_type: "m.thread", event_id: a }));
    await send(bob, roomId, text("b1", { rel_type: "m.thread", event_id: b }));
    const a2 = await send(alice, roomId, text("a2", { rel_type: "m.thread", event_id: a }));

    const all = await threads(bob, roomId);
    expect(all.status).toBe(200);
    expect(ids(all.body.chunk)).toEqual([a, b]);
    expect(all.body.chunk[0].unsigned["m.relations"]["m.thread"]).toMatchObject({ count: 2, latest_event: { event_id: a2 }, current_user_participated: false });
    expect(all.body).not.toHaveProperty("next_batch");

    expect(ids((await threads(bob, roomId, "include=participated")).body.chunk)).toEqual([b]);

    const p1 = await threads(bob, roomId, "limit=1");
    expect(ids(p1.body.chunk)).toEqual([a]);
    const p2 = await threads(bob, roomId, `limit=1&from=${encodeURIComponent(p1.body.next_batch)}`);
    expect(ids(p2.body.chunk)).toEqual([b]);
    expect(p2.body).not.toHaveProperty("next_batch");
  });

  it("answers 403 outside the room and 400 for bad parameters", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = await createRoom(alice, { preset: "private_chat" });
    const outsider = await threads(eve, roomId);
    expect(outsider.status).toBe(403);
    expect(outsider.body.errcode).toBe("M_FORBIDDEN");
    for (const query of ["limit=0", "include=mine", "from=garbage"]) {
      const bad = await threads(alice, roomId, query);
      expect(bad.status, query).toBe(400);
      expect(bad.body.errcode, query).toBe("M_INVALID_PARAM");
    }
  });
});
