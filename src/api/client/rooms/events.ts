/** Sending and reading room events (spec: Client-Server § Sending events to a room, § Getting events for a room). */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../../matrix/canonical-json";
import { getAlias } from "../../../storage/d1/rooms";
import { assertRoomId, roomStub, sendToRoom, unwrapRead } from "../../../services/rooms";
import type { Deps } from "../../../services/deps";
import { parseRoomToken } from "../../../services/pagination-tokens";
import type { AppEnv } from "../../app-env";
import { MatrixError, notFound } from "../../errors";
import { clientPaths, route } from "../../route";

const TYPE_MAX_BYTES = 255;

function checkType(type: string): void {
  if (type.length === 0 || new TextEncoder().encode(type).length > TYPE_MAX_BYTES) throw new MatrixError("M_INVALID_PARAM", "Invalid event type");
}

function checkStateKey(key: string): void {
  if (new TextEncoder().encode(key).length > 255) throw new MatrixError("M_INVALID_PARAM", "State key too long");
}

/**
 * m.room.canonical_alias may only name aliases that exist and point to this room
 * (spec: § m.room.canonical_alias; servers SHOULD validate them, else M_BAD_ALIAS).
 */
async function validateCanonicalAlias(deps: Deps, roomId: string, content: JsonObject): Promise<void> {
  const aliases: unknown[] = [];
  if (content.alias !== undefined && content.alias !== null) aliases.push(content.alias);
  if (content.alt_aliases !== undefined) {
    if (!Array.isArray(content.alt_aliases)) throw new MatrixError("M_INVALID_PARAM", "alt_aliases must be a list");
    aliases.push(...content.alt_aliases);
  }
  for (const alias of aliases) {
    if (typeof alias !== "string" || !/^#[^:\s]+:\S+$/.test(alias)) throw new MatrixError("M_INVALID_PARAM", `Invalid alias ${String(alias)}`);
    if (!alias.endsWith(`:${deps.config.serverName}`)) continue; // remote aliases can't be checked without federation
    const row = await getAlias(deps.env.DB, alias);
    if (!row || row.room_id !== roomId) throw new MatrixError("M_BAD_ALIAS", `${alias} does not point to this room`, {}, 400);
  }
}

export function registerRoomEventRoutes(app: Hono<AppEnv>): void {
  // PUT /rooms/{roomId}/send/{eventType}/{txnId}
  route(app, {
    method: "PUT",
    paths: clientPaths("/rooms/:roomId/send/:eventType/:txnId"),
    auth: "user",
    body: z.looseObject({}),
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      checkType(params.eventType!);
      const result = await sendToRoom(deps, params.roomId!, {
        sender: session.userId,
        type: params.eventType!,
        content: body as JsonObject,
        txn: { deviceId: session.deviceId, txnId: params.txnId!, scope: "send" },
      });
      return { event_id: result.event.event_id };
    },
  });

  // PUT /rooms/{roomId}/state/{eventType}/{stateKey} — the empty state key may be omitted.
  route(app, {
    method: "PUT",
    paths: [...clientPaths("/rooms/:roomId/state/:eventType/:stateKey"), ...clientPaths("/rooms/:roomId/state/:eventType")],
    auth: "user",
    body: z.looseObject({}),
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      checkType(params.eventType!);
      const key = params.stateKey ?? "";
      checkStateKey(key);
      if (params.eventType === "m.room.canonical_alias") await validateCanonicalAlias(deps, params.roomId!, body as JsonObject);
      const result = await sendToRoom(deps, params.roomId!, { sender: session.userId, type: params.eventType!, stateKey: key, content: body as JsonObject });
      return { event_id: result.event.event_id };
    },
  });

  // GET /rooms/{roomId}/state/{eventType}/{stateKey}
  route(app, {
    method: "GET",
    paths: [...clientPaths("/rooms/:roomId/state/:eventType/:stateKey"), ...clientPaths("/rooms/:roomId/state/:eventType")],
    auth: "user",
    query: z.object({ format: z.enum(["content", "event"]).default("content") }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      const stub = roomStub(deps, params.roomId!);
      const event = unwrapRead(await stub.getStateEvent(session.userId, params.eventType!, params.stateKey ?? ""));
      if (!event) throw notFound("Event not found");
      if (query.format === "event") return unwrapRead(await stub.getEvent(session.userId, event.event_id));
      return event.content;
    },
  });

  // GET /rooms/{roomId}/state
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/state"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertRoomId(params.roomId!);
      return new Response(JSON.stringify(unwrapRead(await roomStub(deps, params.roomId!).getState(session.userId))), {
        headers: { "content-type": "application/json" },
      });
    },
  });

  // PUT /rooms/{roomId}/redact/{eventId}/{txnId}
  route(app, {
    method: "PUT",
    paths: clientPaths("/rooms/:roomId/redact/:eventId/:txnId"),
    auth: "user",
    body: z.looseObject({ reason: z.string().max(2048).optional() }),
    handler: async ({ deps, params, session, body }) => {
      assertRoomId(params.roomId!);
      const stub = roomStub(deps, params.roomId!);
      const version = await stub.roomVersion();
      if (!version) throw notFound("Unknown room");
      const content: JsonObject = {};
      if (body.reason !== undefined) content.reason = body.reason;
      // From room v11 `redacts` lives in content; before that at the top level.
      const inContent = Number(version) >= 11;
      if (inContent) content.redacts = params.eventId!;
      const result = await sendToRoom(deps, params.roomId!, {
        sender: session.userId,
        type: "m.room.redaction",
        content,
        redacts: inContent ? undefined : params.eventId!,
        txn: { deviceId: session.deviceId, txnId: params.txnId!, scope: "redact" },
      });
      return { event_id: result.event.event_id };
    },
  });

  // GET /rooms/{roomId}/event/{eventId}
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/event/:eventId"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertRoomId(params.roomId!);
      return unwrapRead(await roomStub(deps, params.roomId!).getEvent(session.userId, params.eventId!, session.deviceId));
    },
  });

  // GET /rooms/{roomId}/members
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/members"),
    auth: "user",
    query: z.object({
      at: z.string().optional(),
      membership: z.enum(["join", "invite", "knock", "leave", "ban"]).optional(),
      not_membership: z.enum(["join", "invite", "knock", "leave", "ban"]).optional(),
    }),
    handler: async ({ deps, params, session, query }) => {
      assertRoomId(params.roomId!);
      const chunk = unwrapRead(
        await roomStub(deps, params.roomId!).members(session.userId, {
          at: query.at !== undefined ? parseRoomToken(query.at) : undefined,
          membership: query.membership,
          notMembership: query.not_membership,
        }),
      );
      return { chunk };
    },
  });

  // GET /rooms/{roomId}/joined_members
  route(app, {
    method: "GET",
    paths: clientPaths("/rooms/:roomId/joined_members"),
    auth: "user",
    handler: async ({ deps, params, session }) => {
      assertRoomId(params.roomId!);
      return { joined: unwrapRead(await roomStub(deps, params.roomId!).joinedMembers(session.userId)) };
    },
  });
}
