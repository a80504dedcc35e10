/**
 * Typing notifications (spec: Client-Server § Typing notifications). The set of typing users
 * lives in the room object's memory (DESIGN §1, src/objects/room/typing.ts), which tells the
 * joined local members of every change.
 */
import { forbidden, MatrixError } from "../api/errors";
import type { Deps } from "./deps";
import { assertRoomId, roomStub } from "./rooms";

/**
 * PUT /rooms/{roomId}/typing/{userId}: only for oneself, only while joined. The room object
 * clamps `timeoutMs` (30 s when absent, at most 120 s); `typing: false` stops at once.
 */
export async function setTyping(deps: Deps, sessionUserId: string, roomId: string, userId: string, typing: boolean, timeoutMs?: number): Promise<void> {
  assertRoomId(roomId);
  if (userId !== sessionUserId) throw forbidden("You may only set your own typing state");
  const result = await roomStub(deps, roomId).setTyping(userId, typing, timeoutMs);
  if (!result.ok) throw new MatrixError(result.errcode, result.error);
}
