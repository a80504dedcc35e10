/**
 * Headers for serving media safely (spec: Client-Server § Content repository, § Serving inline
 * content). Shared by download and thumbnail responses: every media response carries the
 * restrictive Content-Security-Policy, nosniff and CORP; only browser-safe types are `inline`.
 */

/** The spec's recommended policy, plus `media-src 'self'` as Synapse sends (so audio/video still play). */
export const MEDIA_CSP =
  "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/** Spec § Serving inline content: the types that may be served with `Content-Disposition: inline`. */
export const INLINE_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "text/css",
  "text/plain",
  "text/csv",
  "application/json",
  "application/ld+json",
  "image/jpeg",
  "image/gif",
  "image/png",
  "image/apng",
  "image/webp",
  "image/avif",
  "video/mp4",
  "video/webm",
  "video/ogg",
  "video/quicktime",
  "audio/mp4",
  "audio/webm",
  "audio/aac",
  "audio/mpeg",
  "audio/ogg",
  "audio/wave",
  "audio/wav",
  "audio/x-wav",
  "audio/x-pn-wav",
  "audio/flac",
  "audio/x-flac",
]);

/** The `type/subtype` of a Content-Type, lower-cased, without parameters. */
export function mediaTypeEssence(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

export function isInlineSafe(contentType: string): boolean {
  return INLINE_CONTENT_TYPES.has(mediaTypeEssence(contentType));
}

/**
 * The Content-Type to send: as uploaded, with `charset=utf-8` added to text types that name none
 * (one of the spec's "reasonably close" changes), so browsers don't guess an encoding.
 */
export function servedContentType(contentType: string): string {
  if (mediaTypeEssence(contentType).startsWith("text/") && !/;\s*charset=/i.test(contentType)) return `${contentType}; charset=utf-8`;
  return contentType;
}

/** RFC 5987 `attr-char`s may stay as they are; everything else is percent-encoded from UTF-8. */
function encodeExtValue(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `inline` or `attachment`, with the file name per RFC 6266 § 4.3: a printable-ASCII name without
 * quote or backslash goes in `filename="…"`; any other name in `filename*=utf-8''…` (RFC 5987), so
 * no name can break out of the header or be read in another encoding.
 */
export function contentDisposition(contentType: string, filename: string | null): string {
  const disposition = isInlineSafe(contentType) ? "inline" : "attachment";
  if (!filename) return disposition;
  if (/^[\x20-\x7e]*$/.test(filename) && !/["\\]/.test(filename)) return `${disposition}; filename="${filename}"`;
  return `${disposition}; filename*=utf-8''${encodeExtValue(filename)}`;
}

/** The headers every media response carries, whatever its body. */
export function mediaSecurityHeaders(): Record<string, string> {
  return {
    "Content-Security-Policy": MEDIA_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
  };
}
