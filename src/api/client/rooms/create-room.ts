/** POST /_matrix/client/v3/createRoom — spec: Client-Server § Creation. */
import type { Hono } from "hono";
import { z } from "zod";
import { getRoomVersion } from "../../../matrix/room-versions";
import { creationContentFor, initialEvents, validateInitialContent, type CreateRoomBody } from "../../../services/create-room-content";
import { requireLocalUser } from "../../../services/membership";
import { CREATABLE_ROOM_VERSIONS, createRoom, defaultRoomVersion, profileMemberContent } from "../../../services/rooms";
import type { AppEnv } from "../../app-env";
import { MatrixError } from "../../errors";
import { clientPaths, route } from "../../route";

const userId = z.string().regex(/^@[^:]+:.+$/, "must be a user id");

const body = z.looseObject({
  visibility: z.enum(["public", "private"]).optional(),
  room_alias_name: z.string().min(1).max(200).optional(),
  name: z.string().max(255).optional(),
  topic: z.string().max(4096).optional(),
  invite: z.array(userId).max(100).optional(),
  invite_3pid: z.array(z.unknown()).optional(),
  room_version: z.string().optional(),
  creation_content: z.record(z.string(), z.any()).optional(),
  initial_state: z.array(z.object({ type: z.string().min(1), state_key: z.string().optional(), content: z.record(z.string(), z.any()) })).max(100).optional(),
  preset: z.enum(["private_chat", "public_chat", "trusted_private_chat"]).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: z.record(z.string(), z.any()).optional(),
});

export function registerCreateRoomRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "POST",
    paths: clientPaths("/createRoom"),
    auth: "user",
    body,
    handler: async ({ deps, session, body }) => {
      const req = body as CreateRoomBody;
      const version = req.room_version !== undefined ? getRoomVersion(req.room_version) : defaultRoomVersion(deps);
      if (!version || !(CREATABLE_ROOM_VERSIONS as readonly string[]).includes(version.id)) {
        throw new MatrixError("M_UNSUPPORTED_ROOM_VERSION", `This server does not create rooms of version ${req.room_version}`);
      }
      if (req.invite_3pid?.length) throw new MatrixError("M_FORBIDDEN", "Third-party invites are not supported on this server");
      if (req.room_alias_name !== undefined && /[:\s#]/.test(req.room_alias_name)) {
        throw new MatrixError("M_INVALID_PARAM", "room_alias_name may not contain ':', '#' or whitespace");
      }
      // Invites go out as the room is made; refuse those /invite would refuse before making it.
      for (const invitee of req.invite ?? []) await requireLocalUser(deps, invitee);
      const member = await profileMemberContent(deps, session.userId);
      const alias = req.room_alias_name !== undefined ? `#${req.room_alias_name}:${deps.config.serverName}` : undefined;
      const initial = initialEvents(req, version, session.userId, member, alias);
      const creationContent = creationContentFor(req, version);
      validateInitialContent(initial, creationContent, version, session.userId);
      const { roomId } = await createRoom(deps, {
        creator: session.userId,
        version,
        creationContent,
        isPublic: req.visibility === "public",
        aliasLocalpart: req.room_alias_name,
        initial: async () => initial,
      });
      return { room_id: roomId };
    },
  });
}
