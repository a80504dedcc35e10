/**
 * Push rules (spec: Client-Server § Push Rules: API), stored in D1 (DESIGN §1): the user's own
 * rules and their changes to the server-default ones, merged with the defaults on every read.
 * Every change is announced on the user's sync stream as global account data `m.push_rules`
 * (§ Push Rules: Events); /sync and GET /account_data/m.push_rules read `pushRulesContent`.
 */
import { MatrixError, notFound } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import {
  buildRuleset,
  defaultRule,
  isPushRuleKind,
  isServerDefaultRuleId,
  userRuleIdProblem,
  type DefaultRuleChange,
  type PushAction,
  type PushCondition,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
  type UserPushRule,
} from "../matrix/push";
import { deleteUserRule, readPushRules, updateDefaultRule, updateUserRule, upsertUserRule, userRuleExists, type Placement } from "../storage/d1/push-rules";
import type { Deps } from "./deps";
import { notifyUser } from "./user-stream";

export const PUSH_RULES_TYPE = "m.push_rules";

/** The `{kind}` path parameter; anything but the five kinds is refused (pushrules.yaml enum). */
export function parsePushRuleKind(kind: string): PushRuleKind {
  if (!isPushRuleKind(kind)) throw new MatrixError("M_INVALID_PARAM", `Unknown push rule kind ${JSON.stringify(kind)}`);
  return kind;
}

export async function getPushRuleset(deps: Deps, userId: string): Promise<PushRuleset> {
  const { rules, defaults } = await readPushRules(deps.env.DB, userId);
  const userRules: UserPushRule[] = [];
  for (const row of rules) {
    if (!isPushRuleKind(row.kind)) continue;
    const rule: UserPushRule = { kind: row.kind, ruleId: row.rule_id, enabled: row.enabled !== 0, actions: JSON.parse(row.actions) as PushAction[] };
    if (row.conditions !== null) rule.conditions = JSON.parse(row.conditions) as PushCondition[];
    if (row.pattern !== null) rule.pattern = row.pattern;
    userRules.push(rule);
  }
  const changes: DefaultRuleChange[] = [];
  for (const row of defaults) {
    if (!isPushRuleKind(row.kind)) continue;
    const change: DefaultRuleChange = { kind: row.kind, ruleId: row.rule_id };
    if (row.enabled !== null) change.enabled = row.enabled !== 0;
    if (row.actions !== null) change.actions = JSON.parse(row.actions) as PushAction[];
    changes.push(change);
  }
  return buildRuleset(userId, userRules, changes);
}

/** The content of the user's `m.push_rules` account data event. */
export async function pushRulesContent(deps: Deps, userId: string): Promise<JsonObject> {
  return { global: (await getPushRuleset(deps, userId)) as unknown as JsonObject };
}

export async function getPushRule(deps: Deps, userId: string, kind: PushRuleKind, ruleId: string): Promise<PushRule> {
  const rule = (await getPushRuleset(deps, userId))[kind].find((r) => r.rule_id === ruleId);
  if (!rule) throw notFound("The push rule was not found.");
  return rule;
}

async function announce(deps: Deps, userId: string): Promise<void> {
  await notifyUser(deps, userId, { kind: "account_data", type: PUSH_RULES_TYPE });
}

export interface NewPushRule {
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

/**
 * PUT /pushrules/global/{kind}/{ruleId}: creates or replaces a user-defined rule. With `before`
 * (which wins over `after`, as the spec says) or `after`, the rule becomes the next more or less
 * important rule than that user-defined rule of the same kind; without either, an existing rule
 * keeps its place and a new one becomes the most important of its kind.
 */
export async function putPushRule(
  deps: Deps,
  userId: string,
  kind: PushRuleKind,
  ruleId: string,
  rule: NewPushRule,
  anchors: { before?: string; after?: string },
): Promise<void> {
  const problem = userRuleIdProblem(kind, ruleId);
  if (problem) throw new MatrixError("M_INVALID_PARAM", problem);
  if (kind === "content" && rule.pattern === undefined) throw new MatrixError("M_BAD_JSON", "A content rule needs a pattern");

  let placement: Placement = { at: "keep" };
  const before = anchors.before || undefined;
  const after = anchors.after || undefined;
  for (const anchor of [before, after]) {
    if (anchor === undefined) continue;
    // "It is not possible to add a rule relative to a predefined server rule."
    if (isServerDefaultRuleId(anchor)) throw new MatrixError("M_UNKNOWN", `Cannot place a rule relative to the server-default rule ${anchor}`);
    if (anchor === ruleId) throw new MatrixError("M_UNKNOWN", "A rule cannot be placed relative to itself");
    if (!(await userRuleExists(deps.env.DB, userId, kind, anchor))) throw new MatrixError("M_UNKNOWN", `before/after rule not found: ${anchor}`);
  }
  if (before !== undefined) placement = { at: "before", anchor: before };
  else if (after !== undefined) placement = { at: "after", anchor: after };

  const written = await upsertUserRule(
    deps.env.DB,
    {
      userId,
      kind,
      ruleId,
      conditions: kind === "override" || kind === "underride" ? JSON.stringify(rule.conditions ?? []) : null,
      pattern: kind === "content" ? (rule.pattern ?? null) : null,
      actions: JSON.stringify(rule.actions),
    },
    placement,
  );
  if (!written) throw new MatrixError("M_UNKNOWN", `before/after rule not found: ${placement.at === "keep" ? "" : placement.anchor}`);
  await announce(deps, userId);
}

/** DELETE: user-defined rules only; server-default rules can be disabled but not removed. */
export async function deletePushRule(deps: Deps, userId: string, kind: PushRuleKind, ruleId: string): Promise<void> {
  if (isServerDefaultRuleId(ruleId)) {
    if (!defaultRule(userId, kind, ruleId)) throw notFound("The push rule was not found.");
    throw new MatrixError("M_INVALID_PARAM", "Server-default rules cannot be deleted; disable them instead");
  }
  if (!(await deleteUserRule(deps.env.DB, userId, kind, ruleId))) throw notFound("The push rule was not found.");
  await announce(deps, userId);
}

/** PUT .../enabled and .../actions: on the user's own rules and on server-default ones alike. */
export async function changePushRule(
  deps: Deps,
  userId: string,
  kind: PushRuleKind,
  ruleId: string,
  change: { enabled: boolean } | { actions: PushAction[] },
): Promise<void> {
  const stored = "enabled" in change ? { enabled: change.enabled } : { actions: JSON.stringify(change.actions) };
  if (isServerDefaultRuleId(ruleId)) {
    if (!defaultRule(userId, kind, ruleId)) throw notFound("The push rule was not found.");
    await updateDefaultRule(deps.env.DB, userId, kind, ruleId, stored);
  } else if (!(await updateUserRule(deps.env.DB, userId, kind, ruleId, stored))) {
    throw notFound("The push rule was not found.");
  }
  await announce(deps, userId);
}
