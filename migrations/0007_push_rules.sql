-- Push rules (issue: push; spec: Client-Server § Push Rules, § Push Rules: API).
-- The server-default rules live in code (src/matrix/push/default-rules.ts), so a new server
-- version can change them; the database holds only what users did: their own rules and their
-- changes to the server-default ones. GET /pushrules/ and /sync's `m.push_rules` merge the two.
-- No stream column: every change notifies the user's sync stream (UserDurableObject), and /sync
-- reads the current ruleset from here.

-- A user-defined rule. Within (user_id, kind) a higher `priority` is more important; priorities
-- may have gaps and are not unique-constrained, because moving a rule shifts its neighbours by
-- one in a single UPDATE, which a UNIQUE index would refuse half-way.
CREATE TABLE push_rules (
  user_id TEXT NOT NULL,
  -- override | content | room | sender | underride
  kind TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  priority INTEGER NOT NULL,
  -- JSON array of conditions (override and underride rules), else NULL
  conditions TEXT,
  -- the glob (content rules), else NULL
  pattern TEXT,
  -- JSON array of actions
  actions TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (user_id, kind, rule_id)
);

-- A user's changes to a server-default rule; NULL keeps the server's value.
CREATE TABLE push_rule_defaults (
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  enabled INTEGER,
  -- JSON array of actions
  actions TEXT,
  PRIMARY KEY (user_id, kind, rule_id)
);
