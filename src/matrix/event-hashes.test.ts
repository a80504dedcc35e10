import { describe, expect, it } from "vitest";
import { readFixture } from "../../test/support/fixtures";
import { decodeBase64, encodeBase64 } from "./base64";
import type { JsonObject } from "./canonical-json";
import type { Pdu } from "./events";
import { addContentHash, checkContentHash, contentHash, referenceHash, stripForFederation, withoutDerivedId } from "./event-hashes";
import type { PduLike } from "./redaction";
import { getRoomVersion, type RoomVersion } from "./room-versions";

interface SigningVector {
  name: string;
  input: JsonObject;
  expected: JsonObject;
  derived_not_in_spec: { reference_hash_rooms_v1_to_v10_redaction: { unpadded_base64: string } };
}
const file = readFixture<{ vectors: SigningVector[] }>("vectors/event-signing.json");
const [minimal, redactable] = file.vectors as [SigningVector, SigningVector];

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}
const asPdu = (o: JsonObject): PduLike => o as unknown as PduLike;

describe("content hash (spec appendix event signing examples)", () => {
  // The spec's two examples have no room version; the second carries `event_id` as in rooms v1/v2.
  it("matches the spec's hashes.sha256 for both examples", async () => {
    expect((await addContentHash(asPdu(minimal.input), version("1"))).hashes).toEqual(minimal.expected.hashes);
    expect((await addContentHash(asPdu(redactable.input), version("1"))).hashes).toEqual(redactable.expected.hashes);
  });

  it("ignores unsigned, signatures and existing hashes", async () => {
    const v = version("10");
    const a = await contentHash(asPdu(minimal.input), v);
    const b = await contentHash(asPdu({ ...minimal.input, unsigned: { age: 9 }, signatures: { x: { y: "z" } }, hashes: { sha256: "q" } }), v);
    expect(b).toEqual(a);
  });

  it("checkContentHash: valid, mismatch on changed content, missing without hashes, padded base64 accepted", async () => {
    const v = version("1");
    const signed = asPdu(redactable.expected);
    expect(await checkContentHash(signed, v)).toBe("valid");
    expect(await checkContentHash({ ...signed, content: { body: "changed" } }, v)).toBe("mismatch");
    expect(await checkContentHash({ ...signed, hashes: {} }, v)).toBe("missing");
    expect(await checkContentHash({ ...signed, hashes: { sha256: "not base64!" } }, v)).toBe("mismatch");
    expect(await checkContentHash({ ...signed, hashes: { sha256: `${String((signed.hashes as JsonObject).sha256)}=` } }, v)).toBe("valid");
  });

  it("from room version 3 on, an event_id on the internal form does not change the content hash", async () => {
    const v = version("4");
    const wire = asPdu(minimal.input);
    expect(await contentHash({ ...wire, event_id: "$anything" }, v)).toEqual(await contentHash(wire, v));
    // ...whereas in v1/v2 the event_id is part of the event and of its hash.
    expect(await contentHash({ ...wire, event_id: "$a:domain" }, version("1"))).not.toEqual(await contentHash(wire, version("1")));
  });
});

describe("reference hash", () => {
  it("spec example 1 (no event_id), v1–v10 redaction: matches the fixture's derived value and an independent node:crypto computation", async () => {
    const signed = asPdu(minimal.expected);
    for (const id of ["1", "3", "10"]) {
      expect(encodeBase64(await referenceHash(signed, version(id)))).toBe(minimal.derived_not_in_spec.reference_hash_rooms_v1_to_v10_redaction.unpadded_base64);
    }
  });

  it("spec example 1 under v11 redaction drops `origin`, giving a different hash", async () => {
    // node:crypto one-off: sha256 of the v11-redacted canonical JSON
    // {"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4…cos"},"origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}
    expect(encodeBase64(await referenceHash(asPdu(minimal.expected), version("11")))).toBe("70O/oKlXzFbkfu0KE88USi98DjSWrOELrPj+8tisl8I");
  });

  it("spec example 2 as a room v1 event includes its event_id", async () => {
    expect(encodeBase64(await referenceHash(asPdu(redactable.expected), version("1")))).toBe(
      redactable.derived_not_in_spec.reference_hash_rooms_v1_to_v10_redaction.unpadded_base64,
    );
  });

  it("ignores redactable content, signatures and unsigned", async () => {
    const v = version("1");
    const signed = asPdu(redactable.expected);
    const before = await referenceHash(signed, v);
    expect(await referenceHash({ ...signed, content: { body: "other" }, signatures: {}, unsigned: {} }, v)).toEqual(before);
    expect(await referenceHash({ ...signed, hashes: { sha256: "AAAA" } }, v)).not.toEqual(before);
    expect(decodeBase64(encodeBase64(before))).toHaveLength(32);
  });
});

describe("wire form", () => {
  const ev: Pdu = {
    event_id: "$x",
    room_id: "!r:s",
    sender: "@a:s",
    type: "m.room.message",
    content: {},
    prev_events: [],
    auth_events: [],
    depth: 1,
    origin_server_ts: 1,
    unsigned: { transaction_id: "t" },
  };

  it("withoutDerivedId drops event_id from v3 on and keeps it in v1/v2", () => {
    expect(withoutDerivedId(ev, version("2")).event_id).toBe("$x");
    expect("event_id" in withoutDerivedId(ev, version("3"))).toBe(false);
    expect("event_id" in withoutDerivedId(ev, version("12"))).toBe(false);
  });

  it("stripForFederation also drops local unsigned data and leaves the input alone", () => {
    const stripped = stripForFederation(ev, version("11"));
    expect("unsigned" in stripped).toBe(false);
    expect("event_id" in stripped).toBe(false);
    expect(stripForFederation(ev, version("1")).event_id).toBe("$x");
    expect(ev.unsigned).toEqual({ transaction_id: "t" });
  });
});
