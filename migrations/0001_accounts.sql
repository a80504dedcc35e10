-- Accounts, devices, sessions and server keys (issue: foundation).
-- Append-only: never edit a migration that has landed; add a new numbered file.

CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  localpart TEXT NOT NULL UNIQUE,
  -- PHC-style string: $pbkdf2-sha256$i=…$salt$hash, or a bcrypt hash imported from Synapse.
  password_hash TEXT,
  is_admin INTEGER NOT NULL DEFAULT 0,
  is_guest INTEGER NOT NULL DEFAULT 0,
  deactivated INTEGER NOT NULL DEFAULT 0,
  created_ts INTEGER NOT NULL,
  displayname TEXT,
  avatar_url TEXT
);

CREATE TABLE devices (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  display_name TEXT,
  created_ts INTEGER NOT NULL,
  last_seen_ts INTEGER,
  last_seen_ip TEXT,
  PRIMARY KEY (user_id, device_id)
);

-- Tokens are stored only as SHA-256 hashes; the plaintext exists only in the client.
CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  expires_ts INTEGER,
  refresh_token_hash TEXT,
  -- After /refresh, the previous refresh token stays valid until this new pair is first used
  -- (spec: POST /refresh); it is revoked then and this column is cleared.
  retire_refresh_hash TEXT
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  -- Set once this token has been exchanged; the pair it produced is in access_tokens/refresh_tokens.
  next_token_hash TEXT
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (user_id, device_id);

-- User-Interactive Authentication sessions (spec: Client-Server § User-Interactive Authentication API).
CREATE TABLE uia_sessions (
  session_id TEXT PRIMARY KEY,
  -- method and path the session was started for: a session cannot be replayed on another endpoint.
  endpoint TEXT NOT NULL,
  user_id TEXT,
  completed TEXT NOT NULL DEFAULT '[]',
  -- what completed stages proved, e.g. the registration token to spend when registration succeeds
  data TEXT NOT NULL DEFAULT '{}',
  created_ts INTEGER NOT NULL
);

CREATE TABLE registration_tokens (
  token TEXT PRIMARY KEY,
  uses_allowed INTEGER,
  pending INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  expiry_time INTEGER
);

-- Nonces for shared-secret registration; each is used once.
CREATE TABLE registration_nonces (
  nonce TEXT PRIMARY KEY,
  created_ts INTEGER NOT NULL
);

CREATE TABLE server_signing_keys (
  key_id TEXT PRIMARY KEY,
  seed TEXT NOT NULL,
  public_key TEXT NOT NULL,
  created_ts INTEGER NOT NULL,
  -- NULL while the key is current; set when it is retired (spec: old_verify_keys).
  expired_ts INTEGER
);
