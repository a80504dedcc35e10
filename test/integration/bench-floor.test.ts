/** The benchmark floor route (src/api/bench-floor.ts) must not exist unless BENCH_ROUTES=on. */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

describe("benchmark floor route", () => {
  it("answers 404 M_UNRECOGNIZED when BENCH_ROUTES is not on, with or without a token", async () => {
    const alice = await registerUser();
    for (const token of [undefined, alice.access_token]) {
      const res = await call("PUT", "/_stratus/bench/floor/one/txn1", { body: { hello: "world" }, token });
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_UNRECOGNIZED");
    }
  });
});
