/**
 * POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync — simplified sliding sync
 * (MSC4186; request shape as Synapse and ruma's `sync_events::v5` take it). `pos`, `timeout` and
 * `set_presence` are query parameters; the rest is the body. docs/design/sliding-sync.md.
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { ExtensionScope, ListFilters, RoomConfig } from "../../objects/user/sliding-sync-types";
import { slidingSync, type SlidingSyncInput } from "../../services/sliding-sync/sliding-sync";
import type { AppEnv } from "../app-env";
import { MatrixError } from "../errors";
import { route } from "../route";

export const SLIDING_SYNC_PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync";

const stateKeyPair = z.tuple([z.string().max(255), z.string().max(255)]);

/** Fields every list and subscription has (Synapse's CommonRoomParameters: both required). */
const roomParams = {
  required_state: z.array(stateKeyPair).max(100),
  timeline_limit: z.number().int().min(0).max(1000),
};

const range = z
  .tuple([z.number().int().min(0), z.number().int().min(0)])
  .refine(([start, end]) => start <= end, "a range's start must not be after its end");

const roomType = z.string().nullable();

const list = z.object({
  ...roomParams,
  ranges: z.array(range).max(100).optional(),
  filters: z
    .object({
      is_dm: z.boolean().optional(),
      is_encrypted: z.boolean().optional(),
      is_invite: z.boolean().optional(),
      spaces: z.array(z.string()).max(100).optional(),
      room_types: z.array(roomType).max(100).optional(),
      not_room_types: z.array(roomType).max(100).optional(),
      tags: z.array(z.string()).optional(),
      not_tags: z.array(z.string()).optional(),
    })
    .optional(),
});

const scope = z.object({
  enabled: z.boolean().optional(),
  lists: z.array(z.string()).max(100).optional(),
  rooms: z.array(z.string()).max(1000).optional(),
});

const body = z.object({
  conn_id: z.string().max(256).optional(),
  txn_id: z.string().max(256).optional(),
  lists: z
    .record(z.string().max(64), list)
    .optional()
    .refine((l) => !l || Object.keys(l).length <= 100, "at most 100 lists"),
  room_subscriptions: z.record(z.string().max(255), z.object(roomParams)).optional(),
  extensions: z
    .object({
      to_device: z
        .object({
          enabled: z.boolean().optional(),
          // MSC3885: the `next_batch` of an earlier response, an integer here (as in Synapse).
          since: z.string().regex(/^\d{1,15}$/, "must be a next_batch from an earlier response").optional(),
          limit: z.number().int().min(1).max(1000).optional(),
        })
        .optional(),
      e2ee: z.object({ enabled: z.boolean().optional() }).optional(),
      account_data: scope.optional(),
      receipts: scope.optional(),
      typing: scope.optional(),
    })
    .optional(),
});

const query = z.object({
  pos: z.string().optional(),
  timeout: z.coerce.number().int().min(0).default(0),
  set_presence: z.enum(["online", "offline", "unavailable"]).optional(),
});

type Body = z.output<typeof body>;

function parsePos(pos: string | undefined): number | undefined {
  if (pos === undefined) return undefined;
  if (!/^\d{1,15}$/.test(pos)) throw new MatrixError("M_INVALID_PARAM", "Invalid pos");
  return Number(pos);
}

function filters(f: NonNullable<Body["lists"]>[string]["filters"]): ListFilters | undefined {
  if (!f) return undefined;
  // Tag filters would need the user's m.tag account data per room; refused rather than ignored.
  if (f.tags || f.not_tags) throw new MatrixError("M_UNRECOGNIZED", "The tags and not_tags list filters are not supported", {}, 400);
  return { isDm: f.is_dm, isEncrypted: f.is_encrypted, isInvite: f.is_invite, spaces: f.spaces, roomTypes: f.room_types, notRoomTypes: f.not_room_types };
}

function enabledScope(s: z.output<typeof scope> | undefined): ExtensionScope | undefined {
  return s?.enabled ? { lists: s.lists, rooms: s.rooms } : undefined;
}

const config = (p: { required_state: [string, string][]; timeline_limit: number }): RoomConfig => ({ requiredState: p.required_state, timelineLimit: p.timeline_limit });

export function registerSlidingSyncRoutes(app: Hono<AppEnv>): void {
  route(app, {
    method: "POST",
    paths: [SLIDING_SYNC_PATH],
    auth: "user-object",
    body,
    query,
    handler: async ({ deps, session: auth, body: b, query: q }) => {
      const ext = b.extensions ?? {};
      const input: SlidingSyncInput = {
        connId: b.conn_id ?? "",
        pos: parsePos(q.pos),
        timeoutMs: q.timeout,
        lists: Object.fromEntries(Object.entries(b.lists ?? {}).map(([name, l]) => [name, { ...config(l), ranges: l.ranges, filters: filters(l.filters) }])),
        roomSubscriptions: Object.fromEntries(Object.entries(b.room_subscriptions ?? {}).map(([roomId, s]) => [roomId, config(s)])),
        extensions: {
          toDevice: ext.to_device?.enabled
            ? { since: ext.to_device.since === undefined ? undefined : Number(ext.to_device.since), limit: ext.to_device.limit }
            : undefined,
          e2ee: ext.e2ee?.enabled === true,
          accountData: enabledScope(ext.account_data),
          receipts: enabledScope(ext.receipts),
          typing: enabledScope(ext.typing),
        },
      };
      const response = await slidingSync(deps, auth, input, q.set_presence);
      return b.txn_id !== undefined ? { txn_id: b.txn_id, ...response } : response;
    },
  });
}
