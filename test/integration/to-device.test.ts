/** PUT /sendToDevice and /sync's to_device section (spec: Client-Server § Send-to-Device messaging). */
import { describe, expect, it } from "vitest";
import { call, loginOk, passwordAuth, registerUser } from "./helpers";

const enc = encodeURIComponent;
let txn = 0;
const nextTxn = () => `txn${Date.now()}-${++txn}`;

function send(token: string, messages: unknown, txnId = nextTxn(), type = "m.test") {
  return call("PUT", `/_matrix/client/v3/sendToDevice/${enc(type)}/${enc(txnId)}`, { token, body: { messages } });
}

async function sendOk(token: string, messages: unknown, txnId = nextTxn(), type = "m.test") {
  const res = await send(token, messages, txnId, type);
  if (res.status !== 200) throw new Error(`sendToDevice: ${res.status} ${JSON.stringify(res.body)}`);
  expect(res.body).toEqual({});
}

async function sync(token: string, since?: string, timeout = 0) {
  const res = await call("GET", `/_matrix/client/v3/sync?timeout=${timeout}${since ? `&since=${since}` : ""}`, { token });
  if (res.status !== 200) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The to-device events a sync carried, as [sender, type, content.n] for short assertions. */
const got = (body: any) => (body.to_device?.events ?? []).map((e: any) => [e.sender, e.type, e.content.n]);

describe("send-to-device", () => {
  it('"*" reaches every device of the user, a named device only that one, and unknown devices nobody', async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const bobPhone = await loginOk(bob.username);
    const carol = await registerUser();

    await sendOk(alice.access_token, {
      [bob.user_id]: { "*": { n: "all of bob" } },
      [carol.user_id]: { [carol.device_id]: { n: "carol" }, NOSUCHDEVICE: { n: "nobody" } },
    });
    expect(got(await sync(bob.access_token))).toEqual([[alice.user_id, "m.test", "all of bob"]]);
    expect(got(await sync(bobPhone.access_token))).toEqual([[alice.user_id, "m.test", "all of bob"]]);
    expect(got(await sync(carol.access_token))).toEqual([[alice.user_id, "m.test", "carol"]]);
    expect(got(await sync(alice.access_token))).toEqual([]);

    await sendOk(alice.access_token, { [bob.user_id]: { [bobPhone.device_id]: { n: "phone only" } } }, undefined, "m.other");
    const laptop = await sync(bob.access_token);
    expect(got(laptop)).toEqual([[alice.user_id, "m.test", "all of bob"]]);
    expect(got(await sync(bobPhone.access_token))).toEqual([
      [alice.user_id, "m.test", "all of bob"],
      [alice.user_id, "m.other", "phone only"],
    ]);
  });

  it("stays in every sync until the client syncs from the token that carried it, then is gone", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const start = await sync(bob.access_token);
    await sendOk(alice.access_token, { [bob.user_id]: { [bob.device_id]: { n: 1 } } });

    const first = await sync(bob.access_token, start.next_batch);
    expect(got(first)).toEqual([[alice.user_id, "m.test", 1]]);
    // The client lost that response and retries from its old token: the message comes again.
    expect(got(await sync(bob.access_token, start.next_batch))).toEqual([[alice.user_id, "m.test", 1]]);
    // Syncing from the token that carried it acknowledges it.
    const second = await sync(bob.access_token, first.next_batch);
    expect(got(second)).toEqual([]);
    expect(got(await sync(bob.access_token, start.next_batch))).toEqual([]);
    expect(got(await sync(bob.access_token))).toEqual([]);
  });

  it("wakes the recipient's long-poll", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const start = await sync(bob.access_token);
    const started = Date.now();
    const poll = sync(bob.access_token, start.next_batch, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    await sendOk(alice.access_token, { [bob.user_id]: { "*": { n: "ping" } } });
    expect(got(await poll)).toEqual([[alice.user_id, "m.test", "ping"]]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a retried transaction delivers nothing twice; transaction ids are per sending device", async () => {
    const alice = await registerUser();
    const aliceTablet = await loginOk(alice.username);
    const bob = await registerUser();
    const messages = { [bob.user_id]: { "*": { n: "once" } } };
    const start = await sync(bob.access_token);

    await sendOk(alice.access_token, messages, "same");
    await sendOk(alice.access_token, messages, "same");
    const first = await sync(bob.access_token, start.next_batch);
    expect(got(first)).toEqual([[alice.user_id, "m.test", "once"]]);
    // Even once Bob has acknowledged it, a late retry is not delivered again.
    await sync(bob.access_token, first.next_batch);
    await sendOk(alice.access_token, messages, "same");
    expect(got(await sync(bob.access_token, first.next_batch))).toEqual([]);

    // The same transaction id from another of Alice's devices is another message.
    await sendOk(aliceTablet.access_token, { [bob.user_id]: { "*": { n: "tablet" } } }, "same");
    expect(got(await sync(bob.access_token, first.next_batch))).toEqual([[alice.user_id, "m.test", "tablet"]]);
  });

  it("refuses malformed requests and users of other servers, delivering nothing", async () => {
    const alice = await registerUser();
    const bob = await registerUser();

    const missing = await call("PUT", `/_matrix/client/v3/sendToDevice/m.test/${nextTxn()}`, { token: alice.access_token, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.errcode).toBe("M_BAD_JSON");
    const notObject = await send(alice.access_token, { [bob.user_id]: { [bob.device_id]: "text" } });
    expect(notObject.status).toBe(400);
    expect(notObject.body.errcode).toBe("M_BAD_JSON");
    const badUser = await send(alice.access_token, { "not-a-user": { "*": { n: 1 } } });
    expect(badUser.status).toBe(400);
    expect(badUser.body.errcode).toBe("M_INVALID_PARAM");

    // Federation isn't built: a request naming a remote user is refused whole.
    const remote = await send(alice.access_token, { [bob.user_id]: { "*": { n: "local" } }, "@someone:elsewhere.example": { "*": { n: "remote" } } });
    expect(remote.status).toBe(403);
    expect(remote.body.errcode).toBe("M_FORBIDDEN");
    expect(got(await sync(bob.access_token))).toEqual([]);

    const anonymous = await call("PUT", `/_matrix/client/v3/sendToDevice/m.test/${nextTxn()}`, { body: { messages: {} } });
    expect(anonymous.status).toBe(401);
  });

  it("deleting a device drops its queue: the same device id logged in again gets nothing old", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const phone = await loginOk(bob.username, undefined, { device_id: "PHONE" });
    const tablet = await loginOk(bob.username, undefined, { device_id: "TABLET" });
    await sendOk(alice.access_token, { [bob.user_id]: { "*": { n: "queued" } } });

    // Logout of one device, DELETE /devices of another.
    expect((await call("POST", "/_matrix/client/v3/logout", { token: phone.access_token })).status).toBe(200);
    const del = await call("DELETE", "/_matrix/client/v3/devices/TABLET", { token: bob.access_token, body: { auth: passwordAuth(bob.user_id) } });
    expect(del.status).toBe(200);
    void tablet;

    const phoneAgain = await loginOk(bob.username, undefined, { device_id: "PHONE" });
    const tabletAgain = await loginOk(bob.username, undefined, { device_id: "TABLET" });
    expect(got(await sync(phoneAgain.access_token))).toEqual([]);
    expect(got(await sync(tabletAgain.access_token))).toEqual([]);
    // The device that stayed still has its message.
    expect(got(await sync(bob.access_token))).toEqual([[alice.user_id, "m.test", "queued"]]);
  });
});
