/**
 * Thumbnails of local images (spec: Client-Server § Content repository § Thumbnails;
 * docs/design/media.md § Thumbnails and previews). Images are decoded and resized with photon
 * (photon-rs compiled to WASM, @cf-wasm/photon), which reads PNG, JPEG, GIF (first frame) and
 * WebP. Each generated thumbnail is kept in R2 next to its original, so a size is made once.
 */
import { crop, PhotonImage, resize, SamplingFilter } from "@cf-wasm/photon";
import { MatrixError } from "../api/errors";
import { readImageInfo, type ImageType } from "../matrix/media/image-info";
import { chooseThumbnailSize, planThumbnail, type ThumbnailMethod, type ThumbnailSize } from "../matrix/media/thumbnail-size";
import { thumbnailPrefix } from "../storage/r2/media";
import type { Deps } from "./deps";
import { getServableMedia, readMediaBytes } from "./media";

export interface ThumbnailRequest {
  width: number;
  height: number;
  method: ThumbnailMethod;
  /** Spec: how long to wait for content that is not uploaded yet. */
  timeoutMs?: number;
}

export interface Thumbnail {
  body: ReadableStream | Uint8Array;
  contentType: "image/png" | "image/jpeg";
  size: number;
}

/** The types we decode. Other content (SVG, video, documents) gets no thumbnail, as in Synapse. */
const THUMBNAILABLE: ReadonlySet<string> = new Set<ImageType>(["image/png", "image/jpeg", "image/gif", "image/webp"]);

/** Spec example for content the server cannot thumbnail: 400 M_UNKNOWN. */
function cannotThumbnail(): MatrixError {
  return new MatrixError("M_UNKNOWN", "Cannot generate thumbnails for the requested content");
}

function tooLargeToThumbnail(): MatrixError {
  return new MatrixError("M_TOO_LARGE", "Content is too large to thumbnail");
}

/**
 * The size to make: from the configured set (the spec's five unless changed), or, with dynamic
 * thumbnails, the requested box itself bounded by the largest configured size, so a client cannot
 * make the server store thumbnails larger than it would ever choose.
 */
export function targetSize(deps: Deps, req: Pick<ThumbnailRequest, "width" | "height" | "method">): ThumbnailSize {
  const { sizes, dynamic } = deps.config.thumbnails;
  if (!dynamic) return chooseThumbnailSize(sizes, req.width, req.height, req.method);
  const maxWidth = Math.max(...sizes.map((s) => s.width));
  const maxHeight = Math.max(...sizes.map((s) => s.height));
  return { width: Math.min(req.width, maxWidth), height: Math.min(req.height, maxHeight), method: req.method };
}

/** JPEG stays JPEG (photos compress far better); everything else becomes PNG, which keeps transparency. */
function outputType(source: ImageType): Thumbnail["contentType"] {
  return source === "image/jpeg" ? "image/jpeg" : "image/png";
}

export function thumbnailKey(mediaId: string, size: ThumbnailSize, type: Thumbnail["contentType"]): string {
  return `${thumbnailPrefix(mediaId)}${size.width}x${size.height}-${size.method}.${type === "image/jpeg" ? "jpg" : "png"}`;
}

/**
 * A thumbnail of `mxc://serverName/mediaId`: from R2 when it was made before, otherwise generated
 * and stored. Unknown or quarantined media is 404, content that is not a decodable image 400
 * M_UNKNOWN, an image over the configured byte or pixel limits 413 M_TOO_LARGE.
 */
export async function getThumbnail(deps: Deps, serverName: string, mediaId: string, req: ThumbnailRequest): Promise<Thumbnail> {
  const media = await getServableMedia(deps, serverName, mediaId, req.timeoutMs);
  const declared = media.contentType.split(";")[0]!.trim().toLowerCase();
  if (!THUMBNAILABLE.has(declared)) throw cannotThumbnail();
  const size = targetSize(deps, req);

  // The key names the output type the declared type leads to; the stored object's own metadata
  // says what was really made (a file whose bytes are another image type is judged by its bytes).
  const key = thumbnailKey(mediaId, size, outputType(declared as ImageType));
  const cached = await deps.env.MEDIA.get(key);
  if (cached) {
    const contentType = cached.httpMetadata?.contentType === "image/jpeg" ? "image/jpeg" : "image/png";
    return { body: cached.body, contentType, size: cached.size };
  }

  if (media.size > deps.config.thumbnails.maxSourceBytes) throw tooLargeToThumbnail();
  const original = await readMediaBytes(deps, mediaId);
  if (!original) throw new MatrixError("M_NOT_FOUND", "Not found");
  const bytes = new Uint8Array(await original.arrayBuffer());

  const thumbnail = renderThumbnail(bytes, size, deps.config.thumbnails.maxPixels);
  await deps.env.MEDIA.put(key, thumbnail.bytes, { httpMetadata: { contentType: thumbnail.contentType } });
  return { body: thumbnail.bytes, contentType: thumbnail.contentType, size: thumbnail.bytes.byteLength };
}

/**
 * Decodes `bytes`, resizes (and for `crop` cuts) them to `size` without upscaling, and encodes the
 * result. The header is read first, so an image with more than `maxPixels` pixels is refused
 * before the decoder allocates its 4 bytes a pixel.
 */
export function renderThumbnail(bytes: Uint8Array, size: ThumbnailSize, maxPixels: number): { bytes: Uint8Array; contentType: Thumbnail["contentType"] } {
  const info = readImageInfo(bytes);
  if (!info) throw cannotThumbnail();
  if (info.width * info.height > maxPixels) throw tooLargeToThumbnail();
  const contentType = outputType(info.type);
  const plan = planThumbnail(info.width, info.height, size);

  const images: PhotonImage[] = [];
  try {
    let image: PhotonImage;
    try {
      image = PhotonImage.new_from_byteslice(bytes);
    } catch {
      throw cannotThumbnail();
    }
    images.push(image);
    // The decoder's own idea of the size wins over the header's (they agree for valid files).
    const decoded = image.get_width() === info.width && image.get_height() === info.height ? plan : planThumbnail(image.get_width(), image.get_height(), size);
    if (decoded.resizeWidth !== image.get_width() || decoded.resizeHeight !== image.get_height()) {
      // Triangle (bilinear, widened when shrinking) is a third of Lanczos3's work for a result
      // that is indistinguishable at thumbnail sizes.
      image = resize(image, decoded.resizeWidth, decoded.resizeHeight, SamplingFilter.Triangle);
      images.push(image);
    }
    if (decoded.width !== decoded.resizeWidth || decoded.height !== decoded.resizeHeight) {
      image = crop(image, decoded.cropX, decoded.cropY, decoded.cropX + decoded.width, decoded.cropY + decoded.height);
      images.push(image);
    }
    const out = contentType === "image/jpeg" ? image.get_bytes_jpeg(80) : image.get_bytes();
    return { bytes: out, contentType };
  } finally {
    // WASM memory is not garbage collected: free every intermediate image.
    for (const img of images) img.free();
  }
}
