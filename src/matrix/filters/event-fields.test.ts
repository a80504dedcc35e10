import { describe, expect, it } from "vitest";
import { projectEventFields, splitPropertyPath } from "./event-fields";

describe("splitPropertyPath (spec: Appendices § Dot-separated property paths)", () => {
  it("splits on unescaped dots and undoes \\. and \\\\ only", () => {
    expect(splitPropertyPath("content.body")).toEqual(["content", "body"]);
    expect(splitPropertyPath("type")).toEqual(["type"]);
    // The spec's examples: `content.m\.relates_to` and `content.m\\foo`.
    expect(splitPropertyPath("content.m\\.relates_to")).toEqual(["content", "m.relates_to"]);
    expect(splitPropertyPath("content.m\\\\foo")).toEqual(["content", "m\\foo"]);
    // An escaped backslash before a dot: the dot still separates.
    expect(splitPropertyPath("a\\\\.b")).toEqual(["a\\", "b"]);
    // Other escape sequences are taken as is.
    expect(splitPropertyPath("a\\x")).toEqual(["a\\x"]);
    expect(splitPropertyPath("a\\")).toEqual(["a\\"]);
    expect(splitPropertyPath("a..b")).toEqual(["a", "", "b"]);
    expect(splitPropertyPath("")).toEqual([""]);
  });
});

describe("projectEventFields", () => {
  const event = {
    type: "m.room.message",
    sender: "@a:x",
    event_id: "$e",
    origin_server_ts: 1,
    content: { body: "hi", msgtype: "m.text", "m.relates_to": { rel_type: "m.thread", event_id: "$root" }, "m\\foo": 1 },
    unsigned: { age: 5 },
  };

  it("keeps everything when the list is absent or empty", () => {
    expect(projectEventFields(event, undefined)).toBe(event);
    expect(projectEventFields(event, [])).toBe(event);
  });

  it("keeps only the listed top-level fields (the spec's example)", () => {
    expect(projectEventFields(event, ["type", "content", "sender"])).toStrictEqual({ type: event.type, content: event.content, sender: event.sender });
  });

  it("keeps nested fields, with escaped dots in property names", () => {
    expect(projectEventFields(event, ["content.body", "unsigned.age"])).toStrictEqual({ content: { body: "hi" }, unsigned: { age: 5 } });
    expect(projectEventFields(event, ["content.m\\.relates_to.rel_type"])).toStrictEqual({ content: { "m.relates_to": { rel_type: "m.thread" } } });
    expect(projectEventFields(event, ["content.m\\\\foo"])).toStrictEqual({ content: { "m\\foo": 1 } });
    // Without the escape, the dot separates, and content has no `m`.
    expect(projectEventFields(event, ["content.m.relates_to"])).toStrictEqual({});
  });

  it("adds nothing for a missing path, and only the parents for a missing last property", () => {
    expect(projectEventFields(event, ["state_key"])).toStrictEqual({});
    expect(projectEventFields(event, ["content.url"])).toStrictEqual({ content: {} });
    expect(projectEventFields(event, ["content.body.length"])).toStrictEqual({});
    expect(projectEventFields(event, ["nothing.here"])).toStrictEqual({});
  });

  it("merges overlapping paths in either order without touching the event", () => {
    const before = JSON.stringify(event);
    expect(projectEventFields(event, ["content.body", "content.msgtype"])).toStrictEqual({ content: { body: "hi", msgtype: "m.text" } });
    expect(projectEventFields(event, ["content.body", "content"])).toStrictEqual({ content: event.content });
    expect(projectEventFields(event, ["content", "content.body", "content.nope"])).toStrictEqual({ content: event.content });
    expect(JSON.stringify(event)).toBe(before);
  });

  it("treats __proto__ as an ordinary property name", () => {
    const hostile = JSON.parse('{"content": {"__proto__": {"polluted": true}}}') as Record<string, unknown>;
    const out = projectEventFields(hostile, ["content.__proto__.polluted"]) as Record<string, any>;
    expect(Object.getPrototypeOf(out.content)).toBe(Object.prototype);
    expect(Object.hasOwn(out.content, "__proto__")).toBe(true);
    expect(JSON.stringify(out)).toBe('{"content":{"__proto__":{"polluted":true}}}');
    expect(({} as any).polluted).toBeUndefined();
  });
});
