/**
 * URL previews (spec: Client-Server § Content repository, GET /preview_url; docs/design/media.md
 * § Thumbnails and previews). The page is fetched with a deadline and a byte cap, every hop of a
 * redirect checked against the address policy (src/matrix/media/url-policy.ts); its Open Graph tags,
 * title and description are read with HTMLRewriter; the page's image is downloaded into the media
 * repository so the client gets an mxc:// URI, as Synapse does. Results are cached in KV.
 */
import { MatrixError } from "../api/errors";
import { readImageInfo } from "../matrix/media/image-info";
import { previewFromTags, type PageTags, type Preview } from "../matrix/media/open-graph";
import { checkOutboundUrl, type UrlVerdict } from "../matrix/media/url-policy";
import type { Deps } from "./deps";
import { uploadMedia } from "./media";
import { sha256Hex } from "./random";

const MAX_REDIRECTS = 5;
/** How long a preview is reused (Synapse keeps its own for an hour too). */
const CACHE_TTL_SECONDS = 60 * 60;
const USER_AGENT = "Stratus URL preview (Matrix homeserver; +https://matrix.org)";

interface Fetched {
  url: URL;
  contentType: string;
  bytes: Uint8Array;
  /** The body was longer than the cap and was cut. */
  truncated: boolean;
}

interface CachedPreview {
  fetchedTs: number;
  preview: Preview;
}

function refusal(verdict: Extract<UrlVerdict, { ok: false }>): MatrixError {
  return verdict.kind === "invalid"
    ? new MatrixError("M_INVALID_PARAM", `Cannot preview this URL: ${verdict.reason}`)
    : new MatrixError("M_FORBIDDEN", `Cannot preview this URL: ${verdict.reason}`);
}

function upstreamError(message: string, status: 502 | 504 = 502): MatrixError {
  return new MatrixError("M_UNKNOWN", message, {}, status);
}

/**
 * GET /preview_url. A preview cached at or after `ts` (the client's preferred time; any newer one
 * will do, says the spec) is returned without fetching. Errors are not cached.
 */
export async function previewUrl(deps: Deps, userId: string, rawUrl: string, ts: number | undefined): Promise<Preview> {
  const { policy } = deps.config.urlPreview;
  // Checked before the cache too, so a URL refused by today's configuration is never answered.
  const verdict = checkOutboundUrl(rawUrl, policy);
  if (!verdict.ok) throw refusal(verdict);
  const cacheKey = `url-preview/${await sha256Hex(verdict.url.href)}`;
  const cached = await deps.env.CACHE.get<CachedPreview>(cacheKey, "json").catch(() => null);
  if (cached && (ts === undefined || cached.fetchedTs >= ts)) return cached.preview;

  const fetchedTs = deps.now();
  const preview = await buildPreview(deps, userId, verdict.url);
  const entry: CachedPreview = { fetchedTs, preview };
  await deps.env.CACHE.put(cacheKey, JSON.stringify(entry), { expirationTtl: CACHE_TTL_SECONDS }).catch(() => undefined);
  return preview;
}

async function buildPreview(deps: Deps, userId: string, url: URL): Promise<Preview> {
  const { maxBytes, timeoutMs } = deps.config.urlPreview;
  const page = await fetchGuarded(deps, url, { maxBytes, deadline: deps.now() + timeoutMs, truncate: true });
  const essence = page.contentType.split(";")[0]!.trim().toLowerCase();

  if (essence.startsWith("image/")) {
    // The URL is an image itself: store it (unless cut short) and describe it.
    return page.truncated ? {} : ((await storeImage(deps, userId, page)) ?? {});
  }
  if (essence !== "text/html" && essence !== "application/xhtml+xml") return {};

  const preview = previewFromTags(await readPageTags(page), page.url);
  const imageUrl = preview["og:image"];
  if (typeof imageUrl === "string") {
    const image = await fetchImage(deps, userId, imageUrl).catch(() => undefined);
    for (const key of Object.keys(preview)) if (key.startsWith("og:image")) delete preview[key];
    if (image) Object.assign(preview, image);
  }
  return preview;
}

/** The page's image, within the same policy, cap and a deadline of its own; undefined when it cannot be had. */
async function fetchImage(deps: Deps, userId: string, imageUrl: string): Promise<Preview | undefined> {
  const verdict = checkOutboundUrl(imageUrl, deps.config.urlPreview.policy);
  if (!verdict.ok) return undefined;
  const { maxBytes, timeoutMs } = deps.config.urlPreview;
  const fetched = await fetchGuarded(deps, verdict.url, { maxBytes, deadline: deps.now() + timeoutMs, truncate: false });
  return storeImage(deps, userId, fetched);
}

/**
 * Stores an image in the media repository as the requesting user's upload. Only the image types
 * we can thumbnail, judged by their bytes: an SVG or HTML page claiming to be an image is dropped.
 */
async function storeImage(deps: Deps, userId: string, fetched: Fetched): Promise<Preview | undefined> {
  const info = readImageInfo(fetched.bytes);
  if (!info) return undefined;
  const filename = lastPathSegment(fetched.url);
  const mxc = await uploadMedia(deps, userId, {
    contentType: info.type,
    filename,
    body: new Response(fetched.bytes).body,
    contentLength: String(fetched.bytes.byteLength),
  });
  return {
    "og:image": mxc,
    "og:image:type": info.type,
    "og:image:width": info.width,
    "og:image:height": info.height,
    "matrix:image:size": fetched.bytes.byteLength,
  };
}

/** The file name a URL ends in, for the stored image's `filename`; undefined when there is none. */
function lastPathSegment(url: URL): string | undefined {
  const raw = url.pathname.split("/").pop() ?? "";
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw; // a malformed %-sequence: keep it as written
  }
  return name.slice(0, 200) || undefined;
}

/**
 * Fetches `start`, following at most five redirects by hand so each target is checked against the
 * policy before it is contacted. Reads at most `maxBytes`: beyond it the body is cut (`truncate`,
 * for pages, whose tags are at the top) or refused (images, which are useless cut).
 */
async function fetchGuarded(deps: Deps, start: URL, opts: { maxBytes: number; deadline: number; truncate: boolean }): Promise<Fetched> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const remaining = opts.deadline - deps.now();
    if (remaining <= 0) throw upstreamError("Timed out fetching the URL", 504);
    const signal = AbortSignal.timeout(remaining);
    let res: Response;
    try {
      res = await fetch(url.href, {
        redirect: "manual",
        signal,
        headers: { "User-Agent": USER_AGENT, Accept: "text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.1" },
      });
    } catch (err) {
      if (signal.aborted) throw upstreamError("Timed out fetching the URL", 504);
      throw upstreamError(`Could not fetch the URL: ${err instanceof Error ? err.message : "network error"}`);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.has("location")) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw upstreamError("Too many redirects");
      let next: URL;
      try {
        next = new URL(res.headers.get("location")!, url);
      } catch {
        throw upstreamError("The URL redirects to an invalid location");
      }
      const verdict = checkOutboundUrl(next, deps.config.urlPreview.policy);
      if (!verdict.ok) throw refusal({ ...verdict, kind: "refused" });
      url = verdict.url;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw upstreamError(`The URL answered with HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (!opts.truncate && declared > opts.maxBytes) {
      await res.body?.cancel();
      throw upstreamError("The content is too large to preview");
    }
    try {
      const { bytes, truncated } = await readCapped(res.body, opts.maxBytes);
      if (truncated && !opts.truncate) throw upstreamError("The content is too large to preview");
      return { url, contentType: res.headers.get("content-type") ?? "application/octet-stream", bytes, truncated };
    } catch (err) {
      if (err instanceof MatrixError) throw err;
      if (signal.aborted) throw upstreamError("Timed out fetching the URL", 504);
      throw upstreamError("Could not read the URL's content");
    }
  }
}

/** Reads a body up to `max` bytes, then cancels the rest. */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  if (!body) return { bytes: new Uint8Array(0), truncated: false };
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      chunks.push(value.subarray(0, max - size));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, truncated };
}

/**
 * Collects og: properties, the meta description and the first <title> with HTMLRewriter, which
 * decodes by the Content-Type's charset (UTF-8 when it names none). A charset HTMLRewriter does not
 * know is read as UTF-8 rather than failing the preview.
 */
async function readPageTags(page: Fetched): Promise<PageTags> {
  const declared = page.contentType.toLowerCase().includes("charset=") ? page.contentType : "text/html; charset=utf-8";
  try {
    return await rewritePage(page.bytes, declared);
  } catch {
    return rewritePage(page.bytes, "text/html; charset=utf-8");
  }
}

async function rewritePage(bytes: Uint8Array, contentType: string): Promise<PageTags> {
  const tags: PageTags = { openGraph: new Map() };
  let title: string | undefined;
  let titleDone = false;
  const rewriter = new HTMLRewriter()
    .on("meta", {
      element(el) {
        const content = el.getAttribute("content");
        if (content === null) return;
        // og: belongs in `property`; some sites put it in `name`, which readers accept too.
        const property = (el.getAttribute("property") ?? el.getAttribute("name") ?? "").trim().toLowerCase();
        if (property.startsWith("og:") && !tags.openGraph.has(property)) tags.openGraph.set(property, content);
        if ((el.getAttribute("name") ?? "").trim().toLowerCase() === "description" && tags.description === undefined) tags.description = content;
      },
    })
    .on("title", {
      text(chunk) {
        if (titleDone) return;
        title = (title ?? "") + chunk.text;
        if (chunk.lastInTextNode) titleDone = true;
      },
    });
  await rewriter.transform(new Response(bytes, { headers: { "content-type": contentType } })).arrayBuffer();
  if (title !== undefined) tags.title = title;
  return tags;
}
