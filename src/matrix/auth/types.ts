/**
 * Shared shapes of the authorization rules (spec: Room versions § Authorization rules,
 * content/rooms/v1.md … v12.md).
 */
import type { RoomEvent } from "../events";

/** Whether an event passes the authorization rules, and if not, which rule refused it. */
export type AuthResult = { ok: true } | { ok: false; reason: string };

/**
 * The state an event is checked against, looked up by `(type, state_key)`.
 *
 * It must return the room's `m.room.create` event under `("m.room.create", "")` in every room
 * version — also in v12, where the create event is implied by the room id and is never listed in
 * `auth_events`. It should only ever return accepted (not rejected) events.
 */
export type AuthStateLookup = (type: string, stateKey: string) => RoomEvent | undefined;

export interface CheckEventAuthOptions {
  /**
   * Whether any signature in `content.third_party_invite.signed` of the invite `event` verifies
   * with a public key of the `m.room.third_party_invite` event `invite` (rule "If any signature in
   * `signed` matches any public key…"). Ed25519 verification is asynchronous in WebCrypto, so the
   * caller verifies first (see `verifyThirdPartyInviteSignature`) and hands the answer in here.
   * When absent, every invite that relies on a third-party invite is rejected: we fail closed.
   */
  verifyThirdPartyInvite?: (event: RoomEvent, invite: RoomEvent) => boolean;
}

export const ALLOW: AuthResult = { ok: true };

export function deny(reason: string): AuthResult {
  return { ok: false, reason };
}

/** The state event types that affect authorization, plus the two with special-cased rules. */
export const EventType = {
  create: "m.room.create",
  member: "m.room.member",
  joinRules: "m.room.join_rules",
  powerLevels: "m.room.power_levels",
  thirdPartyInvite: "m.room.third_party_invite",
  aliases: "m.room.aliases",
  redaction: "m.room.redaction",
} as const;

export const Membership = {
  join: "join",
  invite: "invite",
  leave: "leave",
  ban: "ban",
  knock: "knock",
} as const;

export const JoinRule = {
  public: "public",
  invite: "invite",
  knock: "knock",
  restricted: "restricted",
  knockRestricted: "knock_restricted",
  private: "private",
} as const;
