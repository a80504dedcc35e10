/** SQL for the `devices` table. */
import { deleteDeviceKeysStatements } from "./e2ee-keys";

export interface DeviceRow {
  user_id: string;
  device_id: string;
  display_name: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
}

export function getDevice(db: D1Database, userId: string, deviceId: string): Promise<DeviceRow | null> {
  return db.prepare("SELECT * FROM devices WHERE user_id = ? AND device_id = ?").bind(userId, deviceId).first<DeviceRow>();
}

export async function listDevices(db: D1Database, userId: string): Promise<DeviceRow[]> {
  const { results } = await db.prepare("SELECT * FROM devices WHERE user_id = ? ORDER BY created_ts, device_id").bind(userId).all<DeviceRow>();
  return results;
}

/**
 * Creates the device, or keeps the existing one when a client logs in again with its device id.
 * An existing device keeps its display name: `initial_device_display_name` is "ignored if
 * device_id corresponds to a known device" (spec: POST /login).
 */
export function upsertDeviceStatement(
  db: D1Database,
  d: { userId: string; deviceId: string; displayName: string | null; now: number; ip: string },
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO devices (user_id, device_id, display_name, created_ts, last_seen_ts, last_seen_ip) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_ts = excluded.last_seen_ts, last_seen_ip = excluded.last_seen_ip`,
    )
    .bind(d.userId, d.deviceId, d.displayName, d.now, d.now, d.ip);
}

export async function renameDevice(db: D1Database, userId: string, deviceId: string, name: string | null): Promise<boolean> {
  const r = await db.prepare("UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?").bind(name, userId, deviceId).run();
  return r.meta.changes === 1;
}

/**
 * Statements that remove devices and every token, end-to-end key and pusher that belongs to them
 * (a logged-out phone must stop receiving pushes, as in Synapse).
 */
export function deleteDevicesStatements(db: D1Database, userId: string, deviceIds: string[]): D1PreparedStatement[] {
  return deviceIds.flatMap((deviceId) => [
    db.prepare("DELETE FROM devices WHERE user_id = ? AND device_id = ?").bind(userId, deviceId),
    db.prepare("DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?").bind(userId, deviceId),
    db.prepare("DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?").bind(userId, deviceId),
    db.prepare("DELETE FROM pushers WHERE user_id = ? AND device_id = ?").bind(userId, deviceId),
    ...deleteDeviceKeysStatements(db, userId, deviceId),
  ]);
}

/** The device ids of several users, in one query (an unknown user has none). */
export async function deviceIdsOfUsers(db: D1Database, userIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (userIds.length === 0) return out;
  const { results } = await db
    .prepare("SELECT user_id, device_id FROM devices WHERE user_id IN (SELECT value FROM json_each(?))")
    .bind(JSON.stringify(userIds))
    .all<{ user_id: string; device_id: string }>();
  for (const r of results) {
    const list = out.get(r.user_id) ?? [];
    list.push(r.device_id);
    out.set(r.user_id, list);
  }
  return out;
}
