/**
 * The `m.room.member` rules (spec: Room versions § Authorization rules — rule 5 in v1–5, rule 4 in
 * v6–11, rule 5 in v12; knock from v7, restricted joins from v8, knock_restricted from v10, the
 * v11 creator change).
 */
import { prevEventIds } from "../events";
import { isValidUserId } from "./ids";
import { creatorOf } from "./power-levels";
import { isJsonObject, own, ownObject, ownString } from "./json";
import {
  joinRuleIn,
  membershipIn,
  namedLevel,
  powerLevelsUnusable,
  userLevel,
  type AuthContext,
} from "./context";
import { ALLOW, deny, EventType, JoinRule, Membership, type AuthResult } from "./types";

export function checkMemberEvent(ctx: AuthContext): AuthResult {
  const { event } = ctx;
  // If there is no state_key property, or no membership property in content, reject.
  if (typeof event.state_key !== "string") return deny("m.room.member must have a state_key");
  if (!Object.prototype.hasOwnProperty.call(event.content, "membership")) {
    return deny("m.room.member must have content.membership");
  }
  // (v8+ rule "if content has join_authorised_via_users_server, the event must be validly signed
  // by that user's server" is a signature check: see `joinAuthorisingSignature`.)
  const membership = own(event.content, "membership");
  switch (membership) {
    case Membership.join:
      return checkJoin(ctx, event.state_key);
    case Membership.invite:
      return checkInvite(ctx, event.state_key);
    case Membership.leave:
      return checkLeave(ctx, event.state_key);
    case Membership.ban:
      return checkBan(ctx, event.state_key);
    case Membership.knock:
      // v7+ only; before that knock is an unknown membership.
      if (ctx.version.knock) return checkKnock(ctx, event.state_key);
      return deny("knocking is not supported in this room version");
    default:
      return deny("unknown membership");
  }
}

function checkJoin(ctx: AuthContext, target: string): AuthResult {
  const { event, version, state, create } = ctx;

  // If the only previous event is an m.room.create and the state_key is the creator (v1–10:
  // content.creator; v11+: the create event's sender), allow.
  const prev = prevEventIds(event);
  if (prev.length === 1 && prev[0] === create.event_id && target === creatorOf(create, version)) return ALLOW;

  // If the sender does not match state_key, reject.
  if (event.sender !== target) return deny("a user can only join on their own behalf");

  const current = membershipIn(state, target);
  // If the sender is banned, reject.
  if (current === Membership.ban) return deny("the sender is banned");

  const joinRule = joinRuleIn(state);
  const invitedOrJoined = current === Membership.invite || current === Membership.join;

  // If the join_rule is invite (v7+: or knock), allow if membership state is invite or join.
  if (joinRule === JoinRule.invite || (version.knock && joinRule === JoinRule.knock)) {
    return invitedOrJoined ? ALLOW : deny(`the join rule is ${joinRule} and the sender is not invited`);
  }

  // v8+: restricted; v10+: knock_restricted.
  if (
    (version.restrictedJoins && joinRule === JoinRule.restricted) ||
    (version.knockRestricted && joinRule === JoinRule.knockRestricted)
  ) {
    // If membership state is join or invite, allow.
    if (invitedOrJoined) return ALLOW;
    // If join_authorised_via_users_server is not a joined user with power to invite, reject.
    const authoriser = ownString(event.content, "join_authorised_via_users_server");
    if (authoriser === undefined) return deny("a restricted join needs join_authorised_via_users_server");
    if (membershipIn(state, authoriser) !== Membership.join) {
      return deny("join_authorised_via_users_server is not a joined member");
    }
    const unusable = powerLevelsUnusable(ctx);
    if (unusable) return unusable;
    if (userLevel(ctx, authoriser) < namedLevel(ctx, "invite")) {
      return deny("join_authorised_via_users_server cannot invite");
    }
    return ALLOW;
  }

  // If the join_rule is public, allow. Otherwise, reject.
  if (joinRule === JoinRule.public) return ALLOW;
  return deny(`the join rule ${JSON.stringify(joinRule ?? null)} does not allow joining`);
}

function checkInvite(ctx: AuthContext, target: string): AuthResult {
  const { event, state } = ctx;

  // If content has a third_party_invite property:
  if (Object.prototype.hasOwnProperty.call(event.content, "third_party_invite")) {
    // If target user is banned, reject.
    if (membershipIn(state, target) === Membership.ban) return deny("the target is banned");
    // If content.third_party_invite does not have a signed property, reject.
    const signed = ownObject(ownObject(event.content, "third_party_invite"), "signed");
    if (!signed) return deny("third_party_invite has no signed object");
    // If signed does not have mxid and token properties, reject.
    const mxid = own(signed, "mxid");
    const token = own(signed, "token");
    if (typeof mxid !== "string" || typeof token !== "string") {
      return deny("third_party_invite.signed needs mxid and token");
    }
    // If mxid does not match state_key, reject.
    if (mxid !== target) return deny("third_party_invite.signed.mxid does not match the state_key");
    // If there is no m.room.third_party_invite event in the current room state with state_key
    // matching token, reject.
    const invite = state(EventType.thirdPartyInvite, token);
    if (!invite) return deny("no m.room.third_party_invite matches the token");
    // If sender does not match sender of the m.room.third_party_invite, reject.
    if (invite.sender !== event.sender) return deny("the sender did not send the m.room.third_party_invite");
    // If any signature in signed matches any public key in the m.room.third_party_invite, allow.
    // Otherwise, reject. Without a verifier we cannot know, so we refuse.
    const verify = ctx.options.verifyThirdPartyInvite;
    if (!verify) return deny("third-party invite signatures cannot be verified here");
    return verify(event, invite) ? ALLOW : deny("no signature in third_party_invite.signed matches a public key");
  }

  // If the sender's current membership state is not join, reject.
  if (membershipIn(state, event.sender) !== Membership.join) return deny("the sender is not joined");
  // If target user's current membership state is join or ban, reject.
  const targetMembership = membershipIn(state, target);
  if (targetMembership === Membership.join) return deny("the target is already joined");
  if (targetMembership === Membership.ban) return deny("the target is banned");
  // If the sender's power level is greater than or equal to the invite level, allow.
  const unusable = powerLevelsUnusable(ctx);
  if (unusable) return unusable;
  if (userLevel(ctx, event.sender) >= namedLevel(ctx, "invite")) return ALLOW;
  return deny("the sender's power level is below the invite level");
}

function checkLeave(ctx: AuthContext, target: string): AuthResult {
  const { event, version, state } = ctx;
  const senderMembership = membershipIn(state, event.sender);

  // If the sender matches state_key, allow if and only if that user's current membership state is
  // invite or join (v7+: or knock).
  if (event.sender === target) {
    if (
      senderMembership === Membership.invite ||
      senderMembership === Membership.join ||
      (version.knock && senderMembership === Membership.knock)
    ) {
      return ALLOW;
    }
    return deny("a user can only leave from invite, join or knock");
  }

  // If the sender's current membership state is not join, reject.
  if (senderMembership !== Membership.join) return deny("the sender is not joined");
  const unusable = powerLevelsUnusable(ctx);
  if (unusable) return unusable;
  const senderLevel = userLevel(ctx, event.sender);
  // If the target user's current membership state is ban, and the sender's power level is less
  // than the ban level, reject.
  if (membershipIn(state, target) === Membership.ban && senderLevel < namedLevel(ctx, "ban")) {
    return deny("the sender's power level is below the ban level, so cannot unban");
  }
  // If the sender's power level is greater than or equal to the kick level, and the target user's
  // power level is less than the sender's power level, allow.
  if (senderLevel >= namedLevel(ctx, "kick") && userLevel(ctx, target) < senderLevel) return ALLOW;
  return deny("the sender cannot kick the target");
}

function checkBan(ctx: AuthContext, target: string): AuthResult {
  const { event, state } = ctx;
  // If the sender's current membership state is not join, reject.
  if (membershipIn(state, event.sender) !== Membership.join) return deny("the sender is not joined");
  const unusable = powerLevelsUnusable(ctx);
  if (unusable) return unusable;
  const senderLevel = userLevel(ctx, event.sender);
  // If the sender's power level is greater than or equal to the ban level, and the target user's
  // power level is less than the sender's power level, allow.
  if (senderLevel >= namedLevel(ctx, "ban") && userLevel(ctx, target) < senderLevel) return ALLOW;
  return deny("the sender cannot ban the target");
}

function checkKnock(ctx: AuthContext, target: string): AuthResult {
  const { event, version, state } = ctx;
  // If the join_rule is anything other than knock (v10+: or knock_restricted), reject.
  const joinRule = joinRuleIn(state);
  if (!(joinRule === JoinRule.knock || (version.knockRestricted && joinRule === JoinRule.knockRestricted))) {
    return deny("the join rule does not allow knocking");
  }
  // If sender does not match state_key, reject.
  if (event.sender !== target) return deny("a user can only knock on their own behalf");
  // If the sender's current membership is not ban, invite, or join, allow. Otherwise, reject.
  const current = membershipIn(state, target);
  if (current === Membership.ban || current === Membership.invite || current === Membership.join) {
    return deny(`cannot knock while ${current}`);
  }
  return ALLOW;
}

/** What rule "join_authorised_via_users_server must be validly signed" asks of an event. */
export type AuthorisingSignature =
  | { kind: "none" }
  /** The event must carry a valid signature from this server. */
  | { kind: "required"; serverName: string }
  /** The key is present but names no user, so no signature can satisfy it: reject. */
  | { kind: "invalid"; reason: string };

/**
 * v8+ rule "If content has a join_authorised_via_users_server key: if the event is not validly
 * signed by the homeserver of the user ID denoted by the key, reject" (rooms/v8 rule 4.2).
 * Signatures are verified asynchronously when a PDU is received, before these rules run, so this
 * only says which server must have signed; the caller verifies the signature. Like the spec (and
 * unlike Synapse, which asks it of joins only) it applies whatever the membership.
 */
export function joinAuthorisingSignature(
  event: { type: string; content: unknown },
  version: { restrictedJoins: boolean },
): AuthorisingSignature {
  if (!version.restrictedJoins || event.type !== EventType.member || !isJsonObject(event.content)) return { kind: "none" };
  if (!Object.prototype.hasOwnProperty.call(event.content, "join_authorised_via_users_server")) return { kind: "none" };
  const authoriser = own(event.content, "join_authorised_via_users_server");
  if (!isValidUserId(authoriser)) return { kind: "invalid", reason: "join_authorised_via_users_server is not a user id" };
  return { kind: "required", serverName: authoriser.slice(authoriser.indexOf(":") + 1) };
}
