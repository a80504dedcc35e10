/**
 * A user's ruleset as clients see it (spec: § Push Rules, Predefined Rules): the server-default
 * rules merged with the user's own, and the rules for what users may change.
 *
 * Within a kind, user-defined rules come before the server-default ones ("they operate at a
 * lower priority than user-defined rules"), except `.m.rule.master`, which comes before
 * everything. Server-default rules can be enabled, disabled and given other actions, never
 * replaced or removed.
 */
import { defaultRules, MASTER_RULE_ID } from "./default-rules";
import type { PushAction, PushCondition, PushRule, PushRuleKind, PushRuleset } from "./types";

/** A user-defined rule as stored; a kind's rules arrive most important first. */
export interface UserPushRule {
  kind: PushRuleKind;
  ruleId: string;
  enabled: boolean;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

/** The user's changes to one server-default rule; an absent field keeps the default. */
export interface DefaultRuleChange {
  kind: PushRuleKind;
  ruleId: string;
  enabled?: boolean;
  actions?: PushAction[];
}

/** Ids starting with a dot are reserved for server-default rules (spec: PUT pushrules, `ruleId`). */
export function isServerDefaultRuleId(ruleId: string): boolean {
  return ruleId.startsWith(".");
}

/** The user rule in its wire form: only the fields its kind has. */
export function userRuleToWire(rule: UserPushRule): PushRule {
  const out: PushRule = { rule_id: rule.ruleId, default: false, enabled: rule.enabled, actions: rule.actions };
  if (rule.kind === "override" || rule.kind === "underride") out.conditions = rule.conditions ?? [];
  if (rule.kind === "content") out.pattern = rule.pattern ?? "";
  return out;
}

export function buildRuleset(userId: string, userRules: readonly UserPushRule[], changes: readonly DefaultRuleChange[]): PushRuleset {
  const defaults = defaultRules(userId);
  for (const change of changes) {
    const rule = defaults[change.kind].find((r) => r.rule_id === change.ruleId);
    if (!rule) continue; // a default this server no longer ships
    if (change.enabled !== undefined) rule.enabled = change.enabled;
    if (change.actions !== undefined) rule.actions = change.actions;
  }
  const mine = (kind: PushRuleKind) => userRules.filter((r) => r.kind === kind).map(userRuleToWire);
  const master = defaults.override.filter((r) => r.rule_id === MASTER_RULE_ID);
  const otherOverrides = defaults.override.filter((r) => r.rule_id !== MASTER_RULE_ID);
  return {
    override: [...master, ...mine("override"), ...otherOverrides],
    content: [...mine("content"), ...defaults.content],
    room: [...mine("room"), ...defaults.room],
    sender: [...mine("sender"), ...defaults.sender],
    underride: [...mine("underride"), ...defaults.underride],
  };
}

/** Legacy actions the spec says to ignore (§ Historical Actions). */
const HISTORICAL_ACTIONS = new Set(["dont_notify", "coalesce"]);

/** Whether an action is one this server understands: `notify`, a historical string, or a tweak. */
export function isValidAction(action: unknown): action is PushAction {
  if (typeof action === "string") return action === "notify" || HISTORICAL_ACTIONS.has(action);
  return typeof action === "object" && action !== null && !Array.isArray(action) && typeof (action as { set_tweak?: unknown }).set_tweak === "string";
}

export function withoutHistoricalActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((a) => typeof a !== "string" || !HISTORICAL_ACTIONS.has(a));
}

/**
 * Why a user may not create a rule with this id in this kind, or undefined if they may. The spec
 * reserves ids starting with "." and forbids "/" and "\"; room and sender rules are named after
 * the room id and user id they apply to.
 */
export function userRuleIdProblem(kind: PushRuleKind, ruleId: string): string | undefined {
  if (ruleId === "") return "The rule id may not be empty";
  if (isServerDefaultRuleId(ruleId)) return "Rule ids starting with '.' are reserved for server-default rules";
  if (ruleId.includes("/") || ruleId.includes("\\")) return "Rule ids may not contain slashes or backslashes";
  if (kind === "room" && !ruleId.startsWith("!")) return "The id of a room rule is the room id it applies to";
  if (kind === "sender" && !ruleId.startsWith("@")) return "The id of a sender rule is the user id it applies to";
  return undefined;
}
