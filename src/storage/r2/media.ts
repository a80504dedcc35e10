/**
 * R2 key layout for media (docs/design/media.md). Local originals live under `media/{mediaId}`;
 * derived objects (thumbnails) go under `thumbnails/{mediaId}/…` so an item's copies share a prefix.
 * Media ids are restricted to `[A-Za-z0-9_-]` before they reach here, so a key can't escape its prefix.
 */

/** The key of a local item's original bytes. */
export function originalKey(mediaId: string): string {
  return `media/${mediaId}`;
}

/** The prefix under which derived objects (thumbnails) of an item are kept. */
export function thumbnailPrefix(mediaId: string): string {
  return `thumbnails/${mediaId}/`;
}
