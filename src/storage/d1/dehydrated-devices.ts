/**
 * SQL for dehydrated devices (MSC3814; migrations/0009_key_backup.sql). The device is a `devices`
 * row like any other; `e2e_dehydrated_devices` marks which one it is and holds its data.
 */

export interface DehydratedDeviceRow {
  device_id: string;
  device_data: string;
}

export function getDehydratedDevice(db: D1Database, userId: string): Promise<DehydratedDeviceRow | null> {
  return db.prepare("SELECT device_id, device_data FROM e2e_dehydrated_devices WHERE user_id = ?").bind(userId).first<DehydratedDeviceRow>();
}

const CURRENT = "(SELECT device_id FROM e2e_dehydrated_devices WHERE user_id = ?)";

/**
 * Statements deleting the user's dehydrated device — whichever it is when they run, so two
 * concurrent replacements can't leave one behind — with its tokens, keys and signatures. The
 * last one deletes the record and returns the device id (no row: there was none).
 */
export function deleteDehydratedDeviceStatements(db: D1Database, userId: string): D1PreparedStatement[] {
  const tables = ["devices", "access_tokens", "refresh_tokens", "e2e_device_keys", "e2e_one_time_keys", "e2e_fallback_keys"];
  return [
    ...tables.map((t) => db.prepare(`DELETE FROM ${t} WHERE user_id = ? AND device_id = ${CURRENT}`).bind(userId, userId)),
    db.prepare(`DELETE FROM e2e_cross_signing_signatures WHERE target_user_id = ? AND target_key_id = ${CURRENT}`).bind(userId, userId),
    db.prepare("DELETE FROM e2e_dehydrated_devices WHERE user_id = ? RETURNING device_id").bind(userId),
  ];
}

/**
 * Statements creating the dehydrated device and its record. The device insert is a plain INSERT:
 * a device id the user already has (and that is not the dehydrated device being replaced in the
 * same batch) makes it fail on the primary key, and the whole batch with it.
 */
export function createDehydratedDeviceStatements(
  db: D1Database,
  d: { userId: string; deviceId: string; displayName: string | null; deviceData: string; now: number },
): D1PreparedStatement[] {
  return [
    db
      .prepare("INSERT INTO devices (user_id, device_id, display_name, created_ts) VALUES (?, ?, ?, ?)")
      .bind(d.userId, d.deviceId, d.displayName, d.now),
    db
      .prepare("INSERT INTO e2e_dehydrated_devices (user_id, device_id, device_data, created_ts) VALUES (?, ?, ?, ?)")
      .bind(d.userId, d.deviceId, d.deviceData, d.now),
  ];
}
