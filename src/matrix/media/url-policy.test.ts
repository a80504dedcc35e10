import { describe, expect, it } from "vitest";
import { inRange, ipOfHostname, parseIpRange, parseIpv6 } from "./ip-address";
import { checkOutboundUrl, DEFAULT_URL_POLICY, parsePolicyList, type UrlPolicy } from "./url-policy";

const refused = (url: string, policy: UrlPolicy = DEFAULT_URL_POLICY) => !checkOutboundUrl(url, policy).ok;

function policy(allow: string, deny = ""): UrlPolicy {
  const a = parsePolicyList(allow);
  const d = parsePolicyList(deny);
  if ("invalid" in a || "invalid" in d) throw new Error("bad list");
  return { allowRanges: a.ranges, allowHosts: a.hosts, denyRanges: d.ranges, denyHosts: d.hosts };
}

describe("IP ranges", () => {
  it("parses IPv6 with compression and an embedded IPv4 part", () => {
    expect(parseIpv6("::1")).toBe(1n);
    expect(parseIpv6("::ffff:127.0.0.1")).toBe((0xffffn << 32n) | 0x7f000001n);
    expect(parseIpv6("fe80::1:2")).toBe((0xfe80n << 112n) | (1n << 16n) | 2n);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toBe(0x00010002000300040005000600070008n);
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "::g", "1:2:3:4:5:6:7::8", ":::"]) expect(parseIpv6(bad), bad).toBeUndefined();
  });

  it("matches IPv4 ranges against IPv4-mapped IPv6 addresses too", () => {
    const loopback = parseIpRange("127.0.0.0/8")!;
    expect(inRange(ipOfHostname("127.1.2.3")!, loopback)).toBe(true);
    expect(inRange(ipOfHostname("[::ffff:7f00:1]")!, loopback)).toBe(true);
    expect(inRange(ipOfHostname("128.0.0.1")!, loopback)).toBe(false);
    expect(parseIpRange("10.0.0.0/33")).toBeUndefined();
    expect(parseIpRange("fc00::/129")).toBeUndefined();
    expect(parseIpRange("example.com")).toBeUndefined();
  });
});

describe("checkOutboundUrl", () => {
  it("accepts public http(s) URLs", () => {
    expect(checkOutboundUrl("https://matrix.org/blog", DEFAULT_URL_POLICY)).toMatchObject({ ok: true });
    expect(checkOutboundUrl("http://93.184.215.14:8080/x", DEFAULT_URL_POLICY)).toMatchObject({ ok: true });
    expect(checkOutboundUrl("https://[2606:4700::1111]/", DEFAULT_URL_POLICY)).toMatchObject({ ok: true });
  });

  it("refuses other schemes, credentials and garbage", () => {
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "https://user:pw@example.com/", "not a url", "data:text/html,hi"]) {
      expect(refused(url), url).toBe(true);
    }
  });

  it("refuses loopback, private, link-local, CGNAT, multicast and IPv6 local addresses by default", () => {
    for (const url of [
      "http://127.0.0.1/",
      "http://127.8.9.10:8008/",
      "http://10.1.2.3/",
      "http://172.16.0.1/",
      "http://192.168.1.1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/",
      "http://224.0.0.1/",
      "http://0.0.0.0/",
      "http://255.255.255.255/",
      "http://[::1]/",
      "http://[::]/",
      "http://[fe80::1]/",
      "http://[fd00::1]/",
      "http://[ff02::1]/",
      "http://[64:ff9b::7f00:1]/",
      "http://[2002:7f00:1::]/",
    ]) {
      expect(refused(url), url).toBe(true);
    }
  });

  it("sees through numeric and mapped spellings of loopback", () => {
    for (const url of ["http://2130706433/", "http://0x7f.1/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://[0:0:0:0:0:ffff:7f00:1]/"]) {
      expect(refused(url), url).toBe(true);
    }
  });

  it("refuses names that can only be local", () => {
    for (const url of ["http://localhost/", "http://LOCALHOST.:8008/", "http://api.localhost/", "http://printer.local/", "http://metadata.google.internal/", "http://router/", "http://nas.home.arpa/"]) {
      expect(refused(url), url).toBe(true);
    }
  });

  it("allows configured ranges and names, and configured denials win", () => {
    const loopback = policy("127.0.0.0/8, ::1, localhost, *.corp.example");
    expect(refused("http://127.0.0.1:8080/page", loopback)).toBe(false);
    expect(refused("http://[::1]/", loopback)).toBe(false);
    expect(refused("http://localhost:3000/", loopback)).toBe(false);
    expect(refused("http://wiki.corp.example/", loopback)).toBe(false);
    expect(refused("http://10.0.0.1/", loopback)).toBe(true);

    const both = policy("127.0.0.0/8", "127.0.0.2, evil.example, *.tracker.example");
    expect(refused("http://127.0.0.1/", both)).toBe(false);
    expect(refused("http://127.0.0.2/", both)).toBe(true);
    expect(refused("https://evil.example/", both)).toBe(true);
    expect(refused("https://a.tracker.example/", both)).toBe(true);
    expect(refused("https://tracker.example/", both)).toBe(false);
    expect(refused("http://93.184.215.14/", policy("", "93.184.0.0/16"))).toBe(true);
  });

  it("rejects malformed list entries", () => {
    expect(parsePolicyList("10.0.0.0/8, bad_host!")).toEqual({ invalid: "bad_host!" });
    expect(parsePolicyList("")).toEqual({ ranges: [], hosts: [] });
  });
});
