/**
 * Reading untrusted event content. Content comes off the wire, so a key must be an own property
 * (never `constructor` or `__proto__` from the prototype) and every value is type-checked.
 */
import type { JsonObject, JsonValue } from "../canonical-json";

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function own(obj: JsonObject | undefined, key: string): JsonValue | undefined {
  if (obj === undefined || !Object.prototype.hasOwnProperty.call(obj, key)) return undefined;
  return obj[key];
}

export function has(obj: JsonObject | undefined, key: string): boolean {
  return obj !== undefined && Object.prototype.hasOwnProperty.call(obj, key);
}

export function ownString(obj: JsonObject | undefined, key: string): string | undefined {
  const v = own(obj, key);
  return typeof v === "string" ? v : undefined;
}

export function ownObject(obj: JsonObject | undefined, key: string): JsonObject | undefined {
  const v = own(obj, key);
  return isJsonObject(v) ? v : undefined;
}
