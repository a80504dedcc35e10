/**
 * Push rule evaluation (spec: Client-Server § Push Rules): the first enabled rule that matches,
 * kind by kind in the order override, content, room, sender, underride, decides the actions.
 * No rule matching means no notification. Whose events are evaluated (never the user's own) is
 * the caller's business.
 */
import type { JsonValue } from "../canonical-json";
import { has, own } from "../auth/json";
import { conditionMatches, eventMatch, type PushContext } from "./conditions";
import { LEGACY_MENTION_RULE_IDS } from "./default-rules";
import { withoutHistoricalActions } from "./ruleset";
import { PUSH_RULE_KINDS, type PushAction, type PushEvent, type PushRule, type PushRuleKind, type PushRuleset } from "./types";

export interface PushOutcome {
  kind: PushRuleKind;
  ruleId: string;
  /** The rule's actions without the historical `dont_notify` and `coalesce`. */
  actions: PushAction[];
  notify: boolean;
  /** The `highlight` tweak: true when set without a value, false when not set at all. */
  highlight: boolean;
  /** The `sound` tweak, when it is a string. */
  sound?: string;
  /** Every tweak the actions set (passed through to push gateways). */
  tweaks: Record<string, JsonValue>;
}

function ruleMatches(kind: PushRuleKind, rule: PushRule, event: PushEvent, ctx: PushContext): boolean {
  switch (kind) {
    case "override":
    case "underride":
      return (rule.conditions ?? []).every((c) => conditionMatches(c, event, ctx));
    case "content":
      return typeof rule.pattern === "string" && eventMatch(event, "content.body", rule.pattern);
    case "room":
      return event.room_id === rule.rule_id;
    case "sender":
      return event.sender === rule.rule_id;
  }
}

export function outcomeOf(kind: PushRuleKind, rule: PushRule): PushOutcome {
  const actions = withoutHistoricalActions(rule.actions);
  const tweaks: Record<string, JsonValue> = {};
  for (const action of actions) {
    if (typeof action === "string") continue;
    const name = own(action, "set_tweak");
    if (typeof name !== "string") continue;
    const value = own(action, "value");
    // "If a highlight tweak is given with no value, its value is defined to be true."
    tweaks[name] = value === undefined && name === "highlight" ? true : (value ?? null);
  }
  const out: PushOutcome = { kind, ruleId: rule.rule_id, actions, notify: actions.includes("notify"), highlight: tweaks.highlight === true, tweaks };
  if (typeof tweaks.sound === "string") out.sound = tweaks.sound;
  return out;
}

/** The outcome of the first matching rule, or undefined when none matches. */
export function evaluatePushRules(ruleset: PushRuleset, event: PushEvent, ctx: PushContext): PushOutcome | undefined {
  // Spec v1.7–v1.16: the legacy mention rules "should only be enabled if the event does not have
  // an m.mentions property".
  const hasMentions = has(event.content, "m.mentions");
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of ruleset[kind] ?? []) {
      if (!rule.enabled) continue;
      if (hasMentions && rule.default && LEGACY_MENTION_RULE_IDS.has(rule.rule_id)) continue;
      if (ruleMatches(kind, rule, event, ctx)) return outcomeOf(kind, rule);
    }
  }
  return undefined;
}
