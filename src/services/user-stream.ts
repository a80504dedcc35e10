/**
 * Telling a local user's object that per-user data owned elsewhere changed (docs/design/sync.md):
 * the one place services reach the user stream, so its RPC shape is adjusted here only.
 */
import type { UserDurableObject } from "../objects/user/user-object";
import type { UserChange } from "../objects/user/stream-types";
import { typedStub } from "../objects/rpc";
import type { Deps } from "./deps";

/**
 * Records the change in the user's sync stream and wakes their waiting syncs. Call it after the
 * write is durable: a sync woken by it reads the current value from the owner. A failure is
 * thrown, so the client retries its (idempotent) write rather than the change going unseen.
 */
export async function notifyUser(deps: Deps, userId: string, change: UserChange): Promise<void> {
  await typedStub<UserDurableObject, "notify">(deps.env.USERS.getByName(userId)).notify(userId, change);
}
