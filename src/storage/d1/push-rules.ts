/**
 * SQL for push rules: `push_rules` (the user's own rules) and `push_rule_defaults` (their changes
 * to server-default rules). Every write is one statement or one batch, which D1 runs as a
 * transaction, so concurrent changes never leave a kind half-reordered.
 */

export interface PushRuleRow {
  kind: string;
  rule_id: string;
  priority: number;
  conditions: string | null;
  pattern: string | null;
  actions: string;
  enabled: number;
}

export interface PushRuleDefaultRow {
  kind: string;
  rule_id: string;
  enabled: number | null;
  actions: string | null;
}

/** Both tables for one user, in one round trip; rules most important first within each kind. */
export async function readPushRules(db: D1Database, userId: string): Promise<{ rules: PushRuleRow[]; defaults: PushRuleDefaultRow[] }> {
  const [rules, defaults] = await db.batch([
    db
      .prepare("SELECT kind, rule_id, priority, conditions, pattern, actions, enabled FROM push_rules WHERE user_id = ? ORDER BY kind, priority DESC, rule_id")
      .bind(userId),
    db.prepare("SELECT kind, rule_id, enabled, actions FROM push_rule_defaults WHERE user_id = ? ORDER BY kind, rule_id").bind(userId),
  ]);
  return { rules: (rules?.results ?? []) as PushRuleRow[], defaults: (defaults?.results ?? []) as PushRuleDefaultRow[] };
}

export async function userRuleExists(db: D1Database, userId: string, kind: string, ruleId: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS one FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?").bind(userId, kind, ruleId).first();
  return row !== null;
}

export interface PushRuleWrite {
  userId: string;
  kind: string;
  ruleId: string;
  conditions: string | null;
  pattern: string | null;
  actions: string;
}

/** Where a PUT puts the rule: relative to another rule of the kind, or (`keep`) where it is, new rules on top. */
export type Placement = { at: "keep" } | { at: "before" | "after"; anchor: string };

const UPSERT_COLUMNS = "INSERT INTO push_rules (user_id, kind, rule_id, priority, conditions, pattern, actions, enabled)";
/** An update keeps `enabled` (clients re-PUT rules they had disabled) and, for `keep`, the priority. */
const UPDATE_FIELDS = "conditions = excluded.conditions, pattern = excluded.pattern, actions = excluded.actions";

/**
 * Creates or replaces a rule. Returns false when the anchor is missing: the new priority is read
 * from the anchor inside the batch, so an anchor deleted meanwhile leaves it NULL, the NOT NULL
 * constraint fails and the whole batch rolls back.
 */
export async function upsertUserRule(db: D1Database, w: PushRuleWrite, placement: Placement): Promise<boolean> {
  if (placement.at === "keep") {
    await db
      .prepare(
        `${UPSERT_COLUMNS}
         VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(priority), 0) + 1 FROM push_rules WHERE user_id = ?1 AND kind = ?2), ?4, ?5, ?6, 1)
         ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET ${UPDATE_FIELDS}`,
      )
      .bind(w.userId, w.kind, w.ruleId, w.conditions, w.pattern, w.actions)
      .run();
    return true;
  }
  const anchor = "(SELECT priority FROM push_rules WHERE user_id = ?1 AND kind = ?2 AND rule_id = ?3)";
  // `before`: open a slot just above the anchor; `after`: move the anchor (and all above it) up
  // one and take its old priority.
  const shift = placement.at === "before" ? `${anchor} + 1` : anchor;
  const slot = placement.at === "before" ? `${anchor} + 1` : `${anchor} - 1`;
  try {
    await db.batch([
      db.prepare(`UPDATE push_rules SET priority = priority + 1 WHERE user_id = ?1 AND kind = ?2 AND priority >= ${shift}`).bind(w.userId, w.kind, placement.anchor),
      db
        .prepare(
          `${UPSERT_COLUMNS}
           VALUES (?1, ?2, ?4, ${slot}, ?5, ?6, ?7, 1)
           ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET ${UPDATE_FIELDS}, priority = excluded.priority`,
        )
        .bind(w.userId, w.kind, placement.anchor, w.ruleId, w.conditions, w.pattern, w.actions),
    ]);
  } catch (err) {
    if (String(err).includes("NOT NULL constraint failed")) return false;
    throw err;
  }
  return true;
}

/** Whether there was such a rule to delete. */
export async function deleteUserRule(db: D1Database, userId: string, kind: string, ruleId: string): Promise<boolean> {
  const res = await db.prepare("DELETE FROM push_rules WHERE user_id = ? AND kind = ? AND rule_id = ?").bind(userId, kind, ruleId).run();
  return res.meta.changes > 0;
}

/** Sets `enabled` or `actions` of a user rule; false when there is no such rule. */
export async function updateUserRule(db: D1Database, userId: string, kind: string, ruleId: string, change: { enabled: boolean } | { actions: string }): Promise<boolean> {
  const stmt =
    "enabled" in change
      ? db.prepare("UPDATE push_rules SET enabled = ? WHERE user_id = ? AND kind = ? AND rule_id = ?").bind(change.enabled ? 1 : 0, userId, kind, ruleId)
      : db.prepare("UPDATE push_rules SET actions = ? WHERE user_id = ? AND kind = ? AND rule_id = ?").bind(change.actions, userId, kind, ruleId);
  const res = await stmt.run();
  return res.meta.changes > 0;
}

/** Records a change to a server-default rule, keeping the user's other change to it. */
export async function updateDefaultRule(db: D1Database, userId: string, kind: string, ruleId: string, change: { enabled: boolean } | { actions: string }): Promise<void> {
  const stmt =
    "enabled" in change
      ? db
          .prepare(
            `INSERT INTO push_rule_defaults (user_id, kind, rule_id, enabled) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET enabled = excluded.enabled`,
          )
          .bind(userId, kind, ruleId, change.enabled ? 1 : 0)
      : db
          .prepare(
            `INSERT INTO push_rule_defaults (user_id, kind, rule_id, actions) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET actions = excluded.actions`,
          )
          .bind(userId, kind, ruleId, change.actions);
  await stmt.run();
}
