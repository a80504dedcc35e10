/**
 * Receipts (spec: Client-Server § Receipts). The room object stores them and delivers them to
 * local members' objects (DESIGN §1, src/objects/room/receipts.ts); this layer checks what the
 * client sent and maps the room's refusals to Matrix errors.
 */
import { invalidParam, MatrixError } from "../api/errors";
import type { ReceiptType } from "../objects/room/receipts";
import type { Deps } from "./deps";
import { assertRoomId, roomStub } from "./rooms";

export type { ReceiptType };

/** What POST /receipt accepts: the two receipt types, and the fully-read marker it stands in for. */
export const RECEIPT_ENDPOINT_TYPES = ["m.read", "m.read.private", "m.fully_read"] as const;
export type ReceiptEndpointType = (typeof RECEIPT_ENDPOINT_TYPES)[number];

/**
 * Stores an `m.read` or `m.read.private` receipt. The user must be joined and able to see the
 * event (403 / 404); `threadId` must name the event's thread (400 otherwise).
 */
export async function postReceipt(deps: Deps, roomId: string, userId: string, receiptType: ReceiptType, eventId: string, threadId?: string): Promise<void> {
  assertRoomId(roomId);
  const result = await roomStub(deps, roomId).postReceipt(userId, receiptType, eventId, threadId);
  if (!result.ok) throw new MatrixError(result.errcode, result.error);
}

/**
 * Checks POST /rooms/{roomId}/receipt/{receiptType}/{eventId} before anything is touched.
 * `m.fully_read` "effectively calls /read_markers" and is not threaded: a thread_id with it is
 * "provided for an incompatible receipt type" (400), as is an empty or non-string one.
 */
export function parseReceiptRequest(
  receiptType: string,
  threadId: unknown,
): { type: "m.fully_read" } | { type: ReceiptType; threadId?: string } {
  if (!(RECEIPT_ENDPOINT_TYPES as readonly string[]).includes(receiptType)) {
    throw invalidParam(`Receipt type must be one of ${RECEIPT_ENDPOINT_TYPES.join(", ")}`);
  }
  if (threadId !== undefined && (typeof threadId !== "string" || threadId === "")) throw invalidParam("thread_id field must be a non-empty string");
  if (receiptType === "m.fully_read") {
    if (threadId !== undefined) throw invalidParam("thread_id is not compatible with m.fully_read");
    return { type: "m.fully_read" };
  }
  return threadId === undefined ? { type: receiptType as ReceiptType } : { type: receiptType as ReceiptType, threadId: threadId as string };
}
