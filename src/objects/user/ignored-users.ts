/**
 * Ignoring users (spec: Client-Server § Ignoring Users): once a user is in the syncing user's
 * `m.ignored_user_list`, sync sends none of their events "with the exception of state events",
 * and no invites from them; push notifies of nothing they send. Applied when reading, not when
 * delivering, so a fresh sync after un-ignoring shows what was sent meanwhile, as the spec says.
 */
import type { ClientEvent } from "../../matrix/client-event";

/** The user ids of an `m.ignored_user_list` content: the keys of `ignored_users`. */
export function ignoredUserIds(content: unknown): string[] {
  const users = (content as { ignored_users?: unknown } | null)?.ignored_users;
  if (typeof users !== "object" || users === null || Array.isArray(users)) return [];
  return Object.keys(users);
}

/** Whether sync hides this event from a user who ignores `ignored`. */
export function hiddenByIgnore(ev: Pick<ClientEvent, "sender" | "state_key">, ignored: ReadonlySet<string> | undefined): boolean {
  return ignored !== undefined && ignored.size > 0 && typeof ev.state_key !== "string" && ignored.has(ev.sender);
}

/** Whether an invite came from an ignored user: the sender of the user's own invite member event in its stripped state. */
export function inviteFromIgnored(stripped: { type?: unknown; state_key?: unknown; sender?: unknown }[], userId: string, ignored: ReadonlySet<string> | undefined): boolean {
  if (!ignored || ignored.size === 0) return false;
  const invite = stripped.find((e) => e.type === "m.room.member" && e.state_key === userId);
  return typeof invite?.sender === "string" && ignored.has(invite.sender);
}
