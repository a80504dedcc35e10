/** The published room directory (spec: Client-Server § Published room directory): /publicRooms and /directory/list/room. */
import { describe, expect, it } from "vitest";
import { call, registerUser, testEnv, uniqueName } from "./helpers";

type User = Awaited<ReturnType<typeof registerUser>>;

const room = (roomId: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
const listPath = (roomId: string) => `/_matrix/client/v3/directory/list/room/${encodeURIComponent(roomId)}`;

async function createRoom(user: User, body: Record<string, unknown> = {}): Promise<string> {
  const res = await call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body });
  if (res.status !== 200) throw new Error(`createRoom: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.room_id as string;
}

async function join(user: User, roomId: string): Promise<void> {
  const res = await call("POST", `${room(roomId)}/join`, { token: user.access_token, body: {} });
  if (res.status !== 200) throw new Error(`join: ${res.status} ${JSON.stringify(res.body)}`);
}

function search(user: User, term: string, extra: Record<string, unknown> = {}) {
  return call("POST", "/_matrix/client/v3/publicRooms", { token: user.access_token, body: { filter: { generic_search_term: term }, ...extra } });
}

/** Three published public rooms named after `term`, with 3, 2 and 1 joined members. */
async function directoryFixture() {
  const term = uniqueName("dir");
  const [alice, bob, carol] = [await registerUser(), await registerUser(), await registerUser()];
  const aliasLocal = uniqueName("biggest");
  const big = await createRoom(alice, { visibility: "public", preset: "public_chat", name: `${term} big`, topic: "the largest", room_alias_name: aliasLocal });
  const mid = await createRoom(alice, { visibility: "public", preset: "public_chat", name: `${term} mid` });
  const small = await createRoom(alice, { visibility: "public", preset: "public_chat", name: `${term} small` });
  await join(bob, big);
  await join(carol, big);
  await join(bob, mid);
  return { term, alice, bob, carol, big, mid, small, alias: `#${aliasLocal}:test.local` };
}

describe("public room directory", () => {
  it("lists published public rooms by joined members, with their summaries", async () => {
    const f = await directoryFixture();
    // Neither an unpublished room nor a published invite-only room appears.
    await createRoom(f.alice, { visibility: "private", preset: "public_chat", name: `${f.term} unpublished` });
    await createRoom(f.alice, { visibility: "public", preset: "private_chat", name: `${f.term} invite only` });

    const res = await search(f.alice, f.term);
    expect(res.status).toBe(200);
    expect(res.body.chunk.map((r: any) => r.room_id)).toEqual([f.big, f.mid, f.small]);
    expect(res.body.total_room_count_estimate).toBe(3);
    expect(res.body.next_batch).toBeUndefined();
    expect(res.body.prev_batch).toBeUndefined();
    expect(res.body.chunk[0]).toEqual({
      room_id: f.big,
      name: `${f.term} big`,
      topic: "the largest",
      canonical_alias: f.alias,
      num_joined_members: 3,
      world_readable: false,
      guest_can_join: false,
      join_rule: "public",
    });
    expect(res.body.chunk.map((r: any) => r.num_joined_members)).toEqual([3, 2, 1]);
  });

  it("matches the search term against name, topic and canonical alias, case-insensitively", async () => {
    const f = await directoryFixture();
    expect((await search(f.alice, f.term.toUpperCase())).body.chunk).toHaveLength(3);
    const byTopic = await search(f.alice, "THE LARGEST");
    expect(byTopic.body.chunk.map((r: any) => r.room_id)).toContain(f.big);
    const byAlias = await search(f.alice, f.alias.slice(1, -":test.local".length));
    expect(byAlias.body.chunk.map((r: any) => r.room_id)).toEqual([f.big]);
    // LIKE wildcards in the term are literal characters.
    expect((await search(f.alice, `${f.term.slice(0, 3)}%${f.term.slice(4)}`)).body.chunk).toEqual([]);
    // The directory follows the rooms' state.
    await call("PUT", `${room(f.small)}/state/m.room.name/`, { token: f.alice.access_token, body: { name: "renamed" } });
    const after = await search(f.alice, f.term);
    expect(after.body.chunk.map((r: any) => r.room_id)).toEqual([f.big, f.mid]);
  });

  it("pages with stable since tokens in both directions", async () => {
    const f = await directoryFixture();
    const first = await search(f.alice, f.term, { limit: 1 });
    expect(first.body.chunk.map((r: any) => r.room_id)).toEqual([f.big]);
    expect(first.body.prev_batch).toBeUndefined();
    expect(first.body.total_room_count_estimate).toBe(3);
    expect(typeof first.body.next_batch).toBe("string");

    const second = await search(f.alice, f.term, { limit: 1, since: first.body.next_batch });
    expect(second.body.chunk.map((r: any) => r.room_id)).toEqual([f.mid]);
    expect(typeof second.body.prev_batch).toBe("string");

    const back = await search(f.alice, f.term, { limit: 1, since: second.body.prev_batch });
    expect(back.body.chunk.map((r: any) => r.room_id)).toEqual([f.big]);
    expect(back.body.prev_batch).toBeUndefined();
    expect(typeof back.body.next_batch).toBe("string");
    const forwardAgain = await search(f.alice, f.term, { limit: 1, since: back.body.next_batch });
    expect(forwardAgain.body.chunk.map((r: any) => r.room_id)).toEqual([f.mid]);

    // A room joining the directory ahead of the position between pages doesn't shift the rest
    // (an offset would show Mid twice).
    const newcomer = await createRoom(f.alice, { visibility: "public", preset: "public_chat", name: `${f.term} newcomer` });
    await join(f.bob, newcomer);
    await join(f.carol, newcomer);
    const third = await search(f.alice, f.term, { limit: 1, since: second.body.next_batch });
    expect(third.body.chunk.map((r: any) => r.room_id)).toEqual([f.small]);
    expect(third.body.next_batch).toBeUndefined();

    // Walking to the end visits every room once.
    const seen: string[] = [];
    let since: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await search(f.alice, f.term, { limit: 2, ...(since ? { since } : {}) });
      seen.push(...page.body.chunk.map((r: any) => r.room_id));
      since = page.body.next_batch;
      if (!since) break;
    }
    expect(seen).toEqual([...[f.big, newcomer].sort(), f.mid, f.small]);
  });

  it("serves GET /publicRooms without authentication and validates its parameters", async () => {
    const f = await directoryFixture();
    const res = await call("GET", "/_matrix/client/v3/publicRooms?limit=500");
    expect(res.status).toBe(200);
    const ids = res.body.chunk.map((r: any) => r.room_id);
    // GET has no filter; the fixture's rooms are somewhere in the list, in order.
    const idx = [f.big, f.mid, f.small].map((id) => ids.indexOf(id));
    expect(idx.every((i: number) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    for (let i = 1; i < res.body.chunk.length; i++) {
      expect(res.body.chunk[i - 1].num_joined_members).toBeGreaterThanOrEqual(res.body.chunk[i].num_joined_members);
    }
    const limited = await call("GET", "/_matrix/client/v3/publicRooms?limit=1");
    expect(limited.body.chunk).toHaveLength(1);
    expect(typeof limited.body.next_batch).toBe("string");
    const next = await call("GET", `/_matrix/client/v3/publicRooms?limit=1&since=${encodeURIComponent(limited.body.next_batch)}`);
    expect(next.status).toBe(200);
    expect(next.body.chunk[0].room_id).not.toBe(limited.body.chunk[0].room_id);

    for (const q of ["limit=-1", "limit=abc", "since=garbage", `since=${encodeURIComponent(btoa('["x",1,"!a:b"]'))}`]) {
      const bad = await call("GET", `/_matrix/client/v3/publicRooms?${q}`);
      expect(bad.status, q).toBe(400);
      expect(bad.body.errcode, q).toBe("M_INVALID_PARAM");
    }
    const badBody = await call("POST", "/_matrix/client/v3/publicRooms", { token: f.alice.access_token, body: { limit: "ten" } });
    expect(badBody.status).toBe(400);
    expect(badBody.body.errcode).toBe("M_BAD_JSON");
    const unauthenticatedPost = await call("POST", "/_matrix/client/v3/publicRooms", { body: {} });
    expect(unauthenticatedPost.status).toBe(401);
  });

  it("filters by room type, with null for rooms without one", async () => {
    const f = await directoryFixture();
    const space = await createRoom(f.alice, { visibility: "public", preset: "public_chat", name: `${f.term} space`, creation_content: { type: "m.space" } });
    const spaces = await search(f.alice, f.term, { filter: { generic_search_term: f.term, room_types: ["m.space"] } });
    expect(spaces.body.chunk.map((r: any) => r.room_id)).toEqual([space]);
    expect(spaces.body.chunk[0].room_type).toBe("m.space");
    expect(spaces.body.total_room_count_estimate).toBe(1);
    const plain = await search(f.alice, f.term, { filter: { generic_search_term: f.term, room_types: [null] } });
    expect(plain.body.chunk.map((r: any) => r.room_id)).toEqual([f.big, f.mid, f.small]);
    const both = await search(f.alice, f.term, { filter: { generic_search_term: f.term, room_types: [null, "m.space"] } });
    expect(both.body.chunk).toHaveLength(4);
  });

  it("lists only this server's Matrix directory", async () => {
    const f = await directoryFixture();
    const local = await call("POST", "/_matrix/client/v3/publicRooms?server=test.local", { token: f.alice.access_token, body: { filter: { generic_search_term: f.term } } });
    expect(local.body.chunk).toHaveLength(3);
    const allNetworks = await search(f.alice, f.term, { include_all_networks: true });
    expect(allNetworks.body.chunk).toHaveLength(3);

    const remote = await call("POST", "/_matrix/client/v3/publicRooms?server=elsewhere.example", { token: f.alice.access_token, body: {} });
    expect(remote.status).toBe(403);
    expect(remote.body.errcode).toBe("M_FORBIDDEN");
    const remoteGet = await call("GET", "/_matrix/client/v3/publicRooms?server=elsewhere.example");
    expect(remoteGet.status).toBe(403);

    // No bridged networks exist, so none has rooms.
    const network = await search(f.alice, f.term, { third_party_instance_id: "irc-freenode" });
    expect(network.status).toBe(200);
    expect(network.body.chunk).toEqual([]);
    const conflicting = await search(f.alice, f.term, { third_party_instance_id: "irc-freenode", include_all_networks: true });
    expect(conflicting.status).toBe(400);
    expect(conflicting.body.errcode).toBe("M_INVALID_PARAM");
  });
});

describe("room directory visibility", () => {
  it("reads and changes a room's visibility with the right power", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const eve = await registerUser();
    const term = uniqueName("vis");
    const roomId = await createRoom(alice, { preset: "public_chat", name: term });
    await join(bob, roomId);

    const initial = await call("GET", listPath(roomId));
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({ visibility: "private" });
    expect((await search(alice, term)).body.chunk).toEqual([]);

    // Bob is a member without the power to change the canonical alias; Eve isn't a member.
    for (const user of [bob, eve]) {
      const refused = await call("PUT", listPath(roomId), { token: user.access_token, body: { visibility: "public" } });
      expect(refused.status).toBe(403);
      expect(refused.body.errcode).toBe("M_FORBIDDEN");
    }
    expect((await call("GET", listPath(roomId))).body.visibility).toBe("private");

    // The body's visibility defaults to public.
    expect((await call("PUT", listPath(roomId), { token: alice.access_token, body: {} })).status).toBe(200);
    expect((await call("GET", listPath(roomId))).body.visibility).toBe("public");
    expect((await search(alice, term)).body.chunk.map((r: any) => r.room_id)).toEqual([roomId]);

    // Power to change the canonical alias is what counts.
    await call("PUT", `${room(roomId)}/state/m.room.power_levels/`, {
      token: alice.access_token,
      body: { users: { [alice.user_id]: 100 }, events: { "m.room.canonical_alias": 0 }, state_default: 50 },
    });
    expect((await call("PUT", listPath(roomId), { token: bob.access_token, body: { visibility: "private" } })).status).toBe(200);
    expect((await call("GET", listPath(roomId))).body.visibility).toBe("private");
    expect((await search(alice, term)).body.chunk).toEqual([]);

    // A server admin may change it without being in the room.
    await testEnv.DB.prepare("UPDATE users SET is_admin = 1 WHERE user_id = ?").bind(eve.user_id).run();
    expect((await call("PUT", listPath(roomId), { token: eve.access_token, body: { visibility: "public" } })).status).toBe(200);
    expect((await call("GET", listPath(roomId))).body.visibility).toBe("public");
  });

  it("answers 404 for unknown rooms and validates the body", async () => {
    const alice = await registerUser();
    const unknown = `!${uniqueName()}:test.local`;
    const get = await call("GET", listPath(unknown));
    expect(get.status).toBe(404);
    expect(get.body.errcode).toBe("M_NOT_FOUND");
    const put = await call("PUT", listPath(unknown), { token: alice.access_token, body: { visibility: "public" } });
    expect(put.status).toBe(404);
    expect(put.body.errcode).toBe("M_NOT_FOUND");
    const roomId = await createRoom(alice);
    const bad = await call("PUT", listPath(roomId), { token: alice.access_token, body: { visibility: "everyone" } });
    expect(bad.status).toBe(400);
    expect(bad.body.errcode).toBe("M_BAD_JSON");
    expect((await call("PUT", listPath(roomId), { body: { visibility: "public" } })).status).toBe(401);
  });
});
