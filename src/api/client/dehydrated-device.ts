/**
 * Dehydrated devices (MSC3814) on the unstable paths matrix-js-sdk's Rust crypto uses. Not listed
 * in /versions' unstable_features: matrix-js-sdk finds out by calling GET /dehydrated_device
 * (M_NOT_FOUND means supported).
 */
import type { Hono } from "hono";
import { z } from "zod";
import type { JsonObject } from "../../matrix/canonical-json";
import {
  DEHYDRATED_EVENTS_LIMIT,
  dehydratedDeviceEvents,
  fetchDehydratedDevice,
  putDehydratedDevice,
  removeDehydratedDevice,
} from "../../services/dehydrated-devices";
import type { AppEnv } from "../app-env";
import { deviceKeys, keyUploadFields } from "./e2ee-keys";
import { route } from "../route";

const PREFIX = "/_matrix/client/unstable/org.matrix.msc3814.v1";

const limitQuery = z.looseObject({
  from: z.string().optional(),
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, "limit must be a positive integer")
    .optional(),
});

export function registerDehydratedDeviceRoutes(app: Hono<AppEnv>): void {
  // PUT /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device — MSC3814 § Dehydrating a device
  route(app, {
    method: "PUT",
    paths: [`${PREFIX}/dehydrated_device`],
    auth: "user",
    body: z.looseObject({
      device_id: z.string().min(1).max(255),
      device_data: z.looseObject({ algorithm: z.string().min(1) }),
      initial_device_display_name: z.string().max(1000).optional(),
      ...keyUploadFields,
      device_keys: deviceKeys,
    }),
    handler: ({ deps, session, body }) =>
      putDehydratedDevice(deps, session.userId, {
        device_id: body.device_id,
        device_data: body.device_data as JsonObject,
        initial_device_display_name: body.initial_device_display_name,
        device_keys: body.device_keys as JsonObject,
        one_time_keys: body.one_time_keys as Record<string, JsonObject | string> | undefined,
        fallback_keys: body.fallback_keys as Record<string, JsonObject | string> | undefined,
      }),
  });

  // GET /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device — MSC3814 § Rehydrating a device
  route(app, {
    method: "GET",
    paths: [`${PREFIX}/dehydrated_device`],
    auth: "user",
    handler: ({ deps, session }) => fetchDehydratedDevice(deps, session.userId),
  });

  // DELETE /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device — MSC3814 § Deleting a dehydrated device
  route(app, {
    method: "DELETE",
    paths: [`${PREFIX}/dehydrated_device`],
    auth: "user",
    handler: ({ deps, session }) => removeDehydratedDevice(deps, session.userId),
  });

  // POST /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/{deviceId}/events — the MSC's form:
  // `next_batch` in the body, always one in the answer.
  route(app, {
    method: "POST",
    paths: [`${PREFIX}/dehydrated_device/:deviceId/events`],
    auth: "user",
    query: limitQuery,
    body: z.looseObject({ next_batch: z.string().optional() }),
    handler: ({ deps, session, params, query, body }) =>
      dehydratedDeviceEvents(deps, session.userId, params.deviceId!, body.next_batch, Number(query.limit ?? DEHYDRATED_EVENTS_LIMIT), true),
  });

  // GET /_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device/{deviceId}/events?from= — the form
  // matrix-js-sdk uses: `next_batch` only while more events are left.
  route(app, {
    method: "GET",
    paths: [`${PREFIX}/dehydrated_device/:deviceId/events`],
    auth: "user",
    query: limitQuery,
    handler: ({ deps, session, params, query }) =>
      dehydratedDeviceEvents(deps, session.userId, params.deviceId!, query.from, Number(query.limit ?? DEHYDRATED_EVENTS_LIMIT), false),
  });
}
