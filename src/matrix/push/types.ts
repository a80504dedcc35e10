/**
 * Push rules in their wire format (spec: Client-Server § Push Rules; push_rule.yaml,
 * push_ruleset.yaml, push_condition.yaml). Rules are stored and served in this shape, so the
 * evaluator reads exactly what a client sees.
 */
import type { JsonObject } from "../canonical-json";

/** The kinds in the order they are checked (spec: § Push Rules). */
export const PUSH_RULE_KINDS = ["override", "content", "room", "sender", "underride"] as const;
export type PushRuleKind = (typeof PUSH_RULE_KINDS)[number];

export function isPushRuleKind(value: string): value is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(value);
}

/** `"notify"` (or a historical string action), or `{set_tweak, value?}`. */
export type PushAction = string | JsonObject;

/** A condition: `kind` plus its parameters. Unknown kinds are kept and never match. */
export type PushCondition = JsonObject & { kind: string };

export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  /** `override` and `underride` rules only. */
  conditions?: PushCondition[];
  /** `content` rules only. */
  pattern?: string;
}

export type PushRuleset = Record<PushRuleKind, PushRule[]>;

/**
 * An event as push rules see it: the client format, so a `ClientEvent` is one. Conditions may
 * name any top-level key; `unsigned` is never consulted.
 */
export interface PushEvent {
  type: string;
  sender: string;
  room_id: string;
  content: JsonObject;
  state_key?: string;
  event_id?: string;
  origin_server_ts?: number;
  redacts?: string;
  unsigned?: JsonObject;
}
