/** Registration tokens: the configured secret, or tokens stored in D1 with use limits and expiry. */
import { consumeRegistrationTokenStatement, getRegistrationToken } from "../storage/d1/registration-tokens";
import type { Deps } from "./deps";
import { timingSafeEqual } from "./random";

export async function checkRegistrationToken(deps: Deps, token: string): Promise<boolean> {
  const configured = deps.config.registrationToken;
  if (configured && timingSafeEqual(token, configured)) return true;
  const row = await getRegistrationToken(deps.env.DB, token);
  if (!row) return false;
  if (row.expiry_time !== null && row.expiry_time <= deps.now()) return false;
  return row.uses_allowed === null || row.completed < row.uses_allowed;
}

/** The statement that spends one use of a stored token, run just before the account is created (and refunded if that fails). */
export function spendRegistrationTokenStatement(deps: Deps, token: string): D1PreparedStatement | undefined {
  const configured = deps.config.registrationToken;
  if (configured && timingSafeEqual(token, configured)) return undefined;
  return consumeRegistrationTokenStatement(deps.env.DB, token, deps.now());
}
