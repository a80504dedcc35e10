/**
 * Ignoring users (spec: Client-Server § Ignoring Users): once in `m.ignored_user_list`, a user's
 * events (except state events) and invites stop reaching the ignoring user's syncs, and don't
 * notify; a fresh sync after un-ignoring shows them again.
 */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";
import { createRoom, enc, joinOk, putState, sendOk, type TestUser } from "./room-helpers";
import { SlidingConnection } from "./sliding-sync-helpers";

async function sync(user: TestUser, query = ""): Promise<any> {
  const res = await call("GET", `/_matrix/client/v3/sync${query}`, { token: user.access_token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function syncUntil(user: TestUser, pred: (body: any) => boolean): Promise<any> {
  const deadline = Date.now() + 8000;
  let body: any;
  do {
    body = await sync(user);
    if (pred(body)) return body;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new Error(`condition not met; last body ${JSON.stringify(body)}`);
}

function ignore(user: TestUser, ignored: string[]) {
  const content = { ignored_users: Object.fromEntries(ignored.map((u) => [u, {}])) };
  return call("PUT", `/_matrix/client/v3/user/${enc(user.user_id)}/account_data/m.ignored_user_list`, { token: user.access_token, body: content });
}

const bodies = (room: any) => (Array.isArray(room?.timeline) ? room.timeline : (room?.timeline?.events ?? [])).filter((e: any) => e.type === "m.room.message").map((e: any) => e.content.body);

describe("ignoring users", () => {
  it("hides the ignored user's messages but not their state events, doesn't count them, and shows them again after un-ignoring", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const carol = await registerUser();
    const roomId = await createRoom(alice, { preset: "public_chat", name: "Before" });
    await joinOk(bob, roomId);
    await joinOk(carol, roomId);
    expect((await ignore(bob, [alice.user_id])).status).toBe(200);

    await sendOk(alice, roomId, "from alice");
    await putState(alice, roomId, "m.room.name", { name: "Renamed by alice" });
    await sendOk(carol, roomId, "from carol");

    const seen = await syncUntil(bob, (b) => bodies(b.rooms?.join?.[roomId]).includes("from carol"));
    const room = seen.rooms.join[roomId];
    expect(bodies(room)).toEqual(["from carol"]);
    // The rename is still there: the newest m.room.name, timeline after state.
    const names = [...room.state.events, ...room.timeline.events].filter((e: any) => e.type === "m.room.name");
    expect(names.at(-1)?.content.name).toBe("Renamed by alice");
    // Only Carol's message notifies Bob.
    expect(room.unread_notifications.notification_count).toBe(1);

    expect((await ignore(bob, [])).status).toBe(200);
    const fresh = await syncUntil(bob, (b) => bodies(b.rooms?.join?.[roomId]).includes("from alice"));
    expect(bodies(fresh.rooms.join[roomId])).toEqual(["from alice", "from carol"]);
  });

  it("doesn't show invites from an ignored user", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const dave = await registerUser();
    expect((await ignore(bob, [alice.user_id])).status).toBe(200);
    const fromAlice = await createRoom(alice, { invite: [bob.user_id] });
    const fromDave = await createRoom(dave, { invite: [bob.user_id] });
    const body = await syncUntil(bob, (b) => Boolean(b.rooms?.invite?.[fromDave]));
    expect(body.rooms.invite[fromAlice]).toBeUndefined();

    const sliding = new SlidingConnection(bob.access_token, { lists: { all: { ranges: [[0, 10]], timeline_limit: 5, required_state: [] } } });
    const listed = await sliding.until((b) => Boolean(b.rooms?.[fromDave]));
    expect(listed.rooms[fromAlice]).toBeUndefined();
    expect(listed.lists.all.count).toBe(1);
  });

  it("sliding sync leaves the ignored user's messages out of the timeline", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const roomId = await createRoom(bob, { preset: "public_chat" });
    await joinOk(alice, roomId);
    expect((await ignore(bob, [alice.user_id])).status).toBe(200);
    await sendOk(alice, roomId, "from alice");
    await sendOk(bob, roomId, "from bob");
    const sliding = new SlidingConnection(bob.access_token, { lists: { all: { ranges: [[0, 10]], timeline_limit: 10, required_state: [] } } });
    const body = await sliding.until((b) => bodies(b.rooms?.[roomId]).includes("from bob"));
    expect(bodies(body.rooms[roomId])).toEqual(["from bob"]);
  });
});
