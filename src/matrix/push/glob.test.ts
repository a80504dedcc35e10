/** Glob matching (spec: Appendices § Glob-style matching; § Push Rules `event_match`, content rules). */
import { describe, expect, it } from "vitest";
import { compileGlob, globMatches, matchGlob } from "./glob";

describe("whole-value globs", () => {
  it("follow the spec's example: `lunc?*` against topics", () => {
    expect(matchGlob("lunc?*", "Lunch plans", "whole")).toBe(true);
    // "case-insensitive; `*` may match zero characters"
    expect(matchGlob("lunc?*", "LUNCH", "whole")).toBe(true);
    // "note leading space"
    expect(matchGlob("lunc?*", " lunch", "whole")).toBe(false);
    // "`?` must match a character"
    expect(matchGlob("lunc?*", "lunc", "whole")).toBe(false);
  });

  it("must match the entire value", () => {
    expect(matchGlob("m.notice", "m.notice", "whole")).toBe(true);
    expect(matchGlob("m.notice", "m.noticeX", "whole")).toBe(false);
    expect(matchGlob("m.notice", "xm.notice", "whole")).toBe(false);
    expect(matchGlob("", "", "whole")).toBe(true);
    expect(matchGlob("", "a", "whole")).toBe(false);
    expect(matchGlob("*", "", "whole")).toBe(true);
    expect(matchGlob("a*b*c", "aXXbYYc", "whole")).toBe(true);
    expect(matchGlob("a*b*c", "aXXbYY", "whole")).toBe(false);
  });

  it("treat only * and ? as special: regex and other glob syntax are literal", () => {
    expect(matchGlob("m.room.*", "m.room.message", "whole")).toBe(true);
    expect(matchGlob("m.room.*", "mxroomxmessage", "whole")).toBe(false);
    expect(matchGlob("[abc]", "a", "whole")).toBe(false);
    expect(matchGlob("[abc]", "[ABC]", "whole")).toBe(true);
    expect(matchGlob("a+", "aa", "whole")).toBe(false);
    expect(matchGlob("(x)|y", "(x)|y", "whole")).toBe(true);
    expect(matchGlob("\\d", "\\d", "whole")).toBe(true);
  });

  it("count code points, not UTF-16 units, and fold case beyond ASCII", () => {
    expect(matchGlob("?", "🐇", "whole")).toBe(true);
    expect(matchGlob("??", "🐇", "whole")).toBe(false);
    expect(matchGlob("école", "ÉCOLE", "whole")).toBe(true);
    expect(matchGlob("ΟΔΟΣ", "οδος", "whole")).toBe(true);
    expect(matchGlob("οδοσ", "οδος", "whole")).toBe(true);
  });

  it("let * span newlines", () => {
    expect(matchGlob("foo*bar", "foo\nbar", "whole")).toBe(true);
    expect(matchGlob("foo?bar", "foo\nbar", "whole")).toBe(true);
  });

  it("stay linear on patterns that make backtracking regexes explode", () => {
    const value = "a".repeat(20_000);
    expect(matchGlob("*a*a*a*a*a*a*a*a*a*a*b", value, "whole")).toBe(false);
    expect(matchGlob("*a*a*a*a*a*a*a*a*a*a*b", value, "word")).toBe(false);
    expect(matchGlob("*a*a*a*a*a*a*a*a*a*a*", value, "whole")).toBe(true);
  });
});

describe("word globs (content.body)", () => {
  it("follow the spec's example: `ex*ple`", () => {
    expect(matchGlob("ex*ple", "An example event.", "word")).toBe(true);
    // "the pattern can match at the start and end of the body"
    expect(matchGlob("ex*ple", "exple", "word")).toBe(true);
    // "the pattern can span multiple words, and `-` acts as a word separator"
    expect(matchGlob("ex*ple", "An exciting triple-whammy", "word")).toBe(true);
  });

  it("need a word boundary at both ends", () => {
    expect(matchGlob("cake", "I like cake.", "word")).toBe(true);
    expect(matchGlob("cake", "CAKE", "word")).toBe(true);
    expect(matchGlob("cake", "cakes", "word")).toBe(false);
    expect(matchGlob("cake", "pancake", "word")).toBe(false);
    // `_` and digits are word characters; anything else is a boundary.
    expect(matchGlob("cake", "my_cake", "word")).toBe(false);
    expect(matchGlob("cake", "cake2", "word")).toBe(false);
    expect(matchGlob("cake", "(cake)", "word")).toBe(true);
    expect(matchGlob("cake", "x-cake-y", "word")).toBe(true);
    // Only [A-Za-z0-9_] are word characters, so an accented letter is a boundary.
    expect(matchGlob("cake", "écakeé", "word")).toBe(true);
    expect(matchGlob("cake", "line one\ncake", "word")).toBe(true);
  });

  it("let a pattern that starts or ends with a non-word character match next to a word", () => {
    expect(matchGlob("@room", "hi @room!", "word")).toBe(true);
    expect(matchGlob("@room", "hi@room", "word")).toBe(true);
    expect(matchGlob("@room", "@roomy", "word")).toBe(false);
    expect(matchGlob("ok!", "ok!go", "word")).toBe(true);
  });

  it("apply the boundary to where the glob's match starts and ends, not to the pattern", () => {
    expect(matchGlob("c?ke", "a coke b", "word")).toBe(true);
    expect(matchGlob("c?ke", "a cokes b", "word")).toBe(false);
    expect(matchGlob("ca*", "cat", "word")).toBe(true);
    expect(matchGlob("*ke", "pancake", "word")).toBe(true);
    expect(matchGlob("ca*", "xcat", "word")).toBe(false);
  });

  it("can compile once and match many values", () => {
    const glob = compileGlob("tea");
    expect(["It's time for tea", "teapot", "TEA!"].map((v) => globMatches(glob, v, "word"))).toEqual([true, false, true]);
  });

  it("take every character literally for a literal glob (a display name)", () => {
    const literal = compileGlob("A*?", true);
    expect(globMatches(literal, "hey A*? there", "word")).toBe(true);
    expect(globMatches(literal, "hey Abc there", "word")).toBe(false);
  });
});
