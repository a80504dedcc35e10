/**
 * The authorization rules for room versions 1–12 (spec: content/rooms/v1.md … v12.md
 * § Authorization rules), checked against a given state.
 *
 * Rule numbers below follow the version they were last renumbered in: v1–5 have the aliases rule
 * (4) that v6 removed, and v12 inserted the room-id rule (2). The rules about `auth_events`
 * themselves (duplicates, unexpected entries, rejected entries, missing create event, other
 * rooms) are in `checkAuthEventsShape`, which callers run once on receipt; this function assumes
 * `authState` is already the state to check against — the event's auth events, the state before
 * it, or the current state, as the checks on receipt of a PDU require in turn.
 *
 * Signatures are not checked here: "Events must be signed by the server denoted by the sender"
 * and the v8+ `join_authorised_via_users_server` signature rule are part of the checks on receipt
 * of a PDU (see `joinAuthorisingSignature`); third-party invite signatures are injected through
 * `options.verifyThirdPartyInvite`.
 */
import type { RoomEvent } from "../events";
import type { RoomVersion } from "../room-versions";
import { checkCreateEvent, roomIdForCreateEventId } from "./create";
import { makeContext, membershipIn, namedLevel, powerLevelsUnusable, requiredLevel, userLevel } from "./context";
import { domainOf } from "./ids";
import { own } from "./json";
import { checkMemberEvent } from "./membership";
import { checkPowerLevelsEvent } from "./power-levels-change";
import { ALLOW, deny, EventType, Membership, type AuthResult, type AuthStateLookup, type CheckEventAuthOptions } from "./types";

export function checkEventAuth(
  event: RoomEvent,
  authState: AuthStateLookup,
  version: RoomVersion,
  options: CheckEventAuthOptions = {},
): AuthResult {
  // 1. m.room.create has rules of its own and depends on no state.
  if (event.type === EventType.create) return checkCreateEvent(event, version);

  const create = authState(EventType.create, "");
  if (!create) return deny("there is no m.room.create event in the state");
  if (version.roomIdFromCreateEvent) {
    // v12 2. If the event's room_id is not the event id of an accepted m.room.create event with
    // the sigil ! instead of $, reject. (That the create event is accepted is the lookup's
    // promise: it only returns accepted events.)
    if (event.room_id !== roomIdForCreateEventId(create.event_id)) {
      return deny("the room id is not derived from the room's m.room.create event");
    }
  } else if (create.room_id !== event.room_id) {
    // The create event's room must be the event's room (v1–11 rule 2.5 asks this of every auth
    // event; checking it here too keeps a wrong lookup from authorizing across rooms).
    return deny("the m.room.create event belongs to another room");
  }

  // 3 (v12: 4). If the create event has m.federate set to false and the sender's domain differs
  // from the create event sender's domain, reject.
  if (own(create.content, "m.federate") === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return deny("the room does not federate and the sender is on another server");
  }

  // v1–5 rule 4: m.room.aliases is allowed whenever its state_key is the sender's domain.
  if (version.specialCaseAliasesAuth && event.type === EventType.aliases) {
    if (typeof event.state_key !== "string") return deny("m.room.aliases must have a state_key");
    if (event.state_key !== domainOf(event.sender)) return deny("m.room.aliases state_key must be the sender's domain");
    return ALLOW;
  }

  const ctx = makeContext(event, version, authState, create, options);

  // m.room.member has rules of its own.
  if (event.type === EventType.member) return checkMemberEvent(ctx);

  // If the sender's current membership state is not join, reject.
  if (membershipIn(authState, event.sender) !== Membership.join) return deny("the sender is not joined to the room");

  const unusable = powerLevelsUnusable(ctx);
  if (unusable) return unusable;
  const senderLevel = userLevel(ctx, event.sender);

  // m.room.third_party_invite: allow if and only if the sender's level reaches the invite level.
  if (event.type === EventType.thirdPartyInvite) {
    return senderLevel >= namedLevel(ctx, "invite") ? ALLOW : deny("the sender's power level is below the invite level");
  }

  // If the event type's required power level is greater than the sender's power level, reject.
  const isState = typeof event.state_key === "string";
  if (requiredLevel(ctx, event.type, isState) > senderLevel) {
    return deny(`the sender's power level is too low to send ${event.type}`);
  }

  // If the event has a state_key that starts with an @ and does not match the sender, reject.
  if (isState && event.state_key!.startsWith("@") && event.state_key !== event.sender) {
    return deny("a state_key starting with @ must be the sender's user id");
  }

  if (event.type === EventType.powerLevels) return checkPowerLevelsEvent(ctx, senderLevel);

  // v1–2 rule 11: m.room.redaction needs the redact level, or the redacted event's id must have
  // the same domain as the redaction's. From v3 the rules no longer look at redactions; whether
  // one is applied is decided when handling it (see `mayApplyRedaction`).
  if (version.eventIdFormat === "v1" && event.type === EventType.redaction) {
    if (senderLevel >= namedLevel(ctx, "redact")) return ALLOW;
    const redacts = typeof event.redacts === "string" ? event.redacts : undefined;
    const redactsDomain = redacts === undefined ? undefined : domainOf(redacts);
    if (redactsDomain !== undefined && redactsDomain === domainOf(event.event_id)) return ALLOW;
    return deny("the sender cannot redact events from another server");
  }

  return ALLOW;
}
