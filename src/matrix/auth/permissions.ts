/**
 * Questions the room engine asks before it builds an event, answered from the same state the
 * authorization rules read. They are advisory: the event is still run through `checkEventAuth`.
 */
import type { RoomVersion } from "../room-versions";
import { joinRuleIn, membershipIn } from "./context";
import { domainOf } from "./ids";
import { fieldLevel, powerLevelOf, powerLevelsIn, userLevelIn } from "./power-levels";
import { EventType, type AuthStateLookup } from "./types";

export type PowerAction = "invite" | "kick" | "ban" | "redact";

/** A user's membership in the given state (`join`, `invite`, `leave`, `ban`, `knock`), if any. */
export function membershipOf(userId: string, authState: AuthStateLookup): string | undefined {
  return membershipIn(authState, userId);
}

/** The join rule in the given state; `invite` when the room has no join rules event. */
export function joinRuleOf(authState: AuthStateLookup): string | undefined {
  return joinRuleIn(authState);
}

/** The level an action needs: the invite, kick, ban or redact level. */
export function actionPowerLevel(action: PowerAction, authState: AuthStateLookup, version: RoomVersion): number {
  return fieldLevel(powerLevelsIn(authState, version), action);
}

/**
 * Whether `userId` has the power for `action`. For `kick` and `ban` with a `targetUserId`, the
 * target must also be below the user, as the membership rules require; an unban needs both the
 * kick and ban levels, so check both actions for it.
 */
export function canUserDo(
  userId: string,
  action: PowerAction,
  authState: AuthStateLookup,
  version: RoomVersion,
  targetUserId?: string,
): boolean {
  const levels = powerLevelsIn(authState, version);
  const create = authState(EventType.create, "");
  const level = userLevelIn(userId, levels, create, version);
  if (level < fieldLevel(levels, action)) return false;
  if ((action === "kick" || action === "ban") && targetUserId !== undefined) {
    return userLevelIn(targetUserId, levels, create, version) < level;
  }
  return true;
}

/**
 * Whether a redaction should be applied to the event it redacts (spec: rooms/v3+ § Handling
 * redactions): the redaction's sender reaches the redact level, or is on the same server as the
 * original event's sender. In v1–2 the authorization rules already decided this.
 */
export function mayApplyRedaction(
  redactionSender: string,
  originalSender: string,
  authState: AuthStateLookup,
  version: RoomVersion,
): boolean {
  if (powerLevelOf(redactionSender, authState, version) >= actionPowerLevel("redact", authState, version)) return true;
  const domain = domainOf(redactionSender);
  return domain !== undefined && domain === domainOf(originalSender);
}
