/**
 * Which URLs the server may fetch on a user's behalf: URL previews (spec: Client-Server § Content
 * repository, GET /preview_url, which leaves the policy to the server; checked again on every
 * redirect hop) and push gateways named by pushers (spec: POST /pushers/set, `data.url`). Stratus
 * refuses everything that is not the public internet unless configuration allows it.
 *
 * A Worker cannot resolve a name before `fetch`, so names are judged by their text alone: IP
 * literals by their address, and names that can only mean the local machine or network
 * (`localhost`, single-label names, `.local`, `.internal`, …) are refused. See
 * docs/design/media.md § Thumbnails and previews for what that means in production and locally.
 */
import { inRange, ipOfHostname, type IpRange, NON_PUBLIC_RANGES, parseIpRange } from "./ip-address";

export interface UrlPolicy {
  /** Addresses and names allowed even though they are not public (checked after `deny`). */
  allowRanges: IpRange[];
  allowHosts: string[];
  /** Addresses and names refused in addition to the non-public ones. */
  denyRanges: IpRange[];
  denyHosts: string[];
}

export const DEFAULT_URL_POLICY: UrlPolicy = { allowRanges: [], allowHosts: [], denyRanges: [], denyHosts: [] };

/**
 * Parses a comma-separated list of CIDR ranges, single addresses, host names and `*.domain`
 * wildcards. Returns the offending entry when one is neither.
 */
export function parsePolicyList(value: string | undefined): { ranges: IpRange[]; hosts: string[] } | { invalid: string } {
  const ranges: IpRange[] = [];
  const hosts: string[] = [];
  for (const raw of (value ?? "").split(",")) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const range = parseIpRange(entry);
    if (range) ranges.push(range);
    else if (/^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/.test(entry)) hosts.push(entry.replace(/\.$/, ""));
    else return { invalid: raw.trim() };
  }
  return { ranges, hosts };
}

/**
 * Names that can only reach this machine or its local network, whatever DNS says: RFC 6761
 * `localhost`, mDNS `.local`, `.internal` (cloud metadata hosts such as metadata.google.internal),
 * RFC 8375 `.home.arpa`, and the reverse-lookup zones.
 */
const LOCAL_SUFFIXES = ["localhost", "local", "internal", "intranet", "lan", "home.arpa", "in-addr.arpa", "ip6.arpa"];

function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

/** `invalid`: not an http(s) URL at all (the request is malformed); `refused`: the policy says no. */
export type UrlVerdict = { ok: true; url: URL } | { ok: false; kind: "invalid" | "refused"; reason: string };

const invalid = (reason: string): UrlVerdict => ({ ok: false, kind: "invalid", reason });
const refused = (reason: string): UrlVerdict => ({ ok: false, kind: "refused", reason });

export function checkOutboundUrl(input: string | URL, policy: UrlPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return invalid("not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return invalid("only http and https URLs are fetched");
  if (url.username || url.password) return invalid("URLs with credentials are not fetched");
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host) return invalid("the URL has no host");

  const ip = ipOfHostname(host);
  if (ip !== undefined) {
    if (policy.denyRanges.some((r) => inRange(ip, r))) return refused("the address is refused by configuration");
    if (policy.allowRanges.some((r) => inRange(ip, r))) return { ok: true, url };
    if (NON_PUBLIC_RANGES.some((r) => inRange(ip, r))) return refused("the address is not public");
    return { ok: true, url };
  }
  // Not an IP literal. Anything left that looks numeric or bracketed is a form we do not understand.
  if (host.startsWith("[") || /^[0-9.]+$/.test(host) || /^0x/i.test(host)) return refused("unrecognized address form");
  if (policy.denyHosts.some((p) => hostMatches(host, p))) return refused("the host is refused by configuration");
  if (policy.allowHosts.some((p) => hostMatches(host, p))) return { ok: true, url };
  if (!host.includes(".")) return refused("single-label host names are not fetched");
  if (LOCAL_SUFFIXES.some((s) => host === s || host.endsWith(`.${s}`))) return refused("the host name is local");
  return { ok: true, url };
}
