/**
 * Identifier checks the authorization rules need (spec: Appendices § Identifier grammar).
 */

/**
 * The server part of a user id, a v1/v2 event id or a pre-v12 room id: everything after the first
 * `:`. Localparts cannot contain `:`, while a server name may (its port), so the first one splits.
 */
export function domainOf(id: string): string | undefined {
  const i = id.indexOf(":");
  return i < 0 ? undefined : id.slice(i + 1);
}

const DNS_NAME = /^[A-Za-z0-9.-]{1,255}$/;
const IPV6_LITERAL = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const PORT = /^[0-9]{1,5}$/;

/** `server_name = hostname [ ":" port ]` (Appendices § Server Name). */
export function isValidServerName(name: string): boolean {
  let host = name;
  let port: string | undefined;
  if (name.startsWith("[")) {
    const close = name.indexOf("]");
    if (close < 0) return false;
    host = name.slice(0, close + 1);
    const rest = name.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return false;
      port = rest.slice(1);
    }
    if (!IPV6_LITERAL.test(host)) return false;
  } else {
    const colon = name.indexOf(":");
    if (colon >= 0) {
      host = name.slice(0, colon);
      port = name.slice(colon + 1);
    }
    if (!DNS_NAME.test(host)) return false;
  }
  return port === undefined || PORT.test(port);
}

const encoder = new TextEncoder();

/**
 * A user id as servers must accept it in events (Appendices § User Identifiers, including
 * § Historical User IDs): `@`, a localpart of any code points but `:` and NUL (possibly empty),
 * `:`, a valid server name, and at most 255 bytes in all. The stricter grammar for new user ids
 * is enforced where accounts are registered, not here: rooms contain historical ids.
 */
export function isValidUserId(id: unknown): id is string {
  if (typeof id !== "string" || !id.startsWith("@")) return false;
  if (encoder.encode(id).length > 255) return false;
  const colon = id.indexOf(":");
  if (colon < 1) return false;
  if (id.slice(1, colon).includes("\u0000")) return false;
  return isValidServerName(id.slice(colon + 1));
}
