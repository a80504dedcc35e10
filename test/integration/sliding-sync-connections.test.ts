/**
 * Simplified sliding sync (MSC4186): connection state (`pos`, `conn_id`, M_UNKNOWN_POS), room
 * subscriptions, list filters and request validation.
 */
import { describe, expect, it } from "vitest";
import { call, loginOk, registerUser } from "./helpers";
import { createRoom, putState, sendOk, targetAction } from "./room-helpers";
import { listBody, SlidingConnection, slidingRaw, texts } from "./sliding-sync-helpers";

describe("sliding sync: connections", () => {
  it("answers 400 M_UNKNOWN_POS for a pos it never gave, gave another connection, or that was superseded", async () => {
    const alice = await registerUser();
    await createRoom(alice, { name: "Pos" });
    const unknown = await slidingRaw(alice.access_token, listBody([[0, 0]]), { pos: "999999" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errcode).toBe("M_UNKNOWN_POS");

    const malformed = await slidingRaw(alice.access_token, listBody([[0, 0]]), { pos: "not-a-pos" });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errcode).toBe("M_INVALID_PARAM");

    const conn = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "room-list" });
    const first = await conn.next();
    const elsewhere = await slidingRaw(alice.access_token, { ...listBody([[0, 0]]), conn_id: "encryption" }, { pos: first.pos });
    expect(elsewhere.body.errcode).toBe("M_UNKNOWN_POS");

    // The same pos from another device (another login) is not that connection either.
    const other = await loginOk(alice.username);
    const otherDevice = await slidingRaw(other.access_token, { ...listBody([[0, 0]]), conn_id: "room-list" }, { pos: first.pos });
    expect(otherDevice.body.errcode).toBe("M_UNKNOWN_POS");

    // Until the client uses the next pos it may retry this one; once it has, this one is gone.
    await conn.next();
    await conn.next();
    const stale = await slidingRaw(alice.access_token, { ...listBody([[0, 0]]), conn_id: "room-list" }, { pos: first.pos });
    expect(stale.status).toBe(400);
    expect(stale.body.errcode).toBe("M_UNKNOWN_POS");
  });

  it("a retried pos gets the same news again (the first response may have been lost)", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Retry" });
    const conn = new SlidingConnection(alice.access_token, listBody([[0, 0]]));
    await conn.until((r) => r.rooms?.[roomId] !== undefined);
    const pos = conn.pos!;
    await sendOk(alice, roomId, "maybe lost");
    const firstTry = await conn.until((r) => texts(r.rooms?.[roomId]).includes("maybe lost"));
    expect(firstTry.pos).not.toBe(pos);
    const retry = await slidingRaw(alice.access_token, listBody([[0, 0]]), { pos });
    expect(retry.status).toBe(200);
    expect(texts(retry.body.rooms[roomId])).toEqual(["maybe lost"]);
  });

  it("keeps connections of one device apart by conn_id", async () => {
    const alice = await registerUser();
    const roomId = await createRoom(alice, { name: "Two connections" });
    const a = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "a" });
    const b = new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "b" });
    await a.until((r) => r.rooms?.[roomId] !== undefined);
    await sendOk(alice, roomId, "news");
    await a.until((r) => texts(r.rooms?.[roomId]).includes("news"));
    // b never saw the room: it gets it whole, with the news in its timeline.
    const first = await b.until((r) => r.rooms?.[roomId] !== undefined);
    expect(first.rooms[roomId].initial).toBe(true);
    expect(texts(first.rooms[roomId])).toEqual(["news"]);
    // a starting over (no pos) gets the room again as initial; b is untouched.
    const restarted = await new SlidingConnection(alice.access_token, { ...listBody([[0, 0]]), conn_id: "a" }).next();
    expect(restarted.rooms[roomId].initial).toBe(true);
    const bQuiet = await b.next(100);
    expect(bQuiet.rooms ?? {}).toEqual({});
  });

  it("echoes txn_id", async () => {
    const alice = await registerUser();
    const res = await slidingRaw(alice.access_token, { ...listBody([[0, 0]]), txn_id: "txn-1" });
    expect(res.status).toBe(200);
    expect(res.body.txn_id).toBe("txn-1");
    expect(typeof res.body.pos).toBe("string");
  });
});

describe("sliding sync: room subscriptions", () => {
  it("sends a subscribed room outside every range with its own config, and ignores rooms the user is not in", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const old = await createRoom(alice, { name: "Old" });
    await sendOk(alice, old, "old message");
    await createRoom(alice, { name: "Newer" });
    const foreign = await createRoom(bob, { name: "Not yours" });
    const conn = new SlidingConnection(alice.access_token, {
      ...listBody([[0, 0]], {}, 0),
      room_subscriptions: { [old]: { required_state: [["m.room.name", ""]], timeline_limit: 1 }, [foreign]: { required_state: [], timeline_limit: 1 } },
    });
    const body = await conn.until((r) => r.rooms?.[old] !== undefined && r.lists.all_rooms.count === 2);
    expect(texts(body.rooms[old])).toEqual(["old message"]);
    expect(body.rooms[old].required_state.map((e: any) => e.type)).toEqual(["m.room.name"]);
    expect(body.rooms[foreign]).toBeUndefined();
  });
});

describe("sliding sync: list filters", () => {
  it("filters by is_dm, is_encrypted, is_invite, spaces, room_types and not_room_types", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const dm = await createRoom(alice, { name: "DM" });
    const encrypted = await createRoom(alice, { name: "Secret", initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }] });
    const space = await createRoom(alice, { name: "Space", creation_content: { type: "m.space" } });
    const child = await createRoom(alice, { name: "Child" });
    await putState(alice, space, "m.space.child", { via: ["example.org"] }, child);
    const invite = await createRoom(bob, { name: "Invite" });
    expect((await targetAction(bob, invite, "invite", alice.user_id)).status).toBe(200);
    await call("PUT", `/_matrix/client/v3/user/${encodeURIComponent(alice.user_id)}/account_data/m.direct`, { token: alice.access_token, body: { [bob.user_id]: [dm] } });

    const list = (filters: Record<string, unknown>) => ({ ranges: [[0, 20]], required_state: [], timeline_limit: 0, filters });
    const conn = new SlidingConnection(alice.access_token, {
      lists: {
        dms: list({ is_dm: true }),
        not_dms: list({ is_dm: false }),
        encrypted: list({ is_encrypted: true }),
        invites: list({ is_invite: true }),
        in_space: list({ spaces: [space] }),
        spaces: list({ room_types: ["m.space"] }),
        not_spaces: list({ not_room_types: ["m.space"] }),
      },
    });
    const inList = (body: any, name: string, roomId: string) => body.lists[name].count > 0 && Object.keys(body.rooms).includes(roomId);
    const body = await conn.until((r) => r.lists?.invites?.count === 1 && r.lists.dms.count === 1 && r.lists.in_space.count === 1);
    expect(body.lists.dms.count).toBe(1);
    expect(body.lists.not_dms.count).toBe(4);
    expect(body.lists.encrypted.count).toBe(1);
    expect(body.lists.spaces.count).toBe(1);
    expect(body.lists.not_spaces.count).toBe(4);
    expect(inList(body, "invites", invite)).toBe(true);
    expect(inList(body, "encrypted", encrypted)).toBe(true);

    // Each list alone: which room it holds.
    const only = async (name: string, filters: Record<string, unknown>) => {
      const res = await slidingRaw(alice.access_token, { conn_id: name, lists: { [name]: list(filters) } });
      return Object.keys(res.body.rooms ?? {});
    };
    expect(await only("d", { is_dm: true })).toEqual([dm]);
    expect(await only("e", { is_encrypted: true })).toEqual([encrypted]);
    expect(await only("i", { is_invite: true })).toEqual([invite]);
    expect(await only("s", { spaces: [space] })).toEqual([child]);
    expect(await only("t", { room_types: ["m.space"] })).toEqual([space]);
    expect((await only("n", { not_room_types: ["m.space"] })).sort()).toEqual([dm, encrypted, child, invite].sort());
  });
});

describe("sliding sync: request validation", () => {
  it("refuses malformed requests with Matrix errors", async () => {
    const alice = await registerUser();
    const backwards = await slidingRaw(alice.access_token, { lists: { l: { ranges: [[5, 1]], required_state: [], timeline_limit: 1 } } });
    expect(backwards.status).toBe(400);
    expect(backwards.body.errcode).toBe("M_BAD_JSON");
    const noLimit = await slidingRaw(alice.access_token, { lists: { l: { ranges: [[0, 1]], required_state: [] } } });
    expect(noLimit.body.errcode).toBe("M_BAD_JSON");
    const badPair = await slidingRaw(alice.access_token, { lists: { l: { ranges: [[0, 1]], required_state: [["m.room.name"]], timeline_limit: 1 } } });
    expect(badPair.body.errcode).toBe("M_BAD_JSON");
    const tags = await slidingRaw(alice.access_token, { lists: { l: { ranges: [[0, 1]], required_state: [], timeline_limit: 1, filters: { tags: ["m.favourite"] } } } });
    expect(tags.status).toBe(400);
    expect(tags.body.errcode).toBe("M_UNRECOGNIZED");
    const since = await slidingRaw(alice.access_token, { extensions: { to_device: { enabled: true, since: "abc" } } });
    expect(since.body.errcode).toBe("M_BAD_JSON");
    const timeout = await slidingRaw(alice.access_token, {}, { timeout: -1 as number });
    expect(timeout.body.errcode).toBe("M_INVALID_PARAM");
    const anonymous = await call("POST", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", { body: {} });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errcode).toBe("M_MISSING_TOKEN");
    const notJson = await call("POST", "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", { token: alice.access_token, rawBody: "{" });
    expect(notJson.body.errcode).toBe("M_NOT_JSON");
  });
});
