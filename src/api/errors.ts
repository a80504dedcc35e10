/**
 * Matrix errors (spec: Client-Server API § Standard error response). Code throws a
 * `MatrixError`; the app's error handler turns it into `{errcode, error, ...extra}` with the
 * status from one table, so a status can never disagree with its errcode by accident.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

const STATUS: Record<string, ContentfulStatusCode> = {
  M_FORBIDDEN: 403,
  M_UNKNOWN_TOKEN: 401,
  M_MISSING_TOKEN: 401,
  M_USER_LOCKED: 401,
  M_BAD_JSON: 400,
  M_NOT_JSON: 400,
  M_NOT_FOUND: 404,
  M_LIMIT_EXCEEDED: 429,
  M_UNRECOGNIZED: 404,
  M_UNKNOWN: 400,
  M_UNAUTHORIZED: 401,
  M_USER_DEACTIVATED: 403,
  M_USER_IN_USE: 400,
  M_INVALID_USERNAME: 400,
  M_ROOM_IN_USE: 400,
  M_INVALID_ROOM_STATE: 400,
  M_THREEPID_IN_USE: 400,
  M_THREEPID_NOT_FOUND: 400,
  M_THREEPID_AUTH_FAILED: 401,
  M_THREEPID_DENIED: 403,
  M_SERVER_NOT_TRUSTED: 403,
  M_UNSUPPORTED_ROOM_VERSION: 400,
  M_INCOMPATIBLE_ROOM_VERSION: 400,
  M_BAD_STATE: 400,
  M_GUEST_ACCESS_FORBIDDEN: 403,
  M_CAPTCHA_NEEDED: 401,
  M_CAPTCHA_INVALID: 400,
  M_MISSING_PARAM: 400,
  M_INVALID_PARAM: 400,
  M_TOO_LARGE: 413,
  M_EXCLUSIVE: 400,
  M_RESOURCE_LIMIT_EXCEEDED: 403,
  M_CANNOT_LEAVE_SERVER_NOTICE_ROOM: 403,
  M_WEAK_PASSWORD: 400,
  M_UNABLE_TO_AUTHORISE_JOIN: 400,
  M_UNABLE_TO_GRANT_JOIN: 400,
  M_NOT_YET_UPLOADED: 504,
  M_CANNOT_OVERWRITE_MEDIA: 409,
  M_TOO_LARGE_TO_THUMBNAIL: 400,
  M_BAD_ALIAS: 400,
};

export class MatrixError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    status?: ContentfulStatusCode,
  ) {
    super(message);
    this.status = status ?? STATUS[errcode] ?? 400;
  }

  toJSON(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const forbidden = (message: string) => new MatrixError("M_FORBIDDEN", message);
export const notFound = (message: string) => new MatrixError("M_NOT_FOUND", message);
export const badJson = (message: string) => new MatrixError("M_BAD_JSON", message);
export const invalidParam = (message: string) => new MatrixError("M_INVALID_PARAM", message);
export const missingParam = (message: string) => new MatrixError("M_MISSING_PARAM", message);
export const unrecognized = (message = "Unrecognized request") => new MatrixError("M_UNRECOGNIZED", message);
export const limitExceeded = (retryAfterMs: number) =>
  new MatrixError("M_LIMIT_EXCEEDED", "Too many requests", { retry_after_ms: retryAfterMs });
