/**
 * Push rule conditions (spec: Client-Server § Push Rules, Conditions). A condition that is
 * unknown or malformed never matches: "Unrecognised conditions MUST NOT match any events".
 */
import type { JsonObject, JsonValue } from "../canonical-json";
import { own } from "../auth/json";
import { compileGlob, globMatches, matchGlob } from "./glob";
import { lookupProperty, parsePropertyPath } from "./property-path";
import type { PushCondition, PushEvent } from "./types";

/**
 * What `sender_notification_permission` needs from the room's power levels, injected so that
 * only rules that ask for it cost a lookup.
 */
export interface NotificationPowerLookup {
  /** The event sender's power level in the room. */
  senderLevel(): number;
  /** `notifications[key]` of the room's `m.room.power_levels`, or undefined when it isn't set. */
  notificationLevel(key: string): number | undefined;
}

/** The recipient and room facts conditions read besides the event. */
export interface PushContext {
  /** The user whose rules these are. */
  userId: string;
  /** Their display name in the room (`contains_display_name`); empty or absent never matches. */
  displayName?: string | null;
  /** The room's joined member count (`room_member_count`). */
  memberCount: number;
  powerLevels: NotificationPowerLookup;
}

/** The notification level when `notifications[key]` is not set: 50, the spec's default for `room`. */
export const DEFAULT_NOTIFICATION_LEVEL = 50;

const BODY_KEY = "content.body";

/**
 * The event's property at a dotted path. `unsigned` holds per-viewer data (`age`,
 * `transaction_id`) and is not part of what rules match on.
 */
export function eventProperty(event: PushEvent, key: string): JsonValue | undefined {
  const path = parsePropertyPath(key);
  if (path[0] === "unsigned") return undefined;
  return lookupProperty(event as unknown as JsonObject, path);
}

/** The non-compound canonical JSON values `event_property_is`/`_contains` compare. */
function isSimpleValue(value: JsonValue | undefined): value is string | number | boolean | null {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  return typeof value === "number" && Number.isSafeInteger(value);
}

function sameSimpleValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return isSimpleValue(a) && isSimpleValue(b) && typeof a === typeof b && a === b;
}

/** `event_match`: a glob on a string property; on `content.body`, on a run of whole words. */
export function eventMatch(event: PushEvent, key: string, pattern: string): boolean {
  const value = eventProperty(event, key);
  if (typeof value !== "string") return false;
  return matchGlob(pattern, value, key === BODY_KEY ? "word" : "whole");
}

const MEMBER_COUNT = /^(==|<=|>=|<|>)?([0-9]+)$/;

/** `room_member_count`: `is` is a decimal integer with an optional `==`, `<`, `>`, `<=` or `>=`. */
export function memberCountMatches(is: string, count: number): boolean {
  const m = MEMBER_COUNT.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1] ?? "==") {
    case "==":
      return count === n;
    case "<":
      return count < n;
    case ">":
      return count > n;
    case "<=":
      return count <= n;
    case ">=":
      return count >= n;
    default:
      return false;
  }
}

/** `contains_display_name`: the name, taken literally, as whole words of `content.body`. */
export function containsDisplayName(event: PushEvent, displayName: string | null | undefined): boolean {
  if (!displayName) return false;
  const body = eventProperty(event, BODY_KEY);
  if (typeof body !== "string") return false;
  return globMatches(compileGlob(displayName, true), body, "word");
}

export function conditionMatches(condition: PushCondition, event: PushEvent, ctx: PushContext): boolean {
  const str = (name: string) => {
    const v = own(condition, name);
    return typeof v === "string" ? v : undefined;
  };
  switch (own(condition, "kind")) {
    case "event_match": {
      const key = str("key");
      const pattern = str("pattern");
      return key !== undefined && pattern !== undefined && eventMatch(event, key, pattern);
    }
    case "event_property_is": {
      const key = str("key");
      return key !== undefined && sameSimpleValue(eventProperty(event, key), own(condition, "value"));
    }
    case "event_property_contains": {
      const key = str("key");
      const wanted = own(condition, "value");
      if (key === undefined || !isSimpleValue(wanted)) return false;
      const list = eventProperty(event, key);
      return Array.isArray(list) && list.some((item) => sameSimpleValue(item, wanted));
    }
    case "contains_display_name":
      return containsDisplayName(event, ctx.displayName);
    case "room_member_count": {
      const is = str("is");
      return is !== undefined && memberCountMatches(is, ctx.memberCount);
    }
    case "sender_notification_permission": {
      const key = str("key");
      if (key === undefined) return false;
      return ctx.powerLevels.senderLevel() >= (ctx.powerLevels.notificationLevel(key) ?? DEFAULT_NOTIFICATION_LEVEL);
    }
    default:
      return false;
  }
}
