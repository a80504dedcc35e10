/**
 * Canonical JSON (spec: Appendices § Canonical JSON).
 *
 * Object keys are sorted by Unicode code point, no insignificant whitespace, UTF-8, and numbers
 * must be integers in [-(2^53)+1, 2^53-1]. `-0` is written as `0` (the spec's own example 10).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export class CanonicalJsonError extends Error {}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Compare two strings by Unicode code point, not by UTF-16 code unit as `<` does. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

function encode(value: unknown, out: string[]): void {
  if (value === null) {
    out.push("null");
    return;
  }
  switch (typeof value) {
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "number":
      if (!Number.isInteger(value) || value > MAX_SAFE || value < -MAX_SAFE) {
        throw new CanonicalJsonError(`number ${value} is not an integer in the canonical JSON range`);
      }
      out.push(Object.is(value, -0) ? "0" : String(value));
      return;
    case "string":
      out.push(JSON.stringify(value));
      return;
    case "object": {
      if (Array.isArray(value)) {
        out.push("[");
        value.forEach((item, i) => {
          if (i > 0) out.push(",");
          encode(item, out);
        });
        out.push("]");
        return;
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort(compareCodePoints);
      out.push("{");
      keys.forEach((k, i) => {
        if (i > 0) out.push(",");
        out.push(JSON.stringify(k), ":");
        encode(obj[k], out);
      });
      out.push("}");
      return;
    }
    default:
      throw new CanonicalJsonError(`cannot encode a ${typeof value} as canonical JSON`);
  }
}

/** Encode a value as canonical JSON text. Throws `CanonicalJsonError` for floats or out-of-range numbers. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  encode(value, out);
  return out.join("");
}

/** Canonical JSON as UTF-8 bytes, ready to hash or sign. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
