/** GET /_matrix/client/v1/rooms/{roomId}/hierarchy (spec: Client-Server § Spaces). */
import { describe, expect, it } from "vitest";
import { call, registerUser, sleep, testEnv, uniqueName } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

const room = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;

async function createRoom(user: User, body: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body });
  if (res.status !== 200) throw new Error(`createRoom: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: User, roomId: string): Promise<void> {
  const res = await call("POST", `${room(roomId)}/join`, { token: user.access_token, body: {} });
  if (res.status !== 200) throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
}

async function putState(user: User, roomId: string, type: string, key: string, content: Record<string, unknown>): Promise<void> {
  const res = await call("PUT", `${room(roomId)}/state/${type}/${encodeURIComponent(key)}`, { token: user.access_token, body: content });
  if (res.status !== 200) throw new Error(`state: ${res.status} ${JSON.stringify(res.body)}`);
}

function hierarchy(user: User, roomId: string, query = "") {
  return call("GET", `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/hierarchy${query ? `?${query}` : ""}`, { token: user.access_token });
}

const ids = (res: { body: any }) => res.body.rooms.map((r: any) => r.room_id);

/**
 * space (public)
 * ├── sub (public space, order "a")
 * │   └── deep (public)
 * ├── open (public, order "b", suggested)
 * ├── secret (invite-only, order "c")
 * ├── restricted (restricted to members of `space`, no order)
 * └── (an m.space.child without `via`: not a child)
 */
async function spaceFixture() {
  const alice = await registerUser();
  const term = uniqueName("space");
  const space = await createRoom(alice, { preset: "public_chat", name: `${term} root`, topic: "the root", creation_content: { type: "m.space" } });
  const sub = await createRoom(alice, { preset: "public_chat", name: "sub", creation_content: { type: "m.space" } });
  const deep = await createRoom(alice, { preset: "public_chat", name: "deep" });
  const open = await createRoom(alice, { preset: "public_chat", name: "open" });
  const secret = await createRoom(alice, { preset: "private_chat", name: "secret" });
  const restricted = await createRoom(alice, { preset: "private_chat", name: "restricted" });
  const notChild = await createRoom(alice, { preset: "public_chat", name: "not a child" });
  await putState(alice, restricted, "m.room.join_rules", "", { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: space }] });
  const via = ["test.local"];
  // Sent against the `order` values, so that only `order` can explain the listed order.
  await putState(alice, space, "m.space.child", restricted, { via });
  await putState(alice, space, "m.space.child", secret, { via, order: "c" });
  await putState(alice, space, "m.space.child", open, { via, order: "b", suggested: true });
  await putState(alice, space, "m.space.child", sub, { via, order: "a" });
  await putState(alice, space, "m.space.child", notChild, { order: "0" });
  await putState(alice, sub, "m.space.child", deep, { via });
  // m.space.child in a room that isn't a space means nothing.
  await putState(alice, open, "m.space.child", notChild, { via });
  return { alice, space, sub, deep, open, secret, restricted, notChild };
}

describe("space hierarchy", () => {
  it("walks the space depth-first in the spec's child order, listing the rooms the user may see", async () => {
    const f = await spaceFixture();
    const bob = await registerUser();
    await join(bob, f.space);

    const res = await hierarchy(bob, f.space);
    expect(res.status).toBe(200);
    // secret is invite-only and Bob isn't invited; restricted lets members of the space in.
    expect(ids(res)).toEqual([f.space, f.sub, f.deep, f.open, f.restricted]);
    expect(res.body.next_batch).toBeUndefined();

    const root = res.body.rooms[0];
    expect(root).toMatchObject({
      room_id: f.space,
      topic: "the root",
      room_type: "m.space",
      join_rule: "public",
      num_joined_members: 2,
      world_readable: false,
      guest_can_join: false,
    });
    // children_state: the valid m.space.child events as stripped state with origin_server_ts, in order.
    expect(root.children_state.map((c: any) => c.state_key)).toEqual([f.sub, f.open, f.secret, f.restricted]);
    for (const child of root.children_state) {
      expect(Object.keys(child).sort()).toEqual(["content", "origin_server_ts", "sender", "state_key", "type"]);
      expect(child.type).toBe("m.space.child");
      expect(child.sender).toBe(f.alice.user_id);
      expect(typeof child.origin_server_ts).toBe("number");
    }
    expect(root.children_state[1].content).toEqual({ via: ["test.local"], order: "b", suggested: true });

    const restricted = res.body.rooms.find((r: any) => r.room_id === f.restricted);
    expect(restricted.join_rule).toBe("restricted");
    expect(restricted.allowed_room_ids).toEqual([f.space]);
    expect(restricted.children_state).toEqual([]);
    // A room that isn't a space has no children, even with m.space.child events.
    const open = res.body.rooms.find((r: any) => r.room_id === f.open);
    expect(open.children_state).toEqual([]);
    expect(ids(res)).not.toContain(f.notChild);
  });

  it("shows members the rooms they are in or invited to, and hides restricted rooms from outsiders", async () => {
    const f = await spaceFixture();
    const carol = await registerUser(); // not in the space: the public space itself is visible
    expect(ids(await hierarchy(carol, f.space))).toEqual([f.space, f.sub, f.deep, f.open]);
    await call("POST", `${room(f.secret)}/invite`, { token: f.alice.access_token, body: { user_id: carol.user_id } });
    expect(ids(await hierarchy(carol, f.space))).toEqual([f.space, f.sub, f.deep, f.open, f.secret]);
    expect(ids(await hierarchy(f.alice, f.space))).toEqual([f.space, f.sub, f.deep, f.open, f.secret, f.restricted]);
  });

  it("orders children by origin_server_ts then room id when they have no valid order", async () => {
    const alice = await registerUser();
    const space = await createRoom(alice, { preset: "public_chat", creation_content: { type: "m.space" } });
    const rooms = [await createRoom(alice, { preset: "public_chat" }), await createRoom(alice, { preset: "public_chat" }), await createRoom(alice, { preset: "public_chat" })];
    // Invalid orders (over 50 characters, non-ASCII) count as none: those sort with the unordered ones, by time.
    await putState(alice, space, "m.space.child", rooms[2]!, { via: ["test.local"], order: "a".repeat(51) });
    await sleep(5); // distinct origin_server_ts
    await putState(alice, space, "m.space.child", rooms[0]!, { via: ["test.local"], order: "aü" });
    await putState(alice, space, "m.space.child", rooms[1]!, { via: ["test.local"], order: "z" });
    const res = await hierarchy(alice, space);
    expect(ids(res)).toEqual([space, rooms[1], rooms[2], rooms[0]]);
  });

  it("honours max_depth and suggested_only", async () => {
    const f = await spaceFixture();
    const rootOnly = await hierarchy(f.alice, f.space, "max_depth=0");
    expect(ids(rootOnly)).toEqual([f.space]);
    expect(rootOnly.body.rooms[0].children_state).toHaveLength(4);

    expect(ids(await hierarchy(f.alice, f.space, "max_depth=1"))).toEqual([f.space, f.sub, f.open, f.secret, f.restricted]);

    const suggested = await hierarchy(f.alice, f.space, "suggested_only=true");
    expect(ids(suggested)).toEqual([f.space, f.open]);
    expect(suggested.body.rooms[0].children_state.map((c: any) => c.state_key)).toEqual([f.open]);
  });

  it("paginates with from tokens whose parameters can't change", async () => {
    const f = await spaceFixture();
    const seen: string[] = [];
    const first = await hierarchy(f.alice, f.space, "limit=2");
    expect(ids(first)).toEqual([f.space, f.sub]);
    expect(typeof first.body.next_batch).toBe("string");
    seen.push(...ids(first));
    let from: string | undefined = first.body.next_batch;
    for (let i = 0; from && i < 10; i++) {
      const page = await hierarchy(f.alice, f.space, `limit=2&from=${encodeURIComponent(from)}`);
      expect(page.status).toBe(200);
      seen.push(...ids(page));
      from = page.body.next_batch;
    }
    expect(from).toBeUndefined();
    expect(seen).toEqual([f.space, f.sub, f.deep, f.open, f.secret, f.restricted]);

    const token = encodeURIComponent(first.body.next_batch);
    // The same token can be used again.
    expect(ids(await hierarchy(f.alice, f.space, `limit=2&from=${token}`))).toEqual([f.deep, f.open]);
    for (const q of [`from=${token}&max_depth=1`, `from=${token}&suggested_only=true`]) {
      const changed = await hierarchy(f.alice, f.space, q);
      expect(changed.status, q).toBe(400);
      expect(changed.body.errcode, q).toBe("M_INVALID_PARAM");
    }
    // A token belongs to its user and its root room.
    const bob = await registerUser();
    const stolen = await hierarchy(bob, f.space, `from=${token}`);
    expect(stolen.status).toBe(400);
    expect(stolen.body.errcode).toBe("M_INVALID_PARAM");
    const elsewhere = await hierarchy(f.alice, f.sub, `from=${token}`);
    expect(elsewhere.status).toBe(400);
    const unknown = await hierarchy(f.alice, f.space, "from=nonsense");
    expect(unknown.status).toBe(400);
    expect(unknown.body.errcode).toBe("M_INVALID_PARAM");

    // Tokens expire.
    await testEnv.DB.prepare("UPDATE hierarchy_pagination SET created_ts = 0 WHERE token = ?").bind(first.body.next_batch).run();
    expect((await hierarchy(f.alice, f.space, `from=${token}`)).status).toBe(400);
  });

  it("refuses a root the user may not see, and bad parameters", async () => {
    const f = await spaceFixture();
    const eve = await registerUser();
    for (const roomId of [f.secret, `!${uniqueName()}:test.local`]) {
      const res = await hierarchy(eve, roomId);
      expect(res.status, roomId).toBe(403);
      expect(res.body.errcode, roomId).toBe("M_FORBIDDEN");
    }
    // A banned user can't look at the space either.
    await call("POST", `${room(f.space)}/ban`, { token: f.alice.access_token, body: { user_id: eve.user_id } });
    expect((await hierarchy(eve, f.space)).status).toBe(403);
    // Unless it is world-readable.
    await putState(f.alice, f.space, "m.room.history_visibility", "", { history_visibility: "world_readable" });
    expect((await hierarchy(eve, f.space)).status).toBe(200);

    for (const q of ["limit=0", "limit=x", "max_depth=-1", "suggested_only=yes"]) {
      const res = await hierarchy(f.alice, f.space, q);
      expect(res.status, q).toBe(400);
      expect(res.body.errcode, q).toBe("M_INVALID_PARAM");
    }
    const unauthenticated = await call("GET", `/_matrix/client/v1/rooms/${encodeURIComponent(f.space)}/hierarchy`);
    expect(unauthenticated.status).toBe(401);
  });

  it("survives cycles and skips children this server doesn't hold", async () => {
    const alice = await registerUser();
    const a = await createRoom(alice, { preset: "public_chat", creation_content: { type: "m.space" } });
    const b = await createRoom(alice, { preset: "public_chat", creation_content: { type: "m.space" } });
    await putState(alice, a, "m.space.child", b, { via: ["test.local"] });
    await putState(alice, b, "m.space.child", a, { via: ["test.local"] });
    await putState(alice, a, "m.space.child", "!remote:elsewhere.example", { via: ["elsewhere.example"] });
    const res = await hierarchy(alice, a);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual([a, b]);
    expect(res.body.next_batch).toBeUndefined();
    expect(res.body.rooms[0].children_state).toHaveLength(2);
  });
});
