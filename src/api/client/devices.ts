/** Device management (spec: Client-Server § Device management). */
import type { Hono } from "hono";
import { z } from "zod";
import { requireUia } from "../../services/uia";
import { devicesDeleted } from "../../services/device-lists";
import { sessionsRevoked } from "../../services/sessions";
import { deleteDevicesStatements, getDevice, listDevices, renameDevice, type DeviceRow } from "../../storage/d1/devices";
import type { AppEnv } from "../app-env";
import { notFound } from "../errors";
import { clientPaths, route } from "../route";

function toWire(d: DeviceRow) {
  return { device_id: d.device_id, display_name: d.display_name ?? undefined, last_seen_ts: d.last_seen_ts ?? undefined, last_seen_ip: d.last_seen_ip ?? undefined };
}

export function registerDeviceRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/devices
  route(app, {
    method: "GET",
    paths: clientPaths("/devices"),
    auth: "user",
    handler: async ({ deps, session }) => ({ devices: (await listDevices(deps.env.DB, session.userId)).map(toWire) }),
  });

  // GET /_matrix/client/v3/devices/{deviceId}
  route(app, {
    method: "GET",
    paths: clientPaths("/devices/:deviceId"),
    auth: "user",
    handler: async ({ deps, session, params }) => {
      const device = await getDevice(deps.env.DB, session.userId, params.deviceId!);
      if (!device) throw notFound("Device not found");
      return toWire(device);
    },
  });

  // PUT /_matrix/client/v3/devices/{deviceId} — rename.
  route(app, {
    method: "PUT",
    paths: clientPaths("/devices/:deviceId"),
    auth: "user",
    body: z.looseObject({ display_name: z.string().max(1000).optional() }),
    handler: async ({ deps, session, params, body }) => {
      if (body.display_name === undefined) {
        if (!(await getDevice(deps.env.DB, session.userId, params.deviceId!))) throw notFound("Device not found");
        return {};
      }
      if (!(await renameDevice(deps.env.DB, session.userId, params.deviceId!, body.display_name))) throw notFound("Device not found");
      return {};
    },
  });

  // DELETE /_matrix/client/v3/devices/{deviceId} (UIA: m.login.password)
  route(app, {
    method: "DELETE",
    paths: clientPaths("/devices/:deviceId"),
    auth: "user",
    body: z.looseObject({ auth: z.unknown().optional() }),
    handler: async ({ deps, session, params, body }) => {
      const db = deps.env.DB;
      if (!(await getDevice(db, session.userId, params.deviceId!))) throw notFound("Device not found");
      await requireUia(deps, { endpoint: `DELETE /devices/${params.deviceId}`, flows: [["m.login.password"]], userId: session.userId }, body.auth);
      await db.batch(deleteDevicesStatements(db, session.userId, [params.deviceId!]));
      await sessionsRevoked(deps, session.userId);
      await devicesDeleted(deps, session.userId, [params.deviceId!]);
      return {};
    },
  });

  // POST /_matrix/client/v3/delete_devices (UIA: m.login.password)
  route(app, {
    method: "POST",
    paths: clientPaths("/delete_devices"),
    auth: "user",
    body: z.looseObject({ auth: z.unknown().optional(), devices: z.array(z.string()).max(1000) }),
    handler: async ({ deps, session, body }) => {
      const db = deps.env.DB;
      await requireUia(deps, { endpoint: "POST /delete_devices", flows: [["m.login.password"]], userId: session.userId }, body.auth);
      if (body.devices.length > 0) {
        await db.batch(deleteDevicesStatements(db, session.userId, body.devices));
        await sessionsRevoked(deps, session.userId);
      }
      await devicesDeleted(deps, session.userId, body.devices);
      return {};
    },
  });
}
