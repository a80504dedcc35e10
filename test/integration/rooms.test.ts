import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

describe("rooms: create, join, send, read", () => {
  it("creates a private room, invites, joins and exchanges messages", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const created = await call("POST", "/_matrix/client/v3/createRoom", {
      token: alice.access_token,
      body: { preset: "private_chat", name: "Secret", topic: "plans", invite: [bob.user_id] },
    });
    expect(created.status).toBe(200);
    const roomId = created.body.room_id as string;

    // Bob is invited, not joined: he can't read or send yet.
    const early = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      token: bob.access_token,
      body: { msgtype: "m.text", body: "hi" },
    });
    expect(early.status).toBe(403);
    expect(early.body.errcode).toBe("M_FORBIDDEN");

    const join = await call("POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.access_token, body: {} });
    expect(join.status).toBe(200);

    const sent = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      token: bob.access_token,
      body: { msgtype: "m.text", body: "hello" },
    });
    expect(sent.status).toBe(200);
    const again = await call("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, {
      token: bob.access_token,
      body: { msgtype: "m.text", body: "hello" },
    });
    expect(again.body.event_id).toBe(sent.body.event_id);

    const ev = await call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(sent.body.event_id)}`, {
      token: alice.access_token,
    });
    expect(ev.status).toBe(200);
    expect(ev.body.content.body).toBe("hello");
    expect(ev.body.sender).toBe(bob.user_id);

    const name = await call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.name/`, { token: bob.access_token });
    expect(name.body).toEqual({ name: "Secret" });

    const joined = await call("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/joined_members`, { token: alice.access_token });
    expect(Object.keys(joined.body.joined).sort()).toEqual([alice.user_id, bob.user_id].sort());

    const rooms = await call("GET", "/_matrix/client/v3/joined_rooms", { token: bob.access_token });
    expect(rooms.body.joined_rooms).toContain(roomId);
  });

  it("refuses a non-member everywhere", async () => {
    const alice = await registerUser();
    const eve = await registerUser();
    const roomId = (await call("POST", "/_matrix/client/v3/createRoom", { token: alice.access_token, body: {} })).body.room_id as string;
    const r = encodeURIComponent(roomId);
    for (const [method, path, body] of [
      ["GET", `/_matrix/client/v3/rooms/${r}/state`, undefined],
      ["GET", `/_matrix/client/v3/rooms/${r}/state/m.room.create/`, undefined],
      ["GET", `/_matrix/client/v3/rooms/${r}/members`, undefined],
      ["GET", `/_matrix/client/v3/rooms/${r}/joined_members`, undefined],
      ["PUT", `/_matrix/client/v3/rooms/${r}/send/m.room.message/x`, { body: "x" }],
      ["POST", `/_matrix/client/v3/rooms/${r}/join`, {}],
    ] as const) {
      const res = await call(method, path, { token: eve.access_token, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.errcode).toBe("M_FORBIDDEN");
    }
  });
});
