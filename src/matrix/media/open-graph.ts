/**
 * Builds a URL preview from what a page declares (spec: Client-Server § Content repository,
 * GET /preview_url: "The OpenGraph data for the URL", with og:image replaced by an mxc:// URI).
 * The HTML is read elsewhere (HTMLRewriter in services/url-preview.ts); this takes the collected
 * tags, so it runs anywhere.
 */

export interface PageTags {
  /** `<meta property="og:…" content>` values, first occurrence of each property. */
  openGraph: Map<string, string>;
  /** `<meta name="description" content>`. */
  description?: string;
  /** The text of the first `<title>`. */
  title?: string;
}

export type Preview = Record<string, string | number>;

/** Long strings are cut: a preview is a card, not a copy of the page (Synapse cuts descriptions at 500). */
const MAX_DESCRIPTION = 500;
const MAX_VALUE = 1000;
/** A page could declare thousands of og: properties; a preview needs a few. */
const MAX_PROPERTIES = 50;

/**
 * HTMLRewriter hands over attribute values and text as written, entities included. These are the
 * ones titles and descriptions use; anything else stays as written.
 */
const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
  ndash: "\u2013",
  mdash: "\u2014",
  hellip: "\u2026",
  lsquo: "\u2018",
  rsquo: "\u2019",
  ldquo: "\u201c",
  rdquo: "\u201d",
  laquo: "\u00ab",
  raquo: "\u00bb",
  middot: "\u00b7",
  bull: "\u2022",
  copy: "\u00a9",
  reg: "\u00ae",
  trade: "\u2122",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function clean(text: string, max: number): string {
  const collapsed = decodeEntities(text).replace(/\s+/g, " ").trim();
  return collapsed.length > max ? `${collapsed.slice(0, max - 1).trimEnd()}…` : collapsed;
}

function dimension(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,6}\s*$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The preview of a page: its og: properties, with `og:title` and `og:description` falling back to
 * `<title>` and the meta description, and `og:image` made absolute (http and https only). The caller
 * replaces `og:image` with the mxc:// URI of the downloaded image, or drops it.
 */
export function previewFromTags(tags: PageTags, pageUrl: URL): Preview {
  const preview: Preview = {};
  let count = 0;
  for (const [property, value] of tags.openGraph) {
    if (count >= MAX_PROPERTIES) break;
    if (!/^og:[a-z0-9_:.-]{1,64}$/i.test(property)) continue;
    preview[property] = clean(value, property === "og:description" ? MAX_DESCRIPTION : MAX_VALUE);
    count += 1;
  }
  if (!preview["og:title"] && tags.title) preview["og:title"] = clean(tags.title, MAX_VALUE);
  if (!preview["og:description"] && tags.description) preview["og:description"] = clean(tags.description, MAX_DESCRIPTION);
  for (const key of Object.keys(preview)) if (preview[key] === "") delete preview[key];

  // An image URL is only useful absolute and fetchable; og:image:url is an alias of og:image.
  const image = tags.openGraph.get("og:image") ?? tags.openGraph.get("og:image:url") ?? tags.openGraph.get("og:image:secure_url");
  delete preview["og:image"];
  delete preview["og:image:url"];
  delete preview["og:image:secure_url"];
  if (image) {
    try {
      const absolute = new URL(decodeEntities(image.trim()), pageUrl);
      if (absolute.protocol === "http:" || absolute.protocol === "https:") preview["og:image"] = absolute.href;
    } catch {
      // An unparsable image URL is just not shown.
    }
  }
  for (const key of ["og:image:width", "og:image:height"]) {
    const n = dimension(tags.openGraph.get(key));
    if (n === undefined) delete preview[key];
    else preview[key] = n;
  }
  if (!preview["og:image"]) {
    for (const key of Object.keys(preview)) if (key.startsWith("og:image:")) delete preview[key];
  }
  return preview;
}
