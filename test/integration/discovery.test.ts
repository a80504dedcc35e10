import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

describe("discovery", () => {
  it("GET /versions lists a version matrix-js-sdk accepts and no unstable features that don't work", async () => {
    const res = await call("GET", "/_matrix/client/versions");
    expect(res.status).toBe(200);
    expect(res.body.versions).toContain("v1.1");
    // v1.11: clients then fetch media from the authenticated /_matrix/client/v1/media paths, which
    // are served, while the legacy unauthenticated ones are frozen.
    expect(res.body.versions).toContain("v1.11");
    const alice = await registerUser();
    expect((await call("GET", "/_matrix/client/v1/media/config", { token: alice.access_token })).status).toBe(200);
    // Only features that work: simplified sliding sync (Element X refuses to sync without it).
    expect(res.body.unstable_features).toEqual({ "org.matrix.simplified_msc3575": true });
  });

  it("serves .well-known for clients and servers", async () => {
    const client = await call("GET", "/.well-known/matrix/client");
    expect(client.body).toEqual({ "m.homeserver": { base_url: "https://test.local" } });
    const server = await call("GET", "/.well-known/matrix/server");
    expect(server.body).toEqual({ "m.server": "test.local:443" });
  });

  it("GET /capabilities needs a token and reports password changes as enabled", async () => {
    expect((await call("GET", "/_matrix/client/v3/capabilities")).status).toBe(401);
    const alice = await registerUser();
    const res = await call("GET", "/_matrix/client/v3/capabilities", { token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body.capabilities["m.change_password"]).toEqual({ enabled: true });
  });

  it("health endpoint reports D1 as answering", async () => {
    const res = await call("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ok");
  });
});
