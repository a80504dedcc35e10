import { describe, expect, it } from "vitest";
import { readFixture } from "../../test/support/fixtures";
import { decodeBase64, encodeBase64, encodeBase64Url } from "./base64";
import { canonicalJson, type JsonObject } from "./canonical-json";
import { signedBytes, signJson, signingKeyFromSeed, verifyJsonSignature } from "./signing";

const file = readFixture<{
  key: { signing_key_seed_unpadded_base64: string; public_key_unpadded_base64: string; server_name: string; key_id: string };
  vectors: { name: string; input: JsonObject; canonical_signed_bytes: string; expected: JsonObject }[];
}>("vectors/signing.json");

describe("unpadded base64 (spec appendix)", () => {
  // The spec's examples for unpadded base64.
  const cases: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of cases) {
    it(`"${plain}" ↔ "${encoded}"`, () => {
      const bytes = new TextEncoder().encode(plain);
      expect(encodeBase64(bytes)).toBe(encoded);
      expect(new TextDecoder().decode(decodeBase64(encoded))).toBe(plain);
    });
  }
  it("accepts padded input and the URL-safe alphabet", () => {
    expect(decodeBase64("Zm8=")).toEqual(new TextEncoder().encode("fo"));
    expect(encodeBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(decodeBase64("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
  });
  it("rejects characters outside the alphabet", () => {
    expect(() => decodeBase64("Zm9v!")).toThrow();
  });
});

describe("JSON signing (spec appendix worked example)", () => {
  const seed = decodeBase64(file.key.signing_key_seed_unpadded_base64);

  it("derives the public key from the seed", async () => {
    const key = await signingKeyFromSeed(seed, file.key.server_name, file.key.key_id);
    expect(key.publicKey).toBe(file.key.public_key_unpadded_base64);
  });

  for (const v of file.vectors) {
    it(v.name, async () => {
      const key = await signingKeyFromSeed(seed, file.key.server_name, file.key.key_id);
      expect(new TextDecoder().decode(signedBytes(v.input))).toBe(v.canonical_signed_bytes);
      const signed = await signJson(v.input, key);
      expect(canonicalJson(signed)).toBe(canonicalJson(v.expected));
      expect(await verifyJsonSignature(signed, file.key.server_name, file.key.key_id, key.publicKey)).toBe(true);
    });
  }

  it("ignores `unsigned` when signing, and detects tampering", async () => {
    const key = await signingKeyFromSeed(seed, "domain", "ed25519:1");
    const signed = await signJson({ one: 1, unsigned: { age_ts: 5 } }, key);
    expect(await verifyJsonSignature({ ...signed, unsigned: { other: true } }, "domain", "ed25519:1", key.publicKey)).toBe(true);
    expect(await verifyJsonSignature({ ...signed, one: 2 }, "domain", "ed25519:1", key.publicKey)).toBe(false);
    expect(await verifyJsonSignature(signed, "other", "ed25519:1", key.publicKey)).toBe(false);
  });
});
