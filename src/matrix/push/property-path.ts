/**
 * Dot-separated property paths (spec: Appendices § Dot-separated property paths): `content.body`
 * is `body` inside `content`; a literal dot or backslash in a name is escaped with a backslash
 * (`content.m\.relates_to`, `content.m\\foo`), and any other escape is left as it is.
 */
import type { JsonObject, JsonValue } from "../canonical-json";
import { isJsonObject, own } from "../auth/json";

export function parsePropertyPath(key: string): string[] {
  const out: string[] = [];
  let current = "";
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === "\\") {
      const next = key[i + 1];
      if (next === "." || next === "\\") {
        current += next;
        i++;
      } else current += ch;
    } else if (ch === ".") {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out;
}

/**
 * The value at `path`, walking own properties of objects only (arrays are values, not levels),
 * or undefined when any step is missing.
 */
export function lookupProperty(root: JsonObject, path: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const name of path) {
    if (!isJsonObject(current)) return undefined;
    current = own(current, name);
    if (current === undefined) return undefined;
  }
  return current;
}
