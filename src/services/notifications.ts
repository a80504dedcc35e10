/**
 * GET /notifications (spec: Client-Server § Push Notifications, § Listing Notifications): the
 * notifications the user's object recorded as it evaluated their events
 * (objects/user/notifications.ts), newest first.
 */
import { invalidParam } from "../api/errors";
import type { JsonObject } from "../matrix/canonical-json";
import type { UserDurableObject } from "../objects/user/user-object";
import { typedStub } from "../objects/rpc";
import type { Deps } from "./deps";

/** Synapse's default page size; larger requests are capped. */
export const NOTIFICATIONS_DEFAULT_LIMIT = 50;
export const NOTIFICATIONS_MAX_LIMIT = 1000;

/** A `next_token` is the position of the last notification returned; anything else is refused. */
function parseFrom(from: string | undefined): number | undefined {
  if (from === undefined) return undefined;
  if (!/^\d{1,15}$/.test(from)) throw invalidParam("Invalid from token");
  return Number(from);
}

export async function listNotifications(deps: Deps, userId: string, q: { from?: string; limit?: number; only?: string }): Promise<JsonObject> {
  const from = parseFrom(q.from);
  const limit = Math.min(q.limit ?? NOTIFICATIONS_DEFAULT_LIMIT, NOTIFICATIONS_MAX_LIMIT);
  const page = await typedStub<UserDurableObject, "notificationsPage">(deps.env.USERS.getByName(userId)).notificationsPage(userId, from, limit, q.only === "highlight");
  const out: JsonObject = { notifications: page.notifications as unknown as JsonObject[] };
  if (page.nextToken !== undefined) out.next_token = String(page.nextToken);
  return out;
}
