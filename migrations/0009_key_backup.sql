-- Cross-signing signatures, server-side key backup and dehydrated devices (issue: E2EE, points
-- 5–8; spec: Client-Server § Cross-signing, § Server-side key backups; MSC3814). D1 owns them
-- (DESIGN §1). docs/design/e2ee-keys.md explains the choices.

-- Signatures uploaded with POST /keys/signatures/upload, kept apart from the signed key so that
-- the key itself stays byte for byte what its owner uploaded. /keys/query merges them back in.
-- `target_key_id` is a device id, or the public key of a cross-signing key (the spec's key ID
-- for those): a cross-signing key may not share its public key with one of the user's device ids.
CREATE TABLE e2e_cross_signing_signatures (
  signer_user_id TEXT NOT NULL,
  -- `ed25519:<device id or public key>` of the key that made the signature
  signing_key_id TEXT NOT NULL,
  target_user_id TEXT NOT NULL,
  target_key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (target_user_id, target_key_id, signer_user_id, signing_key_id)
);

-- Key backup versions. `version` counts up per user and is never reused; the current backup is
-- the highest one not deleted. A deleted version keeps its row (`deleted = 1`) so deleting it
-- again succeeds, as the spec asks. `etag` counts changes to the version's keys.
CREATE TABLE e2e_room_keys_versions (
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  algorithm TEXT NOT NULL,
  auth_data TEXT NOT NULL,
  etag INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, version)
);

-- Backed-up megolm session keys, one per (version, room, session); `session_data` is the
-- client's encrypted blob, stored as canonical JSON.
CREATE TABLE e2e_room_keys (
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_message_index INTEGER NOT NULL,
  forwarded_count INTEGER NOT NULL,
  is_verified INTEGER NOT NULL,
  session_data TEXT NOT NULL,
  PRIMARY KEY (user_id, version, room_id, session_id)
);

-- A user's dehydrated device (MSC3814): at most one per user. The device itself is a row of
-- `devices` (no access token), its keys are in the e2e_* tables like any device's.
CREATE TABLE e2e_dehydrated_devices (
  user_id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  device_data TEXT NOT NULL,
  created_ts INTEGER NOT NULL
);
