/**
 * The server-default push rules (spec: Client-Server § Push Rules, Predefined Rules), in the
 * spec's order, for one user: some conditions name the user's id or localpart.
 *
 * The legacy body-matching rules (`.m.rule.contains_display_name`, `.m.rule.roomnotif`,
 * `.m.rule.contains_user_name`) were removed from the spec in v1.17. Stratus advertises spec
 * versions up to v1.6, whose clients mention users only in the body, so they are kept, at their
 * v1.7–v1.16 positions and with the v1.7 rule that they don't apply to an event carrying
 * `m.mentions` (see `evaluate.ts` and docs/design/push-rules.md). Synapse does the same.
 */
import type { PushAction, PushRule, PushRuleKind, PushRuleset } from "./types";

/** Unlike every other server-default rule, it comes before the user's own override rules. */
export const MASTER_RULE_ID = ".m.rule.master";

/** Rules that only apply to events without `m.mentions` (spec v1.7–v1.16). */
export const LEGACY_MENTION_RULE_IDS: ReadonlySet<string> = new Set([
  ".m.rule.contains_display_name",
  ".m.rule.roomnotif",
  ".m.rule.contains_user_name",
]);

const SOUND_DEFAULT: PushAction = { set_tweak: "sound", value: "default" };
const SOUND_RING: PushAction = { set_tweak: "sound", value: "ring" };
const HIGHLIGHT: PushAction = { set_tweak: "highlight" };

const rule = (rule_id: string, enabled: boolean, actions: PushAction[], extra: Partial<PushRule>): PushRule => ({
  rule_id,
  default: true,
  enabled,
  ...extra,
  actions,
});

const match = (key: string, pattern: string) => ({ kind: "event_match", key, pattern });

/** The user's localpart: what lies between `@` and the first `:`. */
export function localpartOf(userId: string): string {
  const colon = userId.indexOf(":");
  return userId.slice(1, colon === -1 ? undefined : colon);
}

/** Every server-default rule for `userId`, kind by kind in the spec's order. A fresh copy each call. */
export function defaultRules(userId: string): PushRuleset {
  return {
    override: [
      rule(MASTER_RULE_ID, false, [], { conditions: [] }),
      rule(".m.rule.suppress_notices", true, [], { conditions: [match("content.msgtype", "m.notice")] }),
      rule(".m.rule.invite_for_me", true, ["notify", SOUND_DEFAULT], {
        conditions: [match("type", "m.room.member"), match("content.membership", "invite"), match("state_key", userId)],
      }),
      rule(".m.rule.member_event", true, [], { conditions: [match("type", "m.room.member")] }),
      rule(".m.rule.is_user_mention", true, ["notify", SOUND_DEFAULT, HIGHLIGHT], {
        conditions: [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: userId }],
      }),
      rule(".m.rule.contains_display_name", true, ["notify", SOUND_DEFAULT, HIGHLIGHT], { conditions: [{ kind: "contains_display_name" }] }),
      rule(".m.rule.is_room_mention", true, ["notify", HIGHLIGHT], {
        conditions: [
          { kind: "event_property_is", key: "content.m\\.mentions.room", value: true },
          { kind: "sender_notification_permission", key: "room" },
        ],
      }),
      rule(".m.rule.roomnotif", true, ["notify", HIGHLIGHT], {
        conditions: [match("content.body", "@room"), { kind: "sender_notification_permission", key: "room" }],
      }),
      rule(".m.rule.tombstone", true, ["notify", HIGHLIGHT], { conditions: [match("type", "m.room.tombstone"), match("state_key", "")] }),
      rule(".m.rule.reaction", true, [], { conditions: [match("type", "m.reaction")] }),
      rule(".m.rule.room.server_acl", true, [], { conditions: [match("type", "m.room.server_acl"), match("state_key", "")] }),
      rule(".m.rule.suppress_edits", true, [], {
        conditions: [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }],
      }),
    ],
    content: [rule(".m.rule.contains_user_name", true, ["notify", SOUND_DEFAULT, HIGHLIGHT], { pattern: localpartOf(userId) })],
    room: [],
    sender: [],
    underride: [
      rule(".m.rule.call", true, ["notify", SOUND_RING], { conditions: [match("type", "m.call.invite")] }),
      rule(".m.rule.encrypted_room_one_to_one", true, ["notify", SOUND_DEFAULT], {
        conditions: [{ kind: "room_member_count", is: "2" }, match("type", "m.room.encrypted")],
      }),
      rule(".m.rule.room_one_to_one", true, ["notify", SOUND_DEFAULT], {
        conditions: [{ kind: "room_member_count", is: "2" }, match("type", "m.room.message")],
      }),
      rule(".m.rule.message", true, ["notify"], { conditions: [match("type", "m.room.message")] }),
      rule(".m.rule.encrypted", true, ["notify"], { conditions: [match("type", "m.room.encrypted")] }),
    ],
  };
}

/** The server-default rule of that kind and id, if there is one. */
export function defaultRule(userId: string, kind: PushRuleKind, ruleId: string): PushRule | undefined {
  return defaultRules(userId)[kind].find((r) => r.rule_id === ruleId);
}
