/**
 * What the state-dependent rules read while checking one event.
 */
import type { RoomEvent } from "../events";
import type { RoomVersion } from "../room-versions";
import { ownString } from "./json";
import { fieldLevel, parsePowerLevels, requiredLevelIn, userLevelIn, type PowerLevelField, type PowerLevels } from "./power-levels";
import { deny, EventType, JoinRule, type AuthResult, type AuthStateLookup, type CheckEventAuthOptions } from "./types";

export interface AuthContext {
  event: RoomEvent;
  version: RoomVersion;
  state: AuthStateLookup;
  create: RoomEvent;
  options: CheckEventAuthOptions;
  /** The current power levels, if the room has a valid `m.room.power_levels` event. */
  levels: PowerLevels | undefined;
  /** Set when the current power levels event is malformed; every power comparison then fails. */
  levelsProblem: string | undefined;
}

export function makeContext(
  event: RoomEvent,
  version: RoomVersion,
  state: AuthStateLookup,
  create: RoomEvent,
  options: CheckEventAuthOptions,
): AuthContext {
  const plEvent = state(EventType.powerLevels, "");
  let levels: PowerLevels | undefined;
  let levelsProblem: string | undefined;
  if (plEvent) {
    const parsed = parsePowerLevels(plEvent.content, version);
    if (parsed.ok) levels = parsed.levels;
    else levelsProblem = `the current m.room.power_levels is malformed: ${parsed.reason}`;
  }
  return { event, version, state, create, options, levels, levelsProblem };
}

/**
 * A refusal when power levels are needed but the current ones cannot be read. Comparing against
 * defaults instead could hand out power the room never granted.
 */
export function powerLevelsUnusable(ctx: AuthContext): AuthResult | undefined {
  return ctx.levelsProblem === undefined ? undefined : deny(ctx.levelsProblem);
}

export function userLevel(ctx: AuthContext, userId: string): number {
  return userLevelIn(userId, ctx.levels, ctx.create, ctx.version);
}

export function namedLevel(ctx: AuthContext, field: PowerLevelField): number {
  return fieldLevel(ctx.levels, field);
}

export function requiredLevel(ctx: AuthContext, type: string, isState: boolean): number {
  return requiredLevelIn(type, isState, ctx.levels);
}

/** A user's current membership, `undefined` if they have no member event or it has none. */
export function membershipIn(state: AuthStateLookup, userId: string): string | undefined {
  return ownString(state(EventType.member, userId)?.content, "membership");
}

/**
 * The current join rule. Without an `m.room.join_rules` event, or without `join_rule` in it, the
 * room is treated as `invite` — the most closed rule the spec defines and what Synapse and ruma
 * assume. A non-string value matches no rule, so it admits nobody.
 */
export function joinRuleIn(state: AuthStateLookup): string | undefined {
  const event = state(EventType.joinRules, "");
  if (!event || !Object.prototype.hasOwnProperty.call(event.content, "join_rule")) return JoinRule.invite;
  return ownString(event.content, "join_rule");
}
