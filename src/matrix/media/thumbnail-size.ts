/**
 * Thumbnail sizes (spec: Client-Server § Content repository § Thumbnails). The request's width and
 * height are the smallest size the client wants; `scale` keeps the image's aspect ratio and fits it
 * within the box, `crop` fills the box exactly and cuts the overflow from the centre. Servers MUST
 * NOT upscale, so a box larger than the image is shrunk to the image first.
 */

export type ThumbnailMethod = "crop" | "scale";

export interface ThumbnailSize {
  width: number;
  height: number;
  method: ThumbnailMethod;
}

/** The sizes the spec says servers SHOULD produce. */
export const SPEC_THUMBNAIL_SIZES: readonly ThumbnailSize[] = [
  { width: 32, height: 32, method: "crop" },
  { width: 96, height: 96, method: "crop" },
  { width: 320, height: 240, method: "scale" },
  { width: 640, height: 480, method: "scale" },
  { width: 800, height: 600, method: "scale" },
];

/** "32x32 crop, 320x240 scale"; undefined when malformed or empty. */
export function parseThumbnailSizes(value: string): ThumbnailSize[] | undefined {
  const sizes: ThumbnailSize[] = [];
  for (const part of value.split(",")) {
    const m = /^\s*(\d{1,4})x(\d{1,4})\s+(crop|scale)\s*$/.exec(part);
    if (!m) return undefined;
    const width = Number(m[1]);
    const height = Number(m[2]);
    if (width < 1 || height < 1) return undefined;
    sizes.push({ width, height, method: m[3] as ThumbnailMethod });
  }
  return sizes.length ? sizes : undefined;
}

/**
 * The configured size to serve for a request: of the sizes with the requested method (or any
 * method when none has it), the smallest that covers the requested box in both dimensions, else
 * the largest — the spec's "larger than or equal to the dimensions requested where possible".
 */
export function chooseThumbnailSize(sizes: readonly ThumbnailSize[], width: number, height: number, method: ThumbnailMethod): ThumbnailSize {
  const same = sizes.filter((s) => s.method === method);
  const pool = same.length ? same : [...sizes];
  const byArea = [...pool].sort((a, b) => a.width * a.height - b.width * b.height);
  const covering = byArea.find((s) => s.width >= width && s.height >= height);
  const chosen = covering ?? byArea[byArea.length - 1];
  if (!chosen) throw new Error("no thumbnail sizes configured");
  return chosen;
}

/** How to turn a `sourceWidth`×`sourceHeight` image into the thumbnail for `target`. */
export interface ThumbnailPlan {
  /** Resize the whole source image to this size first… */
  resizeWidth: number;
  resizeHeight: number;
  /** …then cut this rectangle out of the resized image (the whole of it for `scale`). */
  cropX: number;
  cropY: number;
  width: number;
  height: number;
}

export function planThumbnail(sourceWidth: number, sourceHeight: number, target: ThumbnailSize): ThumbnailPlan {
  if (target.method === "scale") {
    // Fit within the box, never larger than the source.
    const factor = Math.min(target.width / sourceWidth, target.height / sourceHeight, 1);
    const width = Math.max(1, Math.round(sourceWidth * factor));
    const height = Math.max(1, Math.round(sourceHeight * factor));
    return { resizeWidth: width, resizeHeight: height, cropX: 0, cropY: 0, width, height };
  }
  // Crop: the box, shrunk to the source where the source is smaller (no upscaling) …
  const width = Math.min(target.width, sourceWidth);
  const height = Math.min(target.height, sourceHeight);
  // … covered by the smallest resize of the source that fills it, centred.
  const factor = Math.max(width / sourceWidth, height / sourceHeight);
  const resizeWidth = Math.min(sourceWidth, Math.max(width, Math.round(sourceWidth * factor)));
  const resizeHeight = Math.min(sourceHeight, Math.max(height, Math.round(sourceHeight * factor)));
  return {
    resizeWidth,
    resizeHeight,
    cropX: Math.floor((resizeWidth - width) / 2),
    cropY: Math.floor((resizeHeight - height) / 2),
    width,
    height,
  };
}
