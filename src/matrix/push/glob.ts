/**
 * Glob matching for push rules (spec: Appendices § Glob-style matching; Client-Server § Push
 * Rules, `event_match`): `*` matches zero or more characters, `?` exactly one, anything else
 * itself, case-insensitively. Characters are Unicode code points.
 *
 * Patterns and bodies both come from users, so this is not a backtracking regex: the glob is
 * run as a small automaton over the value, O(value × pattern) whatever the pattern holds.
 */

/** `whole`: the entire value must match. `word`: some substring delimited by word boundaries. */
export type GlobMode = "whole" | "word";

type Token = { t: "star" } | { t: "one" } | { t: "lit"; key: string };

export interface CompiledGlob {
  readonly tokens: readonly Token[];
}

/** Case folding for comparison, per code point; ASCII takes the fast path. */
function fold(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c < 128) return c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : ch;
  // Upper then lower, so that e.g. final and medial sigma compare equal.
  return ch.toUpperCase().toLowerCase();
}

/**
 * The spec's word boundary: "the start or end of the value, or any character not in the sets
 * [A-Z], [a-z], [0-9] or _".
 */
function isWordChar(ch: string | undefined): boolean {
  if (ch === undefined || ch.length !== 1) return false;
  const c = ch.charCodeAt(0);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Compiles a glob; with `literal` every character stands for itself (a display name). */
export function compileGlob(pattern: string, literal = false): CompiledGlob {
  const tokens: Token[] = [];
  for (const ch of pattern) {
    if (!literal && ch === "*") {
      if (tokens[tokens.length - 1]?.t !== "star") tokens.push({ t: "star" });
    } else if (!literal && ch === "?") tokens.push({ t: "one" });
    else tokens.push({ t: "lit", key: fold(ch) });
  }
  return { tokens };
}

/** Adds state `i` and everything reachable from it without reading a character. */
function addState(tokens: readonly Token[], states: Uint8Array, i: number): void {
  while (i <= tokens.length && !states[i]) {
    states[i] = 1;
    if (tokens[i]?.t !== "star") return;
    i += 1;
  }
}

function step(tokens: readonly Token[], states: Uint8Array, ch: string): Uint8Array {
  const next = new Uint8Array(tokens.length + 1);
  let key: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    if (!states[i]) continue;
    const tok = tokens[i]!;
    if (tok.t === "star") addState(tokens, next, i);
    else if (tok.t === "one") addState(tokens, next, i + 1);
    else if (tok.key === (key ??= fold(ch))) addState(tokens, next, i + 1);
  }
  return next;
}

function any(states: Uint8Array): boolean {
  for (const s of states) if (s) return true;
  return false;
}

/**
 * Whether the glob matches `value`. In `word` mode a match must start at the start of the value,
 * after a non-word character, or on one; and end likewise (so `@room` matches in "hi @room!").
 */
export function globMatches(glob: CompiledGlob, value: string, mode: GlobMode): boolean {
  const { tokens } = glob;
  const m = tokens.length;
  const chars = Array.from(value);
  const n = chars.length;
  let states: Uint8Array = new Uint8Array(m + 1);
  if (mode === "whole") {
    addState(tokens, states, 0);
    for (const ch of chars) {
      states = step(tokens, states, ch);
      if (!any(states)) return false;
    }
    return states[m] === 1;
  }
  for (let k = 0; k <= n; k++) {
    const startsHere = k === 0 || !isWordChar(chars[k - 1]) || (k < n && !isWordChar(chars[k]));
    if (startsHere) addState(tokens, states, 0);
    if (states[m]) {
      const endsHere = k === n || !isWordChar(chars[k]) || (k > 0 && !isWordChar(chars[k - 1]));
      if (endsHere) return true;
    }
    if (k < n) states = step(tokens, states, chars[k]!);
  }
  return false;
}

/** Compiles and matches in one go. */
export function matchGlob(pattern: string, value: string, mode: GlobMode): boolean {
  return globMatches(compileGlob(pattern), value, mode);
}
