/**
 * Server-side key backups (spec: Client-Server § Server-side key backups): /room_keys/version and
 * /room_keys/keys at all three levels, etag and count, wrong versions, and which of two keys for
 * a session is kept.
 */
import { describe, expect, it } from "vitest";
import { call, registerUser } from "./helpers";

const V3 = "/_matrix/client/v3";
const ALGORITHM = "m.megolm_backup.v1.curve25519-aes-sha2";
const enc = encodeURIComponent;

type User = Awaited<ReturnType<typeof registerUser>>;

function authData(publicKey = "pubkey") {
  return { public_key: publicKey, signatures: { "@x:test.local": { "ed25519:DEV": "sig" } } };
}

async function createBackup(u: User, publicKey = "pubkey"): Promise<string> {
  const res = await call("POST", `${V3}/room_keys/version`, { token: u.access_token, body: { algorithm: ALGORITHM, auth_data: authData(publicKey) } });
  if (res.status !== 200) throw new Error(`create backup: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.version;
}

function keyData(isVerified: boolean, firstMessageIndex: number, forwardedCount: number, tag = "data") {
  return {
    first_message_index: firstMessageIndex,
    forwarded_count: forwardedCount,
    is_verified: isVerified,
    session_data: { ephemeral: tag, ciphertext: `c-${tag}`, mac: "m" },
  };
}

const sessionPath = (roomId: string, sessionId: string, version?: string) =>
  `${V3}/room_keys/keys/${enc(roomId)}/${enc(sessionId)}${version !== undefined ? `?version=${enc(version)}` : ""}`;

describe("/room_keys/version", () => {
  it("creates versions; GET gives the latest with count and etag, or 404 when there is none", async () => {
    const alice = await registerUser();
    const none = await call("GET", `${V3}/room_keys/version`, { token: alice.access_token });
    expect(none.status).toBe(404);
    expect(none.body.errcode).toBe("M_NOT_FOUND");

    const v1 = await createBackup(alice, "k1");
    expect(typeof v1).toBe("string");
    const current = await call("GET", `${V3}/room_keys/version`, { token: alice.access_token });
    expect(current.status).toBe(200);
    expect(current.body).toEqual({ algorithm: ALGORITHM, auth_data: authData("k1"), count: 0, etag: expect.any(String), version: v1 });
    expect((await call("GET", `${V3}/room_keys/version/${v1}`, { token: alice.access_token })).body).toEqual(current.body);

    const v2 = await createBackup(alice, "k2");
    expect(v2).not.toBe(v1);
    expect((await call("GET", `${V3}/room_keys/version`, { token: alice.access_token })).body.version).toBe(v2);
    // The older one is still there by its version.
    expect((await call("GET", `${V3}/room_keys/version/${v1}`, { token: alice.access_token })).body.auth_data).toEqual(authData("k1"));

    // Another user sees none of it.
    const bob = await registerUser();
    expect((await call("GET", `${V3}/room_keys/version`, { token: bob.access_token })).status).toBe(404);
    expect((await call("GET", `${V3}/room_keys/version/${v1}`, { token: bob.access_token })).status).toBe(404);
    for (const v of ["999", "abc", "0"]) {
      const res = await call("GET", `${V3}/room_keys/version/${v}`, { token: alice.access_token });
      expect(res.status, v).toBe(404);
      expect(res.body.errcode, v).toBe("M_NOT_FOUND");
    }
  });

  it("refuses a malformed new version", async () => {
    const alice = await registerUser();
    for (const body of [{ algorithm: ALGORITHM }, { auth_data: authData() }, { algorithm: ALGORITHM, auth_data: "x" }, { algorithm: "", auth_data: {} }]) {
      const res = await call("POST", `${V3}/room_keys/version`, { token: alice.access_token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    expect((await call("POST", `${V3}/room_keys/version`, { body: { algorithm: ALGORITHM, auth_data: {} } })).status).toBe(401);
  });

  it("PUT updates auth_data only, with the same algorithm and version", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const path = `${V3}/room_keys/version/${v}`;
    const ok = await call("PUT", path, { token: alice.access_token, body: { algorithm: ALGORITHM, auth_data: authData("new"), version: v } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({});
    expect((await call("GET", path, { token: alice.access_token })).body.auth_data).toEqual(authData("new"));

    const otherAlgorithm = await call("PUT", path, { token: alice.access_token, body: { algorithm: "org.example.other", auth_data: authData() } });
    expect(otherAlgorithm.status).toBe(400);
    expect(otherAlgorithm.body.errcode).toBe("M_INVALID_PARAM");
    const otherVersion = await call("PUT", path, { token: alice.access_token, body: { algorithm: ALGORITHM, auth_data: authData(), version: "12345" } });
    expect(otherVersion.status).toBe(400);
    expect(otherVersion.body.errcode).toBe("M_INVALID_PARAM");
    const unknown = await call("PUT", `${V3}/room_keys/version/4242`, { token: alice.access_token, body: { algorithm: ALGORITHM, auth_data: authData() } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    expect((await call("GET", path, { token: alice.access_token })).body.auth_data).toEqual(authData("new"));
  });

  it("DELETE removes a version and its keys; again is fine; the previous version becomes current", async () => {
    const alice = await registerUser();
    const v1 = await createBackup(alice, "k1");
    const v2 = await createBackup(alice, "k2");
    expect((await call("PUT", sessionPath("!r:test.local", "s1", v2), { token: alice.access_token, body: keyData(false, 0, 0) })).status).toBe(200);

    const del = await call("DELETE", `${V3}/room_keys/version/${v2}`, { token: alice.access_token });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({});
    expect((await call("GET", `${V3}/room_keys/version/${v2}`, { token: alice.access_token })).status).toBe(404);
    expect((await call("GET", `${V3}/room_keys/keys?version=${v2}`, { token: alice.access_token })).status).toBe(404);
    expect((await call("DELETE", `${V3}/room_keys/version/${v2}`, { token: alice.access_token })).status).toBe(200);
    expect((await call("GET", `${V3}/room_keys/version`, { token: alice.access_token })).body.version).toBe(v1);

    const unknown = await call("DELETE", `${V3}/room_keys/version/777`, { token: alice.access_token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    // A new version never reuses a deleted one's number.
    expect(await createBackup(alice)).not.toBe(v2);
  });
});

describe("/room_keys/keys", () => {
  it("stores and returns keys at the session, room and all-rooms levels, with etag and count", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const room1 = "!room1:test.local";
    const room2 = "!room2:test.local";
    const session = "ab/cd+ef";

    const one = await call("PUT", sessionPath(room1, session, v), { token: alice.access_token, body: keyData(false, 0, 0, "a") });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ etag: expect.any(String), count: 1 });
    const room = await call("PUT", `${V3}/room_keys/keys/${enc(room1)}?version=${v}`, {
      token: alice.access_token,
      body: { sessions: { s2: keyData(true, 3, 1, "b") } },
    });
    expect(room.body.count).toBe(2);
    expect(room.body.etag).not.toBe(one.body.etag);
    const all = await call("PUT", `${V3}/room_keys/keys?version=${v}`, {
      token: alice.access_token,
      body: { rooms: { [room2]: { sessions: { s3: keyData(false, 1, 2, "c") } } } },
    });
    expect(all.body.count).toBe(3);

    expect((await call("GET", sessionPath(room1, session, v), { token: alice.access_token })).body).toEqual(keyData(false, 0, 0, "a"));
    expect((await call("GET", `${V3}/room_keys/keys/${enc(room1)}?version=${v}`, { token: alice.access_token })).body).toEqual({
      sessions: { [session]: keyData(false, 0, 0, "a"), s2: keyData(true, 3, 1, "b") },
    });
    expect((await call("GET", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token })).body).toEqual({
      rooms: { [room1]: { sessions: { [session]: keyData(false, 0, 0, "a"), s2: keyData(true, 3, 1, "b") } }, [room2]: { sessions: { s3: keyData(false, 1, 2, "c") } } },
    });
    const info = (await call("GET", `${V3}/room_keys/version`, { token: alice.access_token })).body;
    expect(info.count).toBe(3);
    expect(info.etag).toBe(all.body.etag);

    // Nothing there: 404 for a session, empty for a room.
    const missing = await call("GET", sessionPath(room1, "nope", v), { token: alice.access_token });
    expect(missing.status).toBe(404);
    expect(missing.body.errcode).toBe("M_NOT_FOUND");
    expect((await call("GET", `${V3}/room_keys/keys/${enc("!empty:test.local")}?version=${v}`, { token: alice.access_token })).body).toEqual({ sessions: {} });

    // Another user's backup is not reachable with the same version.
    const bob = await registerUser();
    expect((await call("GET", `${V3}/room_keys/keys?version=${v}`, { token: bob.access_token })).status).toBe(404);
  });

  it("keeps the better key for a session: verified, then lower first_message_index, then lower forwarded_count", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const put = (body: object) => call("PUT", sessionPath("!r:test.local", "s", v), { token: alice.access_token, body });
    const stored = async () => (await call("GET", sessionPath("!r:test.local", "s", v), { token: alice.access_token })).body;

    let last = await put(keyData(false, 5, 1, "first"));
    const cases: [ReturnType<typeof keyData>, boolean][] = [
      [keyData(false, 6, 0, "later index"), false],
      [keyData(false, 5, 2, "more forwarded"), false],
      [keyData(false, 5, 1, "equal"), false],
      [keyData(false, 5, 0, "less forwarded"), true],
      [keyData(false, 4, 9, "lower index"), true],
      [keyData(true, 9, 9, "verified"), true],
      [keyData(false, 0, 0, "unverified"), false],
      [keyData(true, 9, 10, "verified, more forwarded"), false],
      [keyData(true, 8, 10, "verified, lower index"), true],
    ];
    let expected = keyData(false, 5, 1, "first");
    for (const [candidate, replaces] of cases) {
      const res = await put(candidate);
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(1);
      if (replaces) expected = candidate;
      expect(await stored(), candidate.session_data.ephemeral).toEqual(expected);
      // The etag moves exactly when the backup changed.
      expect(res.body.etag !== last.body.etag, candidate.session_data.ephemeral).toBe(replaces);
      last = res;
    }
  });

  it("concurrent uploads for one session keep the best key whatever their order", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const candidates = [keyData(false, 3, 0, "a"), keyData(false, 1, 5, "b"), keyData(true, 7, 2, "best"), keyData(true, 7, 3, "c"), keyData(false, 0, 0, "d"), keyData(true, 9, 0, "e")];
    const results = await Promise.all(candidates.map((body) => call("PUT", sessionPath("!r:test.local", "s", v), { token: alice.access_token, body })));
    for (const r of results) expect(r.status).toBe(200);
    expect((await call("GET", sessionPath("!r:test.local", "s", v), { token: alice.access_token })).body).toEqual(keyData(true, 7, 2, "best"));
  });

  it("only the current version takes keys: another is 403 M_WRONG_ROOM_KEYS_VERSION with current_version; unknown is 404", async () => {
    const alice = await registerUser();
    const noBackup = await call("PUT", sessionPath("!r:test.local", "s", "1"), { token: alice.access_token, body: keyData(false, 0, 0) });
    expect(noBackup.status).toBe(404);
    expect(noBackup.body.errcode).toBe("M_NOT_FOUND");

    const v1 = await createBackup(alice);
    expect((await call("PUT", sessionPath("!r:test.local", "old", v1), { token: alice.access_token, body: keyData(false, 0, 0, "old") })).status).toBe(200);
    const v2 = await createBackup(alice);
    const wrongVersion: [string, object][] = [
      [sessionPath("!r:test.local", "s", v1), keyData(false, 0, 0)],
      [`${V3}/room_keys/keys/${enc("!r:test.local")}?version=${v1}`, { sessions: { s: keyData(false, 0, 0) } }],
      [`${V3}/room_keys/keys?version=${v1}`, { rooms: { "!r:test.local": { sessions: { s: keyData(false, 0, 0) } } } }],
    ];
    for (const [path, body] of wrongVersion) {
      const res = await call("PUT", path, { token: alice.access_token, body });
      expect(res.status, path).toBe(403);
      expect(res.body).toEqual({ errcode: "M_WRONG_ROOM_KEYS_VERSION", error: expect.any(String), current_version: v2 });
    }
    const unknown = await call("PUT", sessionPath("!r:test.local", "s", "9999"), { token: alice.access_token, body: keyData(false, 0, 0) });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    const noVersion = await call("PUT", sessionPath("!r:test.local", "s"), { token: alice.access_token, body: keyData(false, 0, 0) });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.errcode).toBe("M_MISSING_PARAM");
    expect((await call("GET", `${V3}/room_keys/keys`, { token: alice.access_token })).body.errcode).toBe("M_MISSING_PARAM");

    // Nothing went into the old version; its keys can still be read.
    expect((await call("GET", `${V3}/room_keys/keys?version=${v1}`, { token: alice.access_token })).body).toEqual({
      rooms: { "!r:test.local": { sessions: { old: keyData(false, 0, 0, "old") } } },
    });
    expect((await call("GET", `${V3}/room_keys/version/${v2}`, { token: alice.access_token })).body.count).toBe(0);
  });

  it("refuses malformed key data with 400 M_BAD_JSON", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const { is_verified: _omit, ...noVerified } = keyData(false, 0, 0);
    const bodies: unknown[] = [noVerified, { ...keyData(false, 0, 0), first_message_index: 1.5 }, { ...keyData(false, 0, 0), forwarded_count: -1 }, { ...keyData(false, 0, 0), session_data: "x" }];
    for (const body of bodies) {
      const res = await call("PUT", sessionPath("!r:test.local", "s", v), { token: alice.access_token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errcode).toBe("M_BAD_JSON");
    }
    const badRoom = await call("PUT", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token, body: { rooms: { "!r:test.local": { sessions: { s: { is_verified: true } } } } } });
    expect(badRoom.status).toBe(400);
    expect((await call("GET", `${V3}/room_keys/version/${v}`, { token: alice.access_token })).body.count).toBe(0);
  });

  it("DELETE removes keys at each level and answers etag and count", async () => {
    const alice = await registerUser();
    const v = await createBackup(alice);
    const rooms = {
      "!a:test.local": { sessions: { s1: keyData(false, 0, 0), s2: keyData(false, 0, 0) } },
      "!b:test.local": { sessions: { s3: keyData(false, 0, 0) } },
      "!c:test.local": { sessions: { s4: keyData(false, 0, 0) } },
    };
    const put = await call("PUT", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token, body: { rooms } });
    expect(put.body.count).toBe(4);

    const one = await call("DELETE", sessionPath("!a:test.local", "s1", v), { token: alice.access_token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ etag: expect.any(String), count: 3 });
    expect(one.body.etag).not.toBe(put.body.etag);
    const room = await call("DELETE", `${V3}/room_keys/keys/${enc("!b:test.local")}?version=${v}`, { token: alice.access_token });
    expect(room.body.count).toBe(2);
    // Deleting what isn't there changes nothing, not even the etag.
    const again = await call("DELETE", `${V3}/room_keys/keys/${enc("!b:test.local")}?version=${v}`, { token: alice.access_token });
    expect(again.body).toEqual(room.body);
    expect((await call("GET", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token })).body).toEqual({
      rooms: { "!a:test.local": { sessions: { s2: keyData(false, 0, 0) } }, "!c:test.local": { sessions: { s4: keyData(false, 0, 0) } } },
    });
    const all = await call("DELETE", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token });
    expect(all.body.count).toBe(0);
    expect((await call("GET", `${V3}/room_keys/keys?version=${v}`, { token: alice.access_token })).body).toEqual({ rooms: {} });

    const unknown = await call("DELETE", `${V3}/room_keys/keys?version=555`, { token: alice.access_token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errcode).toBe("M_NOT_FOUND");
    const noVersion = await call("DELETE", `${V3}/room_keys/keys`, { token: alice.access_token });
    expect(noVersion.status).toBe(400);
    expect(noVersion.body.errcode).toBe("M_MISSING_PARAM");
  });
});
