-- End-to-end encryption keys (issue: E2EE; spec: Client-Server § End-to-End Encryption).
-- D1 owns them (DESIGN §1). Every JSON column holds the object as the client uploaded it, in
-- canonical JSON, so what /keys/query and /keys/claim hand out is byte for byte what was signed.

-- A device's identity keys (POST /keys/upload `device_keys`). Deleted with the device.
CREATE TABLE e2e_device_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  updated_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

-- Unclaimed one-time keys. `key_id` is the full `<algorithm>:<id>` the client named it with.
-- A claim is one DELETE … RETURNING of the oldest key (lowest `id`), so each key is handed out once
-- and in upload order.
CREATE TABLE e2e_one_time_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
CREATE UNIQUE INDEX e2e_one_time_keys_key ON e2e_one_time_keys (user_id, device_id, key_id);
CREATE INDEX e2e_one_time_keys_claim ON e2e_one_time_keys (user_id, device_id, algorithm, id);

-- At most one fallback key per device and algorithm; handed out when the one-time keys run out,
-- and kept (marked used) until the device replaces it.
CREATE TABLE e2e_fallback_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, device_id, algorithm)
);

-- Cross-signing keys (`master`, `self_signing`, `user_signing`), one of each per user. Read by
-- /keys/query; written by /keys/device_signing/upload, which a later change adds.
CREATE TABLE e2e_cross_signing_keys (
  user_id TEXT NOT NULL,
  key_type TEXT NOT NULL,
  key_json TEXT NOT NULL,
  updated_ts INTEGER NOT NULL,
  PRIMARY KEY (user_id, key_type)
);
