/**
 * Room pagination tokens. `t<N>` is the position just after the event with room stream ordering
 * N: paginating backwards from it starts with event N, forwards with N+1. The same tokens appear
 * as /sync `prev_batch`, /messages `start`/`end` and /context `start`/`end`, so they stay stable.
 */
import { MatrixError } from "../api/errors";

export function roomToken(stream: number): string {
  return `t${stream}`;
}

export function parseRoomToken(token: string): number {
  const m = /^t(\d{1,15})$/.exec(token);
  if (!m) throw new MatrixError("M_INVALID_PARAM", "Invalid pagination token");
  return Number(m[1]);
}
