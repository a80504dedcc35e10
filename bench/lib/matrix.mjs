/** The few Matrix client calls the benchmark needs to set up users and rooms. */
import { Client, enc } from "./http.mjs";

export const PASSWORD = "bench-password-not-secret";

function expectOk(res, what) {
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** POST /register with the dummy stage (answering the UIA challenge when the server sends one). */
export async function register(client, username) {
  const body = { username, password: PASSWORD, auth: { type: "m.login.dummy" }, initial_device_display_name: "bench" };
  let res = await client.request("POST", "/_matrix/client/v3/register", body, null);
  if (res.status === 401 && res.body?.session) {
    res = await client.request("POST", "/_matrix/client/v3/register", { ...body, auth: { type: "m.login.dummy", session: res.body.session } }, null);
  }
  return res;
}

export function login(client, username) {
  return client.request(
    "POST",
    "/_matrix/client/v3/login",
    { type: "m.login.password", identifier: { type: "m.id.user", user: username }, password: PASSWORD, initial_device_display_name: "bench" },
    null,
  );
}

/** A registered user with a Client holding its access token. */
export async function newUser(baseUrl, username) {
  const c = new Client(baseUrl);
  const r = expectOk(await register(c, username), `register ${username}`);
  c.token = r.access_token;
  c.userId = r.user_id;
  c.username = username;
  return c;
}

export async function createRoom(client, name) {
  return expectOk(await client.request("POST", "/_matrix/client/v3/createRoom", { preset: "public_chat", name }), "createRoom").room_id;
}

export async function join(client, roomId) {
  expectOk(await client.request("POST", `/_matrix/client/v3/join/${enc(roomId)}`, {}), `join ${roomId}`);
}
