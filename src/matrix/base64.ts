/**
 * Unpadded base64 (spec: Appendices § Unpadded Base64) and its URL-safe variant, used by
 * room versions 4+ for event ids. Decoding accepts padded and unpadded input, as the spec asks.
 */

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function encodeBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += STD[(n >> 18) & 63]! + STD[(n >> 12) & 63]! + STD[(n >> 6) & 63]! + STD[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += STD[(n >> 18) & 63]! + STD[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += STD[(n >> 18) & 63]! + STD[(n >> 12) & 63]! + STD[(n >> 6) & 63]!;
  }
  return out;
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_");
}

const DECODE = new Map<string, number>();
for (let i = 0; i < STD.length; i++) DECODE.set(STD[i]!, i);
DECODE.set("-", 62);
DECODE.set("_", 63);

/** Decode standard or URL-safe base64, padded or not. Throws on any other character. */
export function decodeBase64(text: string): Uint8Array {
  const s = text.replace(/=+$/, "");
  if (s.length % 4 === 1) throw new Error("invalid base64 length");
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s) {
    const v = DECODE.get(ch);
    if (v === undefined) throw new Error("invalid base64 character");
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
