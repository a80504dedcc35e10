/**
 * Image type and dimensions read from the first bytes of a file, without decoding it. The
 * thumbnailer uses this to trust the bytes rather than the uploaded Content-Type, and to refuse
 * images with too many pixels before the decoder allocates memory for them (a small compressed
 * file can decode to gigabytes).
 */

export type ImageType = "image/png" | "image/jpeg" | "image/gif" | "image/webp";

export interface ImageInfo {
  type: ImageType;
  width: number;
  height: number;
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
const ascii = (b: Uint8Array, i: number, n: number) => String.fromCharCode(...b.subarray(i, i + n));

export function readImageInfo(bytes: Uint8Array): ImageInfo | undefined {
  if (bytes.length >= 24 && u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a && ascii(bytes, 12, 4) === "IHDR") {
    return valid({ type: "image/png", width: u32be(bytes, 16), height: u32be(bytes, 20) });
  }
  if (bytes.length >= 10 && (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a")) {
    return valid({ type: "image/gif", width: u16le(bytes, 6), height: u16le(bytes, 8) });
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegInfo(bytes);
  if (bytes.length >= 30 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return webpInfo(bytes);
  return undefined;
}

function valid(info: ImageInfo): ImageInfo | undefined {
  return info.width > 0 && info.height > 0 ? info : undefined;
}

/** Walks the JPEG marker segments to the first start-of-frame (ITU T.81 § B.2). */
function jpegInfo(b: Uint8Array): ImageInfo | undefined {
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    // Markers without a length: TEM and RST0–7.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image or scan before any frame
    const length = u16be(b, i + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 9 > b.length) return undefined;
      return valid({ type: "image/jpeg", height: u16be(b, i + 5), width: u16be(b, i + 7) });
    }
    if (length < 2) return undefined;
    i += 2 + length;
  }
  return undefined;
}

/** The first chunk of a WebP file names its bitstream (RFC 9649 § 2.5–2.7). */
function webpInfo(b: Uint8Array): ImageInfo | undefined {
  const chunk = ascii(b, 12, 4);
  if (chunk === "VP8 ") {
    // Frame tag (3 bytes) then the start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return valid({ type: "image/webp", width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff });
  }
  if (chunk === "VP8L") {
    if (b[20] !== 0x2f) return undefined;
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return valid({ type: "image/webp", width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 });
  }
  if (chunk === "VP8X") {
    return valid({ type: "image/webp", width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 });
  }
  return undefined;
}
