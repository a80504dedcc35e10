/** Dot-separated property paths (spec: Appendices § Dot-separated property paths). */
import { describe, expect, it } from "vitest";
import { lookupProperty, parsePropertyPath } from "./property-path";

describe("parsePropertyPath", () => {
  it("splits on dots", () => {
    expect(parsePropertyPath("content.body")).toEqual(["content", "body"]);
    expect(parsePropertyPath("type")).toEqual(["type"]);
  });

  it("follows the spec's escapes: \\. is a dot and \\\\ a backslash inside a name", () => {
    expect(parsePropertyPath("content.m\\.relates_to")).toEqual(["content", "m.relates_to"]);
    expect(parsePropertyPath("content.m\\\\foo")).toEqual(["content", "m\\foo"]);
    expect(parsePropertyPath("content.m\\.mentions.user_ids")).toEqual(["content", "m.mentions", "user_ids"]);
    expect(parsePropertyPath("a\\\\.b")).toEqual(["a\\", "b"]);
  });

  it("leaves other escape sequences as they are", () => {
    expect(parsePropertyPath("content.\\x")).toEqual(["content", "\\x"]);
    expect(parsePropertyPath("trailing\\")).toEqual(["trailing\\"]);
  });

  it("keeps empty names", () => {
    expect(parsePropertyPath("a..b")).toEqual(["a", "", "b"]);
    expect(parsePropertyPath("")).toEqual([""]);
  });
});

describe("lookupProperty", () => {
  const event = {
    content: { "m.relates_to": { rel_type: "m.replace" }, "m\\foo": 1, list: ["x", "y"], nil: null },
    type: "m.room.message",
  };

  it("walks nested objects, with dotted names", () => {
    expect(lookupProperty(event, parsePropertyPath("content.m\\.relates_to.rel_type"))).toBe("m.replace");
    expect(lookupProperty(event, parsePropertyPath("content.m\\\\foo"))).toBe(1);
    expect(lookupProperty(event, parsePropertyPath("content.nil"))).toBeNull();
    expect(lookupProperty(event, parsePropertyPath("content.list"))).toEqual(["x", "y"]);
  });

  it("does not confuse a dotted name with a nested path", () => {
    expect(lookupProperty(event, parsePropertyPath("content.m.relates_to.rel_type"))).toBeUndefined();
  });

  it("does not index into arrays or strings, nor reach inherited properties", () => {
    expect(lookupProperty(event, parsePropertyPath("content.list.0"))).toBeUndefined();
    expect(lookupProperty(event, parsePropertyPath("type.length"))).toBeUndefined();
    expect(lookupProperty(event, parsePropertyPath("content.constructor"))).toBeUndefined();
    expect(lookupProperty(event, parsePropertyPath("__proto__"))).toBeUndefined();
    expect(lookupProperty(event, parsePropertyPath("content.missing.deeper"))).toBeUndefined();
  });
});
