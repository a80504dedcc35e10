import { describe, expect, it } from "vitest";
import { encodeBase64 } from "./base64";
import { crossSigningPublicKey } from "./cross-signing-keys";

const pk = encodeBase64(new Uint8Array(32).fill(7));

describe("crossSigningPublicKey", () => {
  it("is the one ed25519 key, named by itself", () => {
    expect(crossSigningPublicKey({ user_id: "@a:x", usage: ["master"], keys: { [`ed25519:${pk}`]: pk } })).toBe(pk);
  });

  it("refuses anything else (spec: CrossSigningKey `keys` has exactly one property)", () => {
    const other = encodeBase64(new Uint8Array(32).fill(8));
    for (const keys of [
      {},
      { [`ed25519:${pk}`]: pk, [`ed25519:${other}`]: other },
      { "ed25519:KEYID": pk },
      { [`curve25519:${pk}`]: pk },
      { "ed25519:abc": "abc" },
      { [`ed25519:${pk}`]: 5 },
      "nope",
    ]) {
      expect(crossSigningPublicKey({ keys } as never), JSON.stringify(keys)).toBeUndefined();
    }
    expect(crossSigningPublicKey({ user_id: "@a:x" })).toBeUndefined();
  });
});
