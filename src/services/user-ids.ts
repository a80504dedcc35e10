/** User id rules (spec: Appendices § User Identifiers). */
import { MatrixError } from "../api/errors";

/** Characters allowed in new localparts: a-z, 0-9, `.`, `_`, `=`, `-`, `/` and `+`. */
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

export function userIdFor(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/** Accepts a localpart or a full user id, as `m.id.user` allows; returns the full id. */
export function resolveUserId(user: string, serverName: string): string {
  if (user.startsWith("@")) {
    const colon = user.indexOf(":");
    if (colon < 0) return user;
    // Localparts are stored lower-case, as registration makes them.
    return `@${user.slice(1, colon).toLowerCase()}${user.slice(colon)}`;
  }
  return userIdFor(user.toLowerCase(), serverName);
}

/**
 * Validates a requested localpart for registration. Usernames are lower-cased first, like Synapse
 * does, so `Alice` registers `@alice`.
 */
export function validateNewLocalpart(username: string, serverName: string, exclusive: RegExp[]): string {
  const localpart = username.toLowerCase();
  if (!LOCALPART.test(localpart)) {
    throw new MatrixError("M_INVALID_USERNAME", "User ID can only contain characters a-z, 0-9, or '=_-./+'");
  }
  if (/^\d+$/.test(localpart)) throw new MatrixError("M_INVALID_USERNAME", "Numeric user IDs are reserved for guest users");
  if (new TextEncoder().encode(userIdFor(localpart, serverName)).length > 255) {
    throw new MatrixError("M_INVALID_USERNAME", "User ID may not be longer than 255 bytes");
  }
  const userId = userIdFor(localpart, serverName);
  if (exclusive.some((re) => re.test(userId))) {
    throw new MatrixError("M_EXCLUSIVE", "This user ID is reserved by an application service");
  }
  return localpart;
}
