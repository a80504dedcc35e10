/**
 * Password hashing. New hashes use PBKDF2-HMAC-SHA256 through WebCrypto at OWASP's recommended
 * 600,000 iterations with a 128-bit random salt, stored as a PHC-style string. bcrypt hashes
 * imported from Synapse (`$2a$`, `$2b$`, `$2y$`) still verify, through bcryptjs.
 */
import bcrypt from "bcryptjs";
import { decodeBase64, encodeBase64 } from "../matrix/base64";
import { randomBytes, timingSafeEqual } from "./random";

export const PBKDF2_ITERATIONS = 600_000;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = randomBytes(16);
  const hash = await pbkdf2(password, salt, iterations);
  return `$pbkdf2-sha256$i=${iterations}$${encodeBase64(salt)}$${encodeBase64(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (/^\$2[aby]\$\d\d\$/.test(stored)) {
    // Synapse stores bcrypt(password + pepper); deployments without a pepper (the default) verify directly.
    return bcrypt.compare(password, stored);
  }
  const m = /^\$pbkdf2-sha256\$i=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) return false;
  const iterations = Number(m[1]);
  const expected = m[3]!;
  const actual = encodeBase64(await pbkdf2(password, decodeBase64(m[2]!), iterations));
  return timingSafeEqual(actual, expected);
}
