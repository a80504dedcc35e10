/** Random identifiers and secrets. Everything here draws on the platform's CSPRNG. */
import { encodeBase64Url } from "../matrix/base64";

export function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** URL-safe, unpadded base64 of `bytes` random bytes. */
export function randomToken(bytes: number): string {
  return encodeBase64Url(randomBytes(bytes));
}

const ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Device ids in the style clients expect: ten upper-case letters. */
export function randomDeviceId(): string {
  const bytes = randomBytes(10);
  return Array.from(bytes, (b) => ALPHA[b % 26]).join("");
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** Constant-time comparison of two equal-length strings, so secrets don't leak through timing. */
export function timingSafeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  if (ea.length !== eb.length) return false;
  let diff = 0;
  for (let i = 0; i < ea.length; i++) diff |= ea[i]! ^ eb[i]!;
  return diff === 0;
}
