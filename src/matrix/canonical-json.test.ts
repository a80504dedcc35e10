import { describe, expect, it } from "vitest";
import { readFixture } from "../../test/support/fixtures";
import { canonicalJson, CanonicalJsonError } from "./canonical-json";

interface Vector {
  name?: string;
  description?: string;
  input: string;
  expected: string;
}
const file = readFixture<{
  vectors: Vector[];
  derived_vectors_not_in_spec: { vectors: Vector[] };
  derived_must_reject_not_in_spec: { vectors: { input: string; reason: string }[] };
}>("vectors/canonical-json.json");

describe("canonical JSON (spec appendix examples)", () => {
  for (const v of [...file.vectors, ...file.derived_vectors_not_in_spec.vectors]) {
    it(v.name ?? v.description ?? v.input, () => {
      expect(canonicalJson(JSON.parse(v.input))).toBe(v.expected);
    });
  }
  for (const v of file.derived_must_reject_not_in_spec.vectors) {
    it(`rejects ${v.input} (${v.reason})`, () => {
      expect(() => canonicalJson(JSON.parse(v.input))).toThrow(CanonicalJsonError);
    });
  }
});
