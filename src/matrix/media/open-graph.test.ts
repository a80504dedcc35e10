import { describe, expect, it } from "vitest";
import { decodeEntities, previewFromTags } from "./open-graph";

const page = new URL("https://example.com/blog/post");

describe("previewFromTags", () => {
  it("keeps og: properties, makes the image absolute and the dimensions numbers", () => {
    const preview = previewFromTags(
      {
        openGraph: new Map([
          ["og:title", "  A   post "],
          ["og:description", "About things"],
          ["og:image", "/img/cover.png"],
          ["og:image:width", "1200"],
          ["og:image:height", "630px"],
          ["og:site_name", "Example"],
        ]),
        title: "ignored, og:title wins",
      },
      page,
    );
    expect(preview).toEqual({
      "og:title": "A post",
      "og:description": "About things",
      "og:image": "https://example.com/img/cover.png",
      "og:image:width": 1200,
      "og:site_name": "Example",
    });
  });

  it("falls back to <title> and the meta description", () => {
    expect(previewFromTags({ openGraph: new Map(), title: "Page\n title", description: "Words" }, page)).toEqual({ "og:title": "Page title", "og:description": "Words" });
  });

  it("drops images that are not http(s) and their image properties", () => {
    const preview = previewFromTags({ openGraph: new Map([["og:image", "javascript:alert(1)"], ["og:image:width", "5"]]) }, page);
    expect(preview).toEqual({});
  });

  it("cuts long descriptions and ignores odd property names", () => {
    const preview = previewFromTags({ openGraph: new Map([["og:description", "x".repeat(2000)], ["og:<script>", "no"]]) }, page);
    expect(String(preview["og:description"]).length).toBe(500);
    expect(Object.keys(preview)).toEqual(["og:description"]);
  });
});

describe("decodeEntities", () => {
  it("decodes the entities titles use, numeric ones, and leaves the rest", () => {
    expect(decodeEntities("Tom &amp; Jerry &mdash; &#8220;hi&#x201D; &lt;3")).toBe("Tom & Jerry \u2014 \u201chi\u201d <3");
    expect(decodeEntities("&unknown; &#0; &#xD800; & alone")).toBe("&unknown; &#0; &#xD800; & alone");
    expect(previewFromTags({ openGraph: new Map([["og:image", "/a?x=1&amp;y=2"]]) }, page)["og:image"]).toBe("https://example.com/a?x=1&y=2");
  });
});
