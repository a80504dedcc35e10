/**
 * Read receipts (spec: Client-Server § Receipts). Not built yet: fail closed, so a client learns
 * that its receipt was not stored.
 */
import { MatrixError } from "../api/errors";
import type { Deps } from "./deps";

export async function postReceipt(_deps: Deps, _roomId: string, _userId: string, _receiptType: string, _eventId: string, _threadId?: string): Promise<void> {
  throw new MatrixError("M_UNRECOGNIZED", "Receipts are not built yet");
}
