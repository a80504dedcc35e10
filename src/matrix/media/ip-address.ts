/**
 * IP addresses and CIDR ranges for the URL preview's server-side request forgery guard
 * (spec: Client-Server § Content repository, GET /preview_url; the spec leaves the policy to the
 * server, Synapse refuses private ranges by default). Addresses are held as 128-bit bigints: IPv4
 * is stored as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one range list covers both families
 * and `[::ffff:127.0.0.1]` is caught by the same rule as `127.0.0.1`.
 */

export interface IpRange {
  /** First address of the range (IPv6 or IPv4-mapped). */
  base: bigint;
  /** Prefix length over the 128-bit form. */
  prefix: number;
  /** As written in configuration, for messages. */
  text: string;
}

const MAPPED_PREFIX = 0xffffn << 32n;
const ALL = (1n << 128n) - 1n;

/** A dotted-quad IPv4 address (exactly four decimal parts, as the URL parser normalizes them). */
export function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

/** An IPv6 address, with `::` compression and an optional trailing dotted IPv4 part; no zone id. */
export function parseIpv6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      out.push(parseInt(part, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/**
 * The address a URL host names, if it is an IP literal. Takes a WHATWG `URL.hostname`, which has
 * already turned numeric IPv4 forms (2130706433, 0x7f.1, 0177.0.0.1) into dotted quads and keeps
 * IPv6 in brackets.
 */
export function ipOfHostname(hostname: string): bigint | undefined {
  if (hostname.startsWith("[") && hostname.endsWith("]")) return parseIpv6(hostname.slice(1, -1));
  const v4 = parseIpv4(hostname);
  return v4 === undefined ? undefined : MAPPED_PREFIX | v4;
}

/** "10.0.0.0/8", "fc00::/7" or a single address; undefined when malformed. */
export function parseIpRange(text: string): IpRange | undefined {
  const trimmed = text.trim();
  const [addr = "", len, ...rest] = trimmed.split("/");
  if (rest.length) return undefined;
  const v4 = parseIpv4(addr);
  const v6 = v4 === undefined ? parseIpv6(addr.replace(/^\[|\]$/g, "")) : undefined;
  if (v4 === undefined && v6 === undefined) return undefined;
  const max = v4 !== undefined ? 32 : 128;
  const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  const prefix = v4 !== undefined ? 96 + bits : bits;
  const full = v4 !== undefined ? MAPPED_PREFIX | v4 : v6!;
  return { base: full & mask(prefix), prefix, text: trimmed };
}

function mask(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

export function inRange(ip: bigint, range: IpRange): boolean {
  return (ip & mask(range.prefix)) === range.base;
}

/**
 * Ranges a preview must never reach unless explicitly allowed: everything that is not the public
 * internet (RFC 6890 special-purpose registries), as Synapse's recommended blacklist. IPv4 ranges
 * also match their IPv4-mapped IPv6 form; NAT64 and 6to4 embed IPv4 addresses, so they are listed
 * whole.
 */
export const NON_PUBLIC_RANGES: readonly IpRange[] = [
  "0.0.0.0/8", // "this network"
  "10.0.0.0/8", // private
  "100.64.0.0/10", // carrier-grade NAT
  "127.0.0.0/8", // loopback
  "169.254.0.0/16", // link-local (cloud metadata services live here)
  "172.16.0.0/12", // private
  "192.0.0.0/24", // IETF protocol assignments
  "192.0.2.0/24", // documentation
  "192.88.99.0/24", // 6to4 relay anycast
  "192.168.0.0/16", // private
  "198.18.0.0/15", // benchmarking
  "198.51.100.0/24", // documentation
  "203.0.113.0/24", // documentation
  "224.0.0.0/4", // multicast
  "240.0.0.0/4", // reserved, and 255.255.255.255 broadcast
  "::/128", // unspecified
  "::1/128", // loopback
  "64:ff9b::/96", // NAT64
  "64:ff9b:1::/48", // local-use NAT64
  "100::/64", // discard-only
  "2001::/23", // IETF protocol assignments (Teredo, ORCHID, …)
  "2001:db8::/32", // documentation
  "2002::/16", // 6to4
  "fc00::/7", // unique local
  "fe80::/10", // link-local
  "fec0::/10", // site-local (deprecated)
  "ff00::/8", // multicast
].map((text) => parseIpRange(text)!);
