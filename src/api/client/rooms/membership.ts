/** Room membership endpoints (spec: Client-Server § Room membership). */
import type { Hono } from "hono";
import { z } from "zod";
import { banUser, forget, inviteUser, joinRoom, kickUser, knockRoom, leaveRoom, unbanUser } from "../../../services/membership";
import { assertRoomId, resolveRoomIdOrAlias } from "../../../services/rooms";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

const reasonBody = z.looseObject({ reason: z.string().max(2048).optional() });
const targetBody = z.looseObject({ user_id: z.string().min(1), reason: z.string().max(2048).optional() });

export function registerMembershipRoutes(app: Hono<AppEnv>): void {
  // POST /rooms/{roomId}/join
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/join"),
    auth: "user",
    body: reasonBody,
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      await joinRoom(deps, params.roomId!, session.userId, body.reason);
      return { room_id: params.roomId };
    },
  });

  // POST /join/{roomIdOrAlias}
  route(app, {
    method: "POST",
    paths: clientPaths("/join/:roomIdOrAlias"),
    auth: "user",
    body: reasonBody,
    handler: async ({ deps, params, session, body }) => {
      const roomId = await resolveRoomIdOrAlias(deps, params.roomIdOrAlias!);
      await joinRoom(deps, roomId, session.userId, body.reason);
      return { room_id: roomId };
    },
  });

  // POST /knock/{roomIdOrAlias} (v1.1)
  route(app, {
    method: "POST",
    paths: clientPaths("/knock/:roomIdOrAlias"),
    auth: "user",
    body: reasonBody,
    handler: async ({ deps, params, session, body }) => {
      const roomId = await resolveRoomIdOrAlias(deps, params.roomIdOrAlias!);
      await knockRoom(deps, roomId, session.userId, body.reason);
      return { room_id: roomId };
    },
  });

  // POST /rooms/{roomId}/leave
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/leave"),
    auth: "user",
    body: reasonBody,
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      await leaveRoom(deps, params.roomId!, session.userId, body.reason);
      return {};
    },
  });

  // POST /rooms/{roomId}/forget
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/forget"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertRoomId(params.roomId!);
      await forget(deps, params.roomId!, session.userId);
      return {};
    },
  });

  const targeted = [
    ["invite", inviteUser],
    ["kick", kickUser],
    ["ban", banUser],
    ["unban", unbanUser],
  ] as const;
  for (const [action, fn] of targeted) {
    // POST /rooms/{roomId}/invite|kick|ban|unban
    route(app, {
      method: "POST",
      paths: clientPaths(`/rooms/:roomId/${action}`),
      auth: "user",
      body: targetBody,
      handler: async ({ deps, params, session, body }) => {
        assertRoomId(params.roomId!);
        await fn(deps, params.roomId!, session.userId, body.user_id, body.reason);
        return {};
      },
    });
  }
}
