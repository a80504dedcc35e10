/** Helpers for the account data, tag and read marker tests. */
import { getConfig } from "../../src/config";
import { makeDeps, type Deps } from "../../src/services/deps";
import { typedStub } from "../../src/objects/rpc";
import type { UserDurableObject } from "../../src/objects/user/user-object";
import { testEnv } from "./helpers";

const enc = encodeURIComponent;

export const globalDataPath = (userId: string, type: string, prefix = "v3") => `/_matrix/client/${prefix}/user/${enc(userId)}/account_data/${enc(type)}`;
export const roomDataPath = (userId: string, roomId: string, type: string, prefix = "v3") =>
  `/_matrix/client/${prefix}/user/${enc(userId)}/rooms/${enc(roomId)}/account_data/${enc(type)}`;
export const tagsPath = (userId: string, roomId: string, tag?: string, prefix = "v3") =>
  `/_matrix/client/${prefix}/user/${enc(userId)}/rooms/${enc(roomId)}/tags${tag === undefined ? "" : `/${enc(tag)}`}`;

const userObject = (userId: string) => typedStub<UserDurableObject, "sync">(testEnv.USERS.getByName(userId));

export function testDeps(): Deps {
  return makeDeps(testEnv, getConfig(testEnv));
}

/** A room id nobody has created: room account data and tags don't need the room to exist. */
export function unknownRoomId(): string {
  return `!nowhere${Math.random().toString(36).slice(2)}:test.local`;
}

/** The user's current sync stream position, as an initial sync starts from. */
export async function streamPosition(userId: string, deviceId: string): Promise<number> {
  return (await syncAs(userId, deviceId, {})).nextPos;
}

/** The account data types the user's sync stream recorded after `since`. */
export async function accountDataChangesSince(userId: string, deviceId: string, since: number) {
  const result = await syncAs(userId, deviceId, { since, timeoutMs: 0 });
  return result.accountData;
}

/** The user object's sync for a device (D1 already vouched for it, as after a token lookup). */
async function syncAs(userId: string, deviceId: string, req: { since?: number; timeoutMs?: number }) {
  const answer = await userObject(userId).sync(userId, { deviceId }, req);
  if (answer.refused) throw new Error("the user object refused a verified device");
  return answer.value;
}
