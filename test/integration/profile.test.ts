/** Profiles (spec: Client-Server § Profiles). */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

const profilePath = (userId: string, field?: string) => `/_matrix/client/v3/profile/${encodeURIComponent(userId)}${field ? `/${field}` : ""}`;

describe("reading profiles", () => {
  it("a new user's display name is its localpart and it has no avatar", async () => {
    const alice = await registerUser();
    const res = await call("GET", profilePath(alice.user_id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ displayname: alice.username });
    const avatar = await call("GET", profilePath(alice.user_id, "avatar_url"));
    expect(avatar.status).toBe(404);
    expect(avatar.body.errcode).toBe("M_NOT_FOUND");
  });

  it("works without a token, and with one", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const anonymous = await call("GET", profilePath(alice.user_id, "displayname"));
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ displayname: alice.username });
    const asBob = await call("GET", profilePath(alice.user_id, "displayname"), { token: bob.access_token });
    expect(asBob.body).toEqual({ displayname: alice.username });
  });

  it("answers 404 M_NOT_FOUND for an unknown user", async () => {
    for (const path of [profilePath("@nobody:test.local"), profilePath("@nobody:test.local", "displayname")]) {
      const res = await call("GET", path);
      expect(res.status).toBe(404);
      expect(res.body.errcode).toBe("M_NOT_FOUND");
    }
  });
});

describe("PUT /profile/{userId}/{field}", () => {
  it("sets the display name, visible in the field and the whole profile", async () => {
    const alice = await registerUser();
    const res = await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: "Alice Liddell 🐇" }, token: alice.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect((await call("GET", profilePath(alice.user_id, "displayname"))).body).toEqual({ displayname: "Alice Liddell 🐇" });
    expect((await call("GET", profilePath(alice.user_id))).body).toEqual({ displayname: "Alice Liddell 🐇" });
  });

  it("sets the avatar_url to an mxc URI", async () => {
    const alice = await registerUser();
    const mxc = "mxc://test.local/AbCdEf_123-x";
    const res = await call("PUT", profilePath(alice.user_id, "avatar_url"), { body: { avatar_url: mxc }, token: alice.access_token });
    expect(res.status).toBe(200);
    expect((await call("GET", profilePath(alice.user_id, "avatar_url"))).body).toEqual({ avatar_url: mxc });
    expect((await call("GET", profilePath(alice.user_id))).body).toEqual({ displayname: alice.username, avatar_url: mxc });
  });

  it("clears a field with an empty string or null", async () => {
    const alice = await registerUser();
    await call("PUT", profilePath(alice.user_id, "avatar_url"), { body: { avatar_url: "mxc://test.local/abc" }, token: alice.access_token });
    expect((await call("PUT", profilePath(alice.user_id, "avatar_url"), { body: { avatar_url: "" }, token: alice.access_token })).status).toBe(200);
    expect((await call("GET", profilePath(alice.user_id, "avatar_url"))).status).toBe(404);
    expect((await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: null }, token: alice.access_token })).status).toBe(200);
    expect((await call("GET", profilePath(alice.user_id))).body).toEqual({});
  });

  it.each([["https://example.org/cat.png"], ["mxc://test.local"], ["mxc://test.local/a/b"], ["not a url"]])(
    "refuses avatar_url %s with 400",
    async (url) => {
      const alice = await registerUser();
      const res = await call("PUT", profilePath(alice.user_id, "avatar_url"), { body: { avatar_url: url }, token: alice.access_token });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_INVALID_PARAM");
      expect((await call("GET", profilePath(alice.user_id, "avatar_url"))).status).toBe(404);
    },
  );

  it("refuses values of the wrong type and over-long display names", async () => {
    const alice = await registerUser();
    const number = await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: 7 }, token: alice.access_token });
    expect(number.status).toBe(400);
    expect(number.body.errcode).toBe("M_BAD_JSON");
    const long = await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: "x".repeat(1000) }, token: alice.access_token });
    expect(long.status).toBe(400);
    expect((await call("GET", profilePath(alice.user_id, "displayname"))).body).toEqual({ displayname: alice.username });
  });

  it("a body without the field is refused with M_MISSING_PARAM and clears nothing", async () => {
    const alice = await registerUser();
    for (const body of [{}, { avatar_url: "mxc://test.local/abc" }]) {
      const res = await call("PUT", profilePath(alice.user_id, "displayname"), { body, token: alice.access_token });
      expect(res.status).toBe(400);
      expect(res.body.errcode).toBe("M_MISSING_PARAM");
    }
    expect((await call("GET", profilePath(alice.user_id))).body).toEqual({ displayname: alice.username });
  });

  it("cannot edit another user's profile (403 M_FORBIDDEN)", async () => {
    const alice = await registerUser();
    const mallory = await registerUser();
    const res = await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: "hacked" }, token: mallory.access_token });
    expect(res.status).toBe(403);
    expect(res.body.errcode).toBe("M_FORBIDDEN");
    const del = await call("DELETE", profilePath(alice.user_id, "displayname"), { token: mallory.access_token });
    expect(del.status).toBe(403);
    expect(del.body.errcode).toBe("M_FORBIDDEN");
    expect((await call("GET", profilePath(alice.user_id, "displayname"))).body).toEqual({ displayname: alice.username });
  });

  it("needs a token", async () => {
    const alice = await registerUser();
    const res = await call("PUT", profilePath(alice.user_id, "displayname"), { body: { displayname: "anon" } });
    expect(res.status).toBe(401);
    expect(res.body.errcode).toBe("M_MISSING_TOKEN");
  });

  it("DELETE /profile/{userId}/{field} removes a field", async () => {
    const alice = await registerUser();
    const res = await call("DELETE", profilePath(alice.user_id, "displayname"), { token: alice.access_token });
    expect(res.status).toBe(200);
    expect((await call("GET", profilePath(alice.user_id, "displayname"))).status).toBe(404);
  });
});
