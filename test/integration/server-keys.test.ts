/** GET /_matrix/key/v2/server (spec: Server-Server § Publishing keys). */
import { describe, expect, it } from "vitest";
import type { JsonObject } from "../../src/matrix/canonical-json";
import { verifyJsonSignature } from "../../src/matrix/signing";
import { call, testEnv } from "./helpers";

interface KeyResponse extends JsonObject {
  server_name: string;
  valid_until_ts: number;
  verify_keys: Record<string, { key: string }>;
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
  signatures: Record<string, Record<string, string>>;
}

async function fetchKeys(path = "/_matrix/key/v2/server"): Promise<KeyResponse> {
  const res = await call<KeyResponse>("GET", path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
  return res.body;
}

describe("server keys", () => {
  it("publishes server_name, verify_keys, valid_until_ts and a signature that verifies", async () => {
    const before = Date.now();
    const body = await fetchKeys();
    expect(body.server_name).toBe("test.local");
    expect(body.valid_until_ts).toBeGreaterThan(before);
    expect(body.old_verify_keys).toEqual({});

    const keyIds = Object.keys(body.verify_keys);
    expect(keyIds).toHaveLength(1);
    const keyId = keyIds[0]!;
    expect(keyId).toMatch(/^ed25519:[A-Za-z0-9_]+$/);
    const publicKey = body.verify_keys[keyId]!.key;
    expect(publicKey).toMatch(/^[A-Za-z0-9+/]{43}$/); // 32 bytes, unpadded base64

    expect(Object.keys(body.signatures)).toEqual(["test.local"]);
    expect(await verifyJsonSignature(body, "test.local", keyId, publicKey)).toBe(true);

    // The signature covers the body: any change breaks it.
    expect(await verifyJsonSignature({ ...body, valid_until_ts: body.valid_until_ts + 1 }, "test.local", keyId, publicKey)).toBe(false);
    expect(await verifyJsonSignature({ ...body, server_name: "evil.example" }, "test.local", keyId, publicKey)).toBe(false);
  });

  it("keeps the same key across requests", async () => {
    const first = await fetchKeys();
    const second = await fetchKeys();
    expect(second.verify_keys).toEqual(first.verify_keys);
    // The key is stored, so a restarted isolate would find it too.
    const { results } = await testEnv.DB.prepare("SELECT key_id, public_key FROM server_signing_keys WHERE expired_ts IS NULL").all<{
      key_id: string;
      public_key: string;
    }>();
    expect(results).toHaveLength(1);
    expect(first.verify_keys).toEqual({ [results[0]!.key_id]: { key: results[0]!.public_key } });
  });

  it("answers on the deprecated /server/{keyId} path with the same keys", async () => {
    const plain = await fetchKeys();
    const keyId = Object.keys(plain.verify_keys)[0]!;
    const withId = await fetchKeys(`/_matrix/key/v2/server/${encodeURIComponent(keyId)}`);
    expect(withId.verify_keys).toEqual(plain.verify_keys);
    expect(await verifyJsonSignature(withId, "test.local", keyId, withId.verify_keys[keyId]!.key)).toBe(true);
  });
});
