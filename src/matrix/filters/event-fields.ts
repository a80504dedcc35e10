/**
 * `Filter.event_fields` (spec: Client-Server § Filtering; Appendices § Dot-separated property
 * paths): keeps only the listed properties of each event. A literal `.` or `\` in a property name
 * is escaped with `\`; any other backslash sequence is taken as is.
 */

/** Splits a dot-separated property path into property names, undoing `\.` and `\\`. */
export function splitPropertyPath(path: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    const next = path[i + 1];
    if (c === "\\" && (next === "." || next === "\\")) {
      current += next;
      i++;
    } else if (c === ".") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Defines an own property, so a key such as `__proto__` is data and never a prototype change. */
function put(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The event with only the properties at `fields`. Absent or empty `fields` returns the event
 * itself, as Synapse does (the spec: "If this list is absent then all fields are included").
 * As in Synapse, a path whose parents are all objects creates them in the result even when its
 * last property is missing (`content.url` gives `content: {}`), and a path through anything else
 * adds nothing. The event is never modified; values are shared with it, not copied.
 */
export function projectEventFields<T extends object>(event: T, fields: string[] | undefined): Partial<T> {
  if (!fields || fields.length === 0) return event;
  const out: Json = {};
  // Objects built here; anything else under `out` is a value taken whole from the event, which
  // already holds every deeper path.
  const built = new WeakSet<Json>([out]);
  for (const field of fields) {
    const path = splitPropertyPath(field);
    const leaf = path.pop()!;
    let src: unknown = event;
    for (const key of path) src = isObject(src) && Object.hasOwn(src, key) ? src[key] : undefined;
    if (!isObject(src)) continue;
    let dst: Json | undefined = out;
    for (const key of path) {
      const existing: unknown = Object.hasOwn(dst, key) ? dst[key] : undefined;
      if (existing === undefined) {
        const child: Json = {};
        built.add(child);
        put(dst, key, child);
        dst = child;
      } else if (isObject(existing) && built.has(existing)) {
        dst = existing;
      } else {
        dst = undefined;
        break;
      }
    }
    if (dst && Object.hasOwn(src, leaf)) put(dst, leaf, src[leaf]);
  }
  return out as Partial<T>;
}
