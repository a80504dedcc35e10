/** Server-side key backups (spec: Client-Server § Server-side key backups): /room_keys/version and /room_keys/keys. */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import {
  createBackup,
  deleteBackup,
  fetchRoomKeys,
  getBackup,
  removeRoomKeys,
  storeRoomKeys,
  updateBackup,
  type KeyBackupData,
} from "../../services/key-backup";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

/** KeyBackupData (spec: definitions/key_backup_data.yaml): every field required. */
const keyBackupData = z.looseObject({
  first_message_index: z.number().int().nonnegative(),
  forwarded_count: z.number().int().nonnegative(),
  is_verified: z.boolean(),
  session_data: z.looseObject({}),
});
/** RoomKeyBackup: the sessions of one room. */
const roomKeyBackup = z.looseObject({ sessions: z.record(z.string(), keyBackupData) });
/** Optional in the schema so that a missing one is M_MISSING_PARAM, as the spec's "required" reads. */
const versionQuery = z.looseObject({ version: z.string().optional() });

const backupInfo = z.looseObject({ algorithm: z.string().min(1), auth_data: z.looseObject({}) });

type Sessions = Record<string, Record<string, KeyBackupData>>;

export function registerKeyBackupRoutes(app: Hono<AppEnv>): void {
  // POST /_matrix/client/v3/room_keys/version — create a backup version
  route(app, {
    method: "POST",
    paths: clientPaths("/room_keys/version"),
    auth: "user",
    body: backupInfo,
    handler: ({ deps, session, body }) => createBackup(deps, session.userId, body.algorithm, body.auth_data as JsonObject),
  });

  // GET /_matrix/client/v3/room_keys/version — the current backup
  route(app, {
    method: "GET",
    paths: clientPaths("/room_keys/version"),
    auth: "user",
    handler: ({ deps, session }) => getBackup(deps, session.userId),
  });

  // GET /_matrix/client/v3/room_keys/version/{version}
  route(app, {
    method: "GET",
    paths: clientPaths("/room_keys/version/:version"),
    auth: "user",
    handler: ({ deps, session, params }) => getBackup(deps, session.userId, params.version!),
  });

  // PUT /_matrix/client/v3/room_keys/version/{version} — update auth_data
  route(app, {
    method: "PUT",
    paths: clientPaths("/room_keys/version/:version"),
    auth: "user",
    body: backupInfo.extend({ version: z.string().optional() }),
    handler: ({ deps, session, params, body }) =>
      updateBackup(deps, session.userId, params.version!, { algorithm: body.algorithm, auth_data: body.auth_data as JsonObject, version: body.version }),
  });

  // DELETE /_matrix/client/v3/room_keys/version/{version}
  route(app, {
    method: "DELETE",
    paths: clientPaths("/room_keys/version/:version"),
    auth: "user",
    handler: ({ deps, session, params }) => deleteBackup(deps, session.userId, params.version!),
  });

  // PUT /_matrix/client/v3/room_keys/keys?version= — keys of several rooms
  route(app, {
    method: "PUT",
    paths: clientPaths("/room_keys/keys"),
    auth: "user",
    query: versionQuery,
    body: z.looseObject({ rooms: z.record(z.string(), roomKeyBackup) }),
    handler: ({ deps, session, query, body }) =>
      storeRoomKeys(deps, session.userId, query.version, Object.fromEntries(Object.entries(body.rooms).map(([r, b]) => [r, b.sessions])) as Sessions),
  });

  // PUT /_matrix/client/v3/room_keys/keys/{roomId}?version= — keys of one room
  route(app, {
    method: "PUT",
    paths: clientPaths("/room_keys/keys/:roomId"),
    auth: "user",
    query: versionQuery,
    body: roomKeyBackup,
    handler: ({ deps, session, params, query, body }) => storeRoomKeys(deps, session.userId, query.version, { [params.roomId!]: body.sessions } as Sessions),
  });

  // PUT /_matrix/client/v3/room_keys/keys/{roomId}/{sessionId}?version= — one session's key
  route(app, {
    method: "PUT",
    paths: clientPaths("/room_keys/keys/:roomId/:sessionId"),
    auth: "user",
    query: versionQuery,
    body: keyBackupData,
    handler: ({ deps, session, params, query, body }) =>
      storeRoomKeys(deps, session.userId, query.version, { [params.roomId!]: { [params.sessionId!]: body } } as Sessions),
  });

  // GET /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]]?version=
  for (const suffix of ["", "/:roomId", "/:roomId/:sessionId"]) {
    route(app, {
      method: "GET",
      paths: clientPaths(`/room_keys/keys${suffix}`),
      auth: "user",
      query: versionQuery,
      handler: ({ deps, session, params, query }) => fetchRoomKeys(deps, session.userId, query.version, params.roomId, params.sessionId),
    });
  }

  // DELETE /_matrix/client/v3/room_keys/keys[/{roomId}[/{sessionId}]]?version=
  for (const suffix of ["", "/:roomId", "/:roomId/:sessionId"]) {
    route(app, {
      method: "DELETE",
      paths: clientPaths(`/room_keys/keys${suffix}`),
      auth: "user",
      query: versionQuery,
      handler: ({ deps, session, params, query }) => removeRoomKeys(deps, session.userId, query.version, params.roomId, params.sessionId),
    });
  }
}
