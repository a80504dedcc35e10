/** Receipts — spec: Client-Server § Receipts. */
import type { Hono } from "hono";
import { z } from "zod";
import { setReadMarkers } from "../../../services/read-markers";
import { parseReceiptRequest, postReceipt } from "../../../services/receipts";
import type { AppEnv } from "../../app-env";
import { clientPaths, route } from "../../route";

export function registerReceiptRoutes(app: Hono<AppEnv>): void {
  // POST /rooms/{roomId}/receipt/{receiptType}/{eventId}. thread_id is checked by the service so a
  // bad one is 400 M_INVALID_PARAM, as the spec's example shows, rather than M_BAD_JSON.
  route(app, {
    method: "POST",
    paths: clientPaths("/rooms/:roomId/receipt/:receiptType/:eventId"),
    auth: "user",
    body: z.looseObject({ thread_id: z.unknown().optional() }),
    handler: async ({ deps, params, session, body }) => {
      const receipt = parseReceiptRequest(params.receiptType!, body.thread_id);
      if (receipt.type === "m.fully_read") await setReadMarkers(deps, session.userId, params.roomId!, { fullyRead: params.eventId! });
      else await postReceipt(deps, params.roomId!, session.userId, receipt.type, params.eventId!, receipt.threadId);
      return {};
    },
  });
}
