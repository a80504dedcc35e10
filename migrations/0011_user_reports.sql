-- Reports about users (spec: Client-Server § Reporting content, POST /users/{userId}/report,
-- v1.14). Kept for server admins like event and room reports (0002); nothing is sent to the user.
CREATE TABLE user_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  target_user_id TEXT NOT NULL,
  reporter TEXT NOT NULL,
  reason TEXT NOT NULL,
  received_ts INTEGER NOT NULL
);
