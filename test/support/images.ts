/**
 * Test images for the media tests: generated with photon (the server's own image library, so PNG,
 * JPEG and WebP are real encoder output), a minimal GIF writer, and header readers that tell a
 * returned image's real type and size without trusting response headers.
 */
import { PhotonImage } from "@cf-wasm/photon";

export type Rgb = [number, number, number];

/**
 * A `width`×`height` image painted by `paint(x, y)`. The default paints the outer sixteenth of
 * the width on each side red and the rest green, so a test can tell a centred crop (no red left)
 * from a scale (red edges kept).
 */
export function makeImage(width: number, height: number, paint: (x: number, y: number) => Rgb = redEdges(width)): PhotonImage {
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * width + x) * 4;
      pixels[i] = r;
      pixels[i + 1] = g;
      pixels[i + 2] = b;
      pixels[i + 3] = 255;
    }
  }
  return new PhotonImage(pixels, width, height);
}

export function redEdges(width: number): (x: number) => Rgb {
  const band = Math.floor(width / 16);
  return (x) => (x < band || x >= width - band ? [255, 0, 0] : [0, 200, 0]);
}

export function png(width: number, height: number): Uint8Array {
  const img = makeImage(width, height);
  try {
    return img.get_bytes();
  } finally {
    img.free();
  }
}

export function jpeg(width: number, height: number): Uint8Array {
  const img = makeImage(width, height);
  try {
    return img.get_bytes_jpeg(90);
  } finally {
    img.free();
  }
}

export function webp(width: number, height: number): Uint8Array {
  const img = makeImage(width, height);
  try {
    return img.get_bytes_webp();
  } finally {
    img.free();
  }
}

/**
 * A GIF89a of one colour per pixel from a two-colour palette (red, green), with the default
 * red-edged pattern. LZW is written the simple way: a clear code before every second pixel keeps
 * the code width at 3 bits, which every decoder must accept.
 */
export function gif(width: number, height: number): Uint8Array {
  const band = Math.floor(width / 16);
  const indices: number[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) indices.push(x < band || x >= width - band ? 0 : 1);
  const CLEAR = 4;
  const END = 5;
  const codes: number[] = [];
  indices.forEach((index, i) => {
    if (i % 2 === 0) codes.push(CLEAR);
    codes.push(index);
  });
  codes.push(END);
  // Pack 3-bit codes, least significant bit first.
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc |= code << bits;
    bits += 3;
    while (bits >= 8) {
      data.push(acc & 0xff);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) data.push(acc & 0xff);
  const out: number[] = [];
  const u16 = (n: number) => out.push(n & 0xff, n >> 8);
  out.push(...new TextEncoder().encode("GIF89a"));
  u16(width);
  u16(height);
  out.push(0x80, 0, 0); // global colour table of 2 entries
  out.push(255, 0, 0, 0, 200, 0);
  out.push(0x2c);
  u16(0);
  u16(0);
  u16(width);
  u16(height);
  out.push(0);
  out.push(2); // LZW minimum code size
  for (let i = 0; i < data.length; i += 255) {
    const block = data.slice(i, i + 255);
    out.push(block.length, ...block);
  }
  out.push(0, 0x3b);
  return new Uint8Array(out);
}

/** The real type and size of PNG and JPEG bytes, from their headers (PNG IHDR, JPEG SOFn). */
export function imageSize(bytes: Uint8Array): { type: "png" | "jpeg"; width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) === 0x89504e47 && view.getUint32(12) === 0x49484452) {
    return { type: "png", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (view.getUint16(0) === 0xffd8) {
    let i = 2;
    while (i + 9 < bytes.length) {
      const marker = view.getUint16(i);
      const isFrame = marker >= 0xffc0 && marker <= 0xffcf && ![0xffc4, 0xffc8, 0xffcc].includes(marker);
      if (isFrame) return { type: "jpeg", height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      i += 2 + view.getUint16(i + 2);
    }
  }
  throw new Error(`not a PNG or JPEG (starts ${Array.from(bytes.subarray(0, 8), (b) => b.toString(16)).join(" ")})`);
}

/** The colour of one pixel of PNG/JPEG/WebP/GIF bytes, decoded with photon. */
export function pixelAt(bytes: Uint8Array, x: number, y: number): Rgb {
  const img = PhotonImage.new_from_byteslice(bytes);
  try {
    const raw = img.get_raw_pixels();
    const i = (y * img.get_width() + x) * 4;
    return [raw[i]!, raw[i + 1]!, raw[i + 2]!];
  } finally {
    img.free();
  }
}

/** Whether a colour is mostly red (rather than green); tolerant of JPEG and resampling blur. */
export function isReddish([r, g]: Rgb): boolean {
  return r > 150 && g < 120;
}
