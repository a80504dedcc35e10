-- Pushers (issue: push; spec: Client-Server § Push Notifications, POST /pushers/set; Push Gateway API).
-- A pusher is where a user's notifications go: for `http`, a push gateway's URL. One row per
-- (user, app_id, pushkey): setting the same pair again replaces it, `kind: null` deletes it.
-- The user's object (UserDurableObject) caches the user's pushers and is told when they change.
CREATE TABLE pushers (
  user_id TEXT NOT NULL,
  app_id TEXT NOT NULL,
  pushkey TEXT NOT NULL,
  -- http | email (email is refused until Stratus has third-party ids)
  kind TEXT NOT NULL,
  app_display_name TEXT NOT NULL,
  device_display_name TEXT NOT NULL,
  profile_tag TEXT,
  lang TEXT NOT NULL,
  -- JSON object, `url` included (it is dropped from what the gateway is sent)
  data TEXT NOT NULL,
  -- when the pushkey was last set, in ms (sent to gateways in seconds as `pushkey_ts`)
  pushkey_ts INTEGER NOT NULL,
  -- the device whose access token set it
  device_id TEXT,
  PRIMARY KEY (user_id, app_id, pushkey)
);
-- `append: false` removes other users' pushers with the same app_id and pushkey.
CREATE INDEX pushers_key ON pushers (app_id, pushkey);
