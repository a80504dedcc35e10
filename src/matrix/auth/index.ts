/**
 * Event authorization for room versions 1–12 (spec: Room versions § Authorization rules;
 * Server-Server API § Auth events selection, § Checks performed on receipt of a PDU).
 *
 * Where the spec leaves room for reading, we chose (each is commented where it is implemented):
 * - Power levels: every value of an `m.room.power_levels` event must parse for its room version,
 *   not only `users` in v1–9 (as ruma); malformed current power levels refuse every comparison.
 * - A top-level power level added or removed is compared at its default, per the note "power
 *   levels are inferred from defaults" (as ruma; Synapse skips the absent side).
 * - No `m.room.join_rules` event, or no `join_rule` in it, means `invite` (as Synapse and ruma).
 * - A v12 create event may carry the `room_id` derived from its own event id (our internal form);
 *   any other `room_id` is refused.
 * - Signatures (sender, v1–2 event id origin, v8+ `join_authorised_via_users_server`) are the
 *   receipt checks' job; third-party invite signatures are injected and fail closed when absent.
 */
export type { AuthResult, AuthStateLookup, CheckEventAuthOptions } from "./types";
export { EventType, JoinRule, Membership } from "./types";
export { checkEventAuth } from "./event-auth";
export { authEventSelection, checkAuthEventsShape, type AuthEventsShapeOptions, type AuthSelectionInput } from "./selection";
export { joinAuthorisingSignature, type AuthorisingSignature } from "./membership";
export {
  DEFAULT_ROOM_NOTIFICATION_LEVEL,
  POWER_LEVEL_DEFAULTS,
  POWER_LEVEL_FIELDS,
  POWER_LEVEL_WIRE_NAME,
  creatorOf,
  notificationPowerLevel,
  parsePowerLevels,
  parsePowerLevelValue,
  powerLevelOf,
  requiredPowerForEvent,
  roomCreators,
  type ParsePowerLevelsResult,
  type PowerLevelField,
  type PowerLevels,
} from "./power-levels";
export { actionPowerLevel, canUserDo, joinRuleOf, mayApplyRedaction, membershipOf, type PowerAction } from "./permissions";
export { thirdPartyInvitePublicKeys, verifyThirdPartyInviteSignature } from "./third-party-invite";
export { lookupFromEvents } from "./lookup";
