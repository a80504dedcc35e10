/**
 * Event authorization for room versions 1–12 (spec: Room versions § Authorization rules;
 * Server-Server API § Auth events selection, § Checks performed on receipt of a PDU).
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
