/** Room helpers for integration tests: thin wrappers over the client API that fail loudly on surprises. */
import { call, registerUser, type JsonResponse } from "./helpers";

export type TestUser = Awaited<ReturnType<typeof registerUser>>;

export const enc = encodeURIComponent;
export const roomPath = (roomId: string, rest = "") => `/_matrix/client/v3/rooms/${enc(roomId)}${rest}`;

function ok<T>(res: JsonResponse<T>, what: string): T {
  if (res.status !== 200) throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createRoom(user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  return ok(await call("POST", "/_matrix/client/v3/createRoom", { token: user.access_token, body }), "createRoom").room_id as string;
}

export function join(user: TestUser, roomIdOrAlias: string) {
  return call("POST", `/_matrix/client/v3/join/${enc(roomIdOrAlias)}`, { token: user.access_token, body: {} });
}

export async function joinOk(user: TestUser, roomIdOrAlias: string): Promise<string> {
  return ok(await join(user, roomIdOrAlias), "join").room_id as string;
}

/** POST /rooms/{roomId}/{invite|kick|ban|unban} */
export function targetAction(user: TestUser, roomId: string, action: "invite" | "kick" | "ban" | "unban", target: string, reason?: string) {
  return call("POST", roomPath(roomId, `/${action}`), { token: user.access_token, body: { user_id: target, ...(reason ? { reason } : {}) } });
}

export function getState(user: TestUser, roomId: string, type: string, stateKey = "") {
  return call("GET", roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}`), { token: user.access_token });
}

export async function stateContent(user: TestUser, roomId: string, type: string, stateKey = ""): Promise<any> {
  return ok(await getState(user, roomId, type, stateKey), `GET state ${type}`);
}

/** The full state event, as `?format=event` returns it. */
export async function stateEvent(user: TestUser, roomId: string, type: string, stateKey = ""): Promise<any> {
  return ok(await call("GET", roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}?format=event`), { token: user.access_token }), `GET state event ${type}`);
}

export function putState(user: TestUser, roomId: string, type: string, content: unknown, stateKey = "") {
  return call("PUT", roomPath(roomId, `/state/${enc(type)}/${enc(stateKey)}`), { token: user.access_token, body: content });
}

let txn = 0;
export function send(user: TestUser, roomId: string, content: unknown, type = "m.room.message", txnId = `t${Date.now()}-${++txn}`) {
  return call("PUT", roomPath(roomId, `/send/${enc(type)}/${enc(txnId)}`), { token: user.access_token, body: content });
}

export async function sendOk(user: TestUser, roomId: string, body = "hello"): Promise<string> {
  return ok(await send(user, roomId, { msgtype: "m.text", body }), "send").event_id as string;
}

export function getEvent(user: TestUser, roomId: string, eventId: string) {
  return call("GET", roomPath(roomId, `/event/${enc(eventId)}`), { token: user.access_token });
}

export function membershipOf(user: TestUser, roomId: string, target: string): Promise<string | undefined> {
  return getState(user, roomId, "m.room.member", target).then((r) => (r.status === 200 ? (r.body.membership as string) : undefined));
}

/** Sets one user's power level, keeping the rest of the room's power levels. */
export async function setPowerLevel(admin: TestUser, roomId: string, userId: string, level: number): Promise<void> {
  const pl = await stateContent(admin, roomId, "m.room.power_levels");
  ok(await putState(admin, roomId, "m.room.power_levels", { ...pl, users: { ...pl.users, [userId]: level } }), "set power level");
}

export { call, registerUser };
