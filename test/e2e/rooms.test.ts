/**
 * What users do in rooms with matrix-js-sdk, without /sync (not built yet): create rooms with each
 * preset, invite and join, talk, edit, react, thread, redact, page through history and upgrade a
 * room. Every check reads back what a client would show its user.
 */
import * as sdk from "matrix-js-sdk";
import type { RoomMessageEventContent } from "matrix-js-sdk/lib/@types/events";
import { beforeAll, describe, expect, it } from "vitest";
import { expectMatrixError, registerUser, uniqueUsername, type Account } from "./support/client";
import { sharedServer } from "./support/context";

const { baseUrl, serverName } = sharedServer();

type Event = Partial<sdk.IEvent> & { unsigned?: Record<string, any> };

let alice: Account;
let bob: Account;
let charlie: Account;

beforeAll(async () => {
  [alice, bob, charlie] = await Promise.all([
    registerUser(baseUrl, { username: uniqueUsername("alice") }),
    registerUser(baseUrl, { username: uniqueUsername("bob") }),
    registerUser(baseUrl, { username: uniqueUsername("charlie") }),
  ]);
});

const text = (body: string): RoomMessageEventContent => ({ msgtype: sdk.MsgType.Text, body });

async function send(account: Account, roomId: string, body: string): Promise<string> {
  return (await account.client.sendMessage(roomId, text(body))).event_id;
}

async function createRoom(account: Account, options: sdk.ICreateRoomOpts): Promise<string> {
  const { room_id } = await account.client.createRoom(options);
  // Room version 12 ids are the create event's hash, without a server name.
  const v12 = (options as { room_version?: string }).room_version === "12";
  expect(room_id).toMatch(v12 ? /^![A-Za-z0-9_-]{43}$/ : new RegExp(`^!.+:${serverName.replace(/[.]/g, "\\.")}$`));
  return room_id;
}

/** GET /rooms/{roomId}/members as `account` sees it: user id → membership. */
async function memberships(account: Account, roomId: string): Promise<Record<string, string>> {
  const res = (await account.client.members(roomId)) as unknown as { chunk: Event[] };
  return Object.fromEntries(res.chunk.map((ev) => [ev.state_key!, ev.content!.membership as string]));
}

/** The room's timeline as /messages hands it back page by page in direction `dir`, until `end` runs out. */
async function paginate(account: Account, roomId: string, dir: sdk.Direction, limit: number, from: string | null = null) {
  const pages: Event[][] = [];
  for (let token = from; pages.length < 50; ) {
    const res = await account.client.createMessagesRequest(roomId, token, limit, dir);
    expect(res.chunk.length).toBeLessThanOrEqual(limit);
    if (res.chunk.length) pages.push(res.chunk as Event[]);
    // Spec: `end` is left out when there is nothing further in that direction.
    if (!res.end || res.chunk.length === 0) return pages;
    expect(res.end).not.toBe(token);
    token = res.end;
  }
  throw new Error("pagination did not end after 50 pages");
}

const messageBodies = (events: Event[]) => events.filter((ev) => ev.type === "m.room.message").map((ev) => ev.content!.body as string);

const v1 = { prefix: sdk.ClientPrefix.V1 } as sdk.IRequestOpts;

/** GET /_matrix/client/v1/rooms/{roomId}/threads — the SDK only calls it on v1 once /sync has told it the server supports threads. */
function threads(account: Account, roomId: string, include: "all" | "participated" = "all") {
  return account.client.http.authedRequest<{ chunk: Event[]; next_batch?: string }>(
    sdk.Method.Get,
    `/rooms/${encodeURIComponent(roomId)}/threads`,
    { include, limit: "20" },
    undefined,
    v1,
  );
}

describe("creating rooms with a preset", () => {
  it("public_chat: anyone may join, guests may not, history is shared, the creator alone is admin", async () => {
    const roomId = await createRoom(alice, { preset: sdk.Preset.PublicChat, name: "Town square" });
    const create = await alice.client.getStateEvent(roomId, "m.room.create", "");
    expect(create.room_version).toBe("11"); // the server's default
    expect(await alice.client.getStateEvent(roomId, "m.room.join_rules", "")).toEqual({ join_rule: "public" });
    expect(await alice.client.getStateEvent(roomId, "m.room.history_visibility", "")).toEqual({ history_visibility: "shared" });
    expect(await alice.client.getStateEvent(roomId, "m.room.guest_access", "")).toEqual({ guest_access: "forbidden" });
    expect(await alice.client.getStateEvent(roomId, "m.room.name", "")).toEqual({ name: "Town square" });
    const levels = await alice.client.getStateEvent(roomId, "m.room.power_levels", "");
    expect(levels.users).toEqual({ [alice.userId]: 100 });
    expect(levels).toMatchObject({ users_default: 0, events_default: 0, state_default: 50, ban: 50, kick: 50, redact: 50, invite: 50 });

    // Anyone can walk in without an invite, and then reads the same state.
    expect((await charlie.client.joinRoom(roomId)).roomId).toBe(roomId);
    expect(await memberships(charlie, roomId)).toEqual({ [alice.userId]: "join", [charlie.userId]: "join" });
    expect(await charlie.client.getStateEvent(roomId, "m.room.name", "")).toEqual({ name: "Town square" });
    // At level 0 they may talk but not rename the room.
    await send(charlie, roomId, "hello square");
    await expectMatrixError(charlie.client.setRoomName(roomId, "Charlie's square"), 403, "M_FORBIDDEN");
  });

  it("private_chat: invite only, guests may join, invitees get no power", async () => {
    const roomId = await createRoom(alice, { preset: sdk.Preset.PrivateChat, invite: [bob.userId] });
    expect(await alice.client.getStateEvent(roomId, "m.room.join_rules", "")).toEqual({ join_rule: "invite" });
    expect(await alice.client.getStateEvent(roomId, "m.room.history_visibility", "")).toEqual({ history_visibility: "shared" });
    expect(await alice.client.getStateEvent(roomId, "m.room.guest_access", "")).toEqual({ guest_access: "can_join" });
    const levels = await alice.client.getStateEvent(roomId, "m.room.power_levels", "");
    expect(levels.users).toEqual({ [alice.userId]: 100 });
    expect(await memberships(alice, roomId)).toEqual({ [alice.userId]: "join", [bob.userId]: "invite" });

    // Someone who wasn't invited is turned away; the invitee gets in.
    await expectMatrixError(charlie.client.joinRoom(roomId), 403, "M_FORBIDDEN");
    await bob.client.joinRoom(roomId);
    expect(await memberships(bob, roomId)).toEqual({ [alice.userId]: "join", [bob.userId]: "join" });
    await expectMatrixError(bob.client.setRoomName(roomId, "Bob's room"), 403, "M_FORBIDDEN");
  });

  it("trusted_private_chat in room version 11: invitees are admins like the creator", async () => {
    const roomId = await createRoom(alice, { preset: sdk.Preset.TrustedPrivateChat, room_version: "11", invite: [bob.userId] } as sdk.ICreateRoomOpts);
    expect(await alice.client.getStateEvent(roomId, "m.room.join_rules", "")).toEqual({ join_rule: "invite" });
    expect(await alice.client.getStateEvent(roomId, "m.room.history_visibility", "")).toEqual({ history_visibility: "shared" });
    const levels = await alice.client.getStateEvent(roomId, "m.room.power_levels", "");
    expect(levels.users).toEqual({ [alice.userId]: 100, [bob.userId]: 100 });

    await bob.client.joinRoom(roomId);
    // Bob's admin power is real: he renames the room and may change power levels.
    await bob.client.setRoomName(roomId, "Renamed by Bob");
    expect(await alice.client.getStateEvent(roomId, "m.room.name", "")).toEqual({ name: "Renamed by Bob" });
    await bob.client.sendStateEvent(roomId, sdk.EventType.RoomPowerLevels, { ...levels, users: { ...levels.users, [charlie.userId]: 50 } }, "");
    expect((await alice.client.getStateEvent(roomId, "m.room.power_levels", "")).users[charlie.userId]).toBe(50);
  });

  it("trusted_private_chat in room version 12: invitees become additional creators", async () => {
    const roomId = await createRoom(alice, { preset: sdk.Preset.TrustedPrivateChat, room_version: "12", invite: [bob.userId] } as sdk.ICreateRoomOpts);
    const create = await alice.client.getStateEvent(roomId, "m.room.create", "");
    expect(create).toMatchObject({ room_version: "12", additional_creators: [bob.userId] });
    // v12 creators are above every level and are never listed in `users`.
    const levels = await alice.client.getStateEvent(roomId, "m.room.power_levels", "");
    expect(levels.users ?? {}).not.toHaveProperty(alice.userId);
    expect(levels.users ?? {}).not.toHaveProperty(bob.userId);

    await bob.client.joinRoom(roomId);
    await bob.client.sendStateEvent(roomId, sdk.EventType.RoomPowerLevels, { ...levels, users: { [charlie.userId]: 100 } }, "");
    expect((await alice.client.getStateEvent(roomId, "m.room.power_levels", "")).users).toEqual({ [charlie.userId]: 100 });
  });
});

describe("a conversation between two users", () => {
  let roomId: string;

  beforeAll(async () => {
    roomId = await createRoom(alice, { preset: sdk.Preset.PrivateChat, name: "Alice and Bob" });
  });

  it("alice invites bob, who joins", async () => {
    await alice.client.invite(roomId, bob.userId);
    expect(await memberships(alice, roomId)).toEqual({ [alice.userId]: "join", [bob.userId]: "invite" });
    const inviteEvent = (await alice.client.roomState(roomId)).find((ev) => ev.type === "m.room.member" && ev.state_key === bob.userId);
    expect(inviteEvent).toMatchObject({ sender: alice.userId, content: { membership: "invite" } });

    const room = await bob.client.joinRoom(roomId);
    expect(room.roomId).toBe(roomId);
    expect(await memberships(alice, roomId)).toEqual({ [alice.userId]: "join", [bob.userId]: "join" });
    expect((await bob.client.getJoinedRooms()).joined_rooms).toContain(roomId);
  });

  it("both send messages and both read them back in order", async () => {
    const fromAlice = await send(alice, roomId, "Hi Bob!");
    const fromBob = await send(bob, roomId, "Hi Alice, got your message.");

    for (const reader of [alice, bob]) {
      const res = await reader.client.createMessagesRequest(roomId, null, 10, sdk.Direction.Backward);
      const messages = (res.chunk as Event[]).filter((ev) => ev.type === "m.room.message");
      expect(messages.slice(0, 2).map((ev) => [ev.event_id, ev.sender, ev.content?.body])).toEqual([
        [fromBob, bob.userId, "Hi Alice, got your message."],
        [fromAlice, alice.userId, "Hi Bob!"],
      ]);
    }
    const event = await bob.client.fetchRoomEvent(roomId, fromAlice);
    expect(event).toMatchObject({ event_id: fromAlice, room_id: roomId, sender: alice.userId, type: "m.room.message", content: text("Hi Bob!") });
  });

  it("a user who isn't in the room can neither read nor send", async () => {
    const secret = await send(alice, roomId, "only for Bob");
    await expectMatrixError(charlie.client.createMessagesRequest(roomId, null, 10, sdk.Direction.Backward), 403, "M_FORBIDDEN");
    await expectMatrixError(charlie.client.sendMessage(roomId, text("let me in")), 403, "M_FORBIDDEN");
    await expectMatrixError(charlie.client.roomState(roomId), 403, "M_FORBIDDEN");
    await expectMatrixError(charlie.client.getStateEvent(roomId, "m.room.name", ""), 403, "M_FORBIDDEN");
    // The spec lists 404 for an event the user may not see; Synapse (and Stratus) answer a non-member
    // 403. Either way the content stays hidden.
    const hidden = await charlie.client.fetchRoomEvent(roomId, secret).then(
      (ev) => ({ served: ev }),
      (err: sdk.MatrixError) => ({ status: err.httpStatus, errcode: err.errcode }),
    );
    expect([
      { status: 403, errcode: "M_FORBIDDEN" },
      { status: 404, errcode: "M_NOT_FOUND" },
    ]).toContainEqual(hidden);
    await expectMatrixError(charlie.client.joinRoom(roomId), 403, "M_FORBIDDEN");
    // Nothing charlie tried left a trace in the room.
    const res = await alice.client.createMessagesRequest(roomId, null, 5, sdk.Direction.Backward);
    expect(res.chunk[0]?.event_id).toBe(secret);
    expect(await memberships(alice, roomId)).not.toHaveProperty(charlie.userId);
  });

  it("an edit shows up bundled with the original; an edit by someone else doesn't count", async () => {
    const original = await send(alice, roomId, "Lunch at 12?");
    const edit = async (account: Account, body: string) =>
      (
        await account.client.sendMessage(roomId, {
          msgtype: sdk.MsgType.Text,
          body: `* ${body}`,
          "m.new_content": text(body),
          "m.relates_to": { rel_type: sdk.RelationType.Replace, event_id: original },
        })
      ).event_id;
    await edit(alice, "Lunch at 12:30?");
    const secondEdit = await edit(alice, "Lunch at 13?");
    await edit(bob, "Lunch is cancelled"); // not the sender: not a valid replacement

    for (const reader of [alice, bob]) {
      const fetched = (await reader.client.fetchRoomEvent(roomId, original)) as Event;
      // The original keeps its content; the newest valid edit rides along in unsigned.
      expect(fetched.content).toEqual(text("Lunch at 12?"));
      const replacement = fetched.unsigned?.["m.relations"]?.["m.replace"];
      expect(replacement).toMatchObject({ event_id: secondEdit, sender: alice.userId, content: { "m.new_content": text("Lunch at 13?") } });
    }
    // The edits are also listed as m.replace relations of the original.
    const rels = await bob.client.fetchRelations(roomId, original, sdk.RelationType.Replace, null);
    expect(rels.chunk.map((ev) => ev.content?.["m.new_content"]?.body)).toEqual(["Lunch is cancelled", "Lunch at 13?", "Lunch at 12:30?"]);
  });

  it("reactions are listed in /relations", async () => {
    const target = await send(bob, roomId, "I passed the exam!");
    const react = async (account: Account, key: string) =>
      (
        await account.client.sendEvent(roomId, sdk.EventType.Reaction, {
          "m.relates_to": { rel_type: sdk.RelationType.Annotation, event_id: target, key },
        })
      ).event_id;
    const party = await react(alice, "🎉");
    const thumbs = await react(bob, "👍");
    await send(alice, roomId, "Congratulations!"); // unrelated

    const all = await alice.client.fetchRelations(roomId, target, null, null);
    expect(all.chunk.map((ev) => [ev.event_id, ev.sender, ev.type, ev.content?.["m.relates_to"]?.key])).toEqual([
      [thumbs, bob.userId, "m.reaction", "👍"],
      [party, alice.userId, "m.reaction", "🎉"],
    ]);
    const annotations = await bob.client.fetchRelations(roomId, target, sdk.RelationType.Annotation, sdk.EventType.Reaction);
    expect(annotations.chunk.map((ev) => ev.event_id)).toEqual([thumbs, party]);
    const forwards = await bob.client.fetchRelations(roomId, target, sdk.RelationType.Annotation, sdk.EventType.Reaction, { dir: sdk.Direction.Forward });
    expect(forwards.chunk.map((ev) => ev.event_id)).toEqual([party, thumbs]);
    expect((await bob.client.fetchRelations(roomId, target, sdk.RelationType.Replace, null)).chunk).toEqual([]);
  });

  it("a thread: /threads lists its root with the reply count, latest reply and participation", async () => {
    const root = await send(alice, roomId, "Thread: weekend plans");
    const first = (await bob.client.sendMessage(roomId, root, text("Hiking?"))).event_id;
    const second = (await alice.client.sendMessage(roomId, root, text("Yes, Saturday"))).event_id;
    const third = (await bob.client.sendMessage(roomId, root, text("Great"))).event_id;
    await send(bob, roomId, "Back in the main timeline");

    const list = await threads(alice, roomId);
    expect(list.chunk.map((ev) => ev.event_id)).toEqual([root]);
    const summary = list.chunk[0]!.unsigned?.["m.relations"]?.["m.thread"];
    expect(summary).toMatchObject({ count: 3, current_user_participated: true, latest_event: { event_id: third, sender: bob.userId, content: { body: "Great" } } });

    // The replies are the root's m.thread relations; the root, fetched alone, carries the same summary.
    const replies = await bob.client.fetchRelations(roomId, root, sdk.THREAD_RELATION_TYPE.name, null);
    expect(replies.chunk.map((ev) => ev.event_id)).toEqual([third, second, first]);
    const fetched = (await bob.client.fetchRoomEvent(roomId, root)) as Event;
    expect(fetched.unsigned?.["m.relations"]?.["m.thread"]).toMatchObject({ count: 3, current_user_participated: true, latest_event: { event_id: third } });

    // A member who never wrote in the thread hasn't participated in it.
    const dave = await registerUser(baseUrl, { username: uniqueUsername("dave") });
    await alice.client.invite(roomId, dave.userId);
    await dave.client.joinRoom(roomId);
    expect((await threads(dave, roomId, "participated")).chunk).toEqual([]);
    const seenByDave = (await threads(dave, roomId)).chunk;
    expect(seenByDave.map((ev) => ev.event_id)).toEqual([root]);
    expect(seenByDave[0]!.unsigned?.["m.relations"]?.["m.thread"]).toMatchObject({ count: 3, current_user_participated: false });
    expect((await threads(bob, roomId, "participated")).chunk.map((ev) => ev.event_id)).toEqual([root]);
  });

  it("a redacted message is served pruned, with the redaction that removed it", async () => {
    const oops = await send(bob, roomId, "my password is hunter2");
    const keep = await send(alice, roomId, "nobody may remove this but me");
    // Bob is at level 0 and `redact` is 50: he may redact his own message but not alice's.
    await expectMatrixError(bob.client.redactEvent(roomId, keep), 403, "M_FORBIDDEN");
    const redaction = (await bob.client.redactEvent(roomId, oops, undefined, { reason: "wrong window" })).event_id;

    for (const reader of [alice, bob]) {
      const fetched = (await reader.client.fetchRoomEvent(roomId, oops)) as Event;
      expect(fetched).toMatchObject({ event_id: oops, type: "m.room.message", sender: bob.userId, content: {} });
      expect(fetched.content).toEqual({});
      // Room version 11: `redacts` lives in the redaction's content.
      expect(fetched.unsigned?.redacted_because).toMatchObject({
        event_id: redaction,
        type: "m.room.redaction",
        sender: bob.userId,
        content: { reason: "wrong window", redacts: oops },
      });
    }
    // The timeline shows the pruned message too; alice's message is untouched.
    const res = await alice.client.createMessagesRequest(roomId, null, 10, sdk.Direction.Backward);
    const inTimeline = (res.chunk as Event[]).find((ev) => ev.event_id === oops);
    expect(inTimeline?.content).toEqual({});
    expect(inTimeline?.unsigned?.redacted_because?.event_id).toBe(redaction);
    expect((await bob.client.fetchRoomEvent(roomId, keep)).content).toEqual(text("nobody may remove this but me"));
  });
});

describe("paginating through history", () => {
  const COUNT = 30;
  const expected = Array.from({ length: COUNT }, (_, i) => `message ${String(i).padStart(2, "0")}`);
  let roomId: string;

  beforeAll(async () => {
    roomId = await createRoom(alice, { preset: sdk.Preset.PublicChat });
    await bob.client.joinRoom(roomId);
    // Alternate senders, one after another so the order is the order they were sent in.
    for (const [i, body] of expected.entries()) await send(i % 2 ? bob : alice, roomId, body);
  });

  it("backwards in pages of 10 yields every message exactly once, newest first", async () => {
    const pages = await paginate(bob, roomId, sdk.Direction.Backward, 10);
    // The first three pages are all messages; the room's creation state comes after them.
    expect(pages.slice(0, 3).map(messageBodies)).toEqual([expected.slice(20).reverse(), expected.slice(10, 20).reverse(), expected.slice(0, 10).reverse()]);
    const events = pages.flat();
    expect(messageBodies(events)).toEqual([...expected].reverse());
    expect(new Set(events.map((ev) => ev.event_id)).size).toBe(events.length);
    // History goes back to the very start of the room.
    expect(events.at(-1)).toMatchObject({ type: "m.room.create", sender: alice.userId });
  });

  it("forwards in pages of 10 from the start yields the same events in the opposite order", async () => {
    const backwards = (await paginate(bob, roomId, sdk.Direction.Backward, 10)).flat();
    const pages = await paginate(alice, roomId, sdk.Direction.Forward, 10);
    const events = pages.flat();
    expect(events[0]).toMatchObject({ type: "m.room.create" });
    expect(messageBodies(events)).toEqual(expected);
    expect(events.map((ev) => ev.event_id)).toEqual(backwards.map((ev) => ev.event_id).reverse());
  });

  it("going forwards from a backwards page's token returns what came after it", async () => {
    const newest = await bob.client.createMessagesRequest(roomId, null, 10, sdk.Direction.Backward);
    expect(newest.end).toEqual(expect.any(String));
    const res = await bob.client.createMessagesRequest(roomId, newest.end!, 10, sdk.Direction.Forward);
    expect(messageBodies(res.chunk as Event[])).toEqual(expected.slice(20));
  });
});

describe("upgrading a room", () => {
  it("tombstones the old room, points the new one back at it and carries over power levels and the alias", async () => {
    const localpart = uniqueUsername("upgrade");
    const alias = `#${localpart}:${serverName}`;
    const name = `Upgrade me ${localpart}`;
    const oldRoom = await createRoom(alice, {
      preset: sdk.Preset.PublicChat,
      visibility: sdk.Visibility.Public,
      room_version: "10",
      room_alias_name: localpart,
      name,
      topic: "A room about to move",
    } as sdk.ICreateRoomOpts);
    expect((await alice.client.getRoomIdForAlias(alias)).room_id).toBe(oldRoom);
    await bob.client.joinRoom(alias);
    await charlie.client.joinRoom(oldRoom);
    const levels = await alice.client.getStateEvent(oldRoom, "m.room.power_levels", "");
    await alice.client.sendStateEvent(oldRoom, sdk.EventType.RoomPowerLevels, { ...levels, users: { ...levels.users, [bob.userId]: 50 }, ban: 60 }, "");
    const levelsBefore = await alice.client.getStateEvent(oldRoom, "m.room.power_levels", "");
    const lastWords = await send(bob, oldRoom, "see you in the new room");

    // Only someone allowed to send the tombstone (level 100 here) may upgrade.
    await expectMatrixError(bob.client.upgradeRoom(oldRoom, "11"), 403, "M_FORBIDDEN");
    await expectMatrixError(alice.client.upgradeRoom(oldRoom, "9999"), 400, "M_UNSUPPORTED_ROOM_VERSION");

    const { replacement_room: newRoom } = await alice.client.upgradeRoom(oldRoom, "11");
    expect(newRoom).not.toBe(oldRoom);

    // The old room says where it went.
    const tombstone = await charlie.client.getStateEvent(oldRoom, "m.room.tombstone", "");
    expect(tombstone).toMatchObject({ replacement_room: newRoom, body: expect.any(String) });
    const tombstoneEvent = (await charlie.client.roomState(oldRoom)).find((ev) => ev.type === "m.room.tombstone");
    expect(tombstoneEvent?.sender).toBe(alice.userId);

    // The new room says where it came from.
    const create = await alice.client.getStateEvent(newRoom, "m.room.create", "");
    expect(create.room_version).toBe("11");
    expect(create.predecessor).toMatchObject({ room_id: oldRoom });
    if (create.predecessor.event_id !== undefined) expect(create.predecessor.event_id).toBe(lastWords);

    // Power levels, name, topic and join rules came along.
    expect(await alice.client.getStateEvent(newRoom, "m.room.power_levels", "")).toEqual(levelsBefore);
    expect(await alice.client.getStateEvent(newRoom, "m.room.name", "")).toEqual({ name });
    expect((await alice.client.getStateEvent(newRoom, "m.room.topic", "")).topic).toBe("A room about to move");
    expect(await alice.client.getStateEvent(newRoom, "m.room.join_rules", "")).toEqual({ join_rule: "public" });

    // The alias moved: it resolves to the new room, which now names it as canonical; the old room doesn't.
    expect((await charlie.client.getRoomIdForAlias(alias)).room_id).toBe(newRoom);
    expect(await alice.client.getStateEvent(newRoom, "m.room.canonical_alias", "")).toMatchObject({ alias });
    expect((await alice.client.getLocalAliases(newRoom)).aliases).toContain(alias);
    expect((await alice.client.getLocalAliases(oldRoom)).aliases).not.toContain(alias);
    expect((await alice.client.getStateEvent(oldRoom, "m.room.canonical_alias", "")).alias).toBeUndefined();

    // The directory lists the new room in place of the old one.
    const listed = await charlie.client.publicRooms({ filter: { generic_search_term: localpart } });
    expect(listed.chunk.map((r) => r.room_id)).toEqual([newRoom]);

    // Only alice moved; the others follow the alias, and ordinary members can no longer talk in the old room.
    expect(await memberships(alice, newRoom)).toEqual({ [alice.userId]: "join" });
    await expectMatrixError(charlie.client.sendMessage(oldRoom, text("anyone here?")), 403, "M_FORBIDDEN");
    expect((await charlie.client.joinRoom(alias)).roomId).toBe(newRoom);
    await send(charlie, newRoom, "found it");
    // Bob's moderator level came along: he may set the topic (50) in the new room, charlie (0) may not.
    await bob.client.joinRoom(newRoom);
    await bob.client.setRoomTopic(newRoom, "Moderated by Bob");
    await expectMatrixError(charlie.client.setRoomTopic(newRoom, "Charlie's topic"), 403, "M_FORBIDDEN");
  });
});
