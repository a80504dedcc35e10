/**
 * Many users and rooms, set up quickly: registration is ~85 ms of PBKDF2 each and a createRoom is
 * about seven events, so both run a few at a time (the server has two cores; more in flight only
 * queues). The population of a server is shared by the scenarios that need it.
 */
import { createRoom, join, newUser } from "./matrix.mjs";

/** Runs `fn` over `items` with at most `width` in flight (`worker` is 0…width-1); results in item order. */
export async function pool(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async (_, worker) => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i, worker);
      }
    }),
  );
  return out;
}

const populations = new WeakMap();

/** `n` registered users of this server (the first ones are reused by every caller). */
export async function users(ctx, n) {
  let list = populations.get(ctx.server);
  if (!list) populations.set(ctx.server, (list = []));
  const missing = Array.from({ length: Math.max(0, n - list.length) }, (_, i) => list.length + i);
  const made = await pool(missing, 4, (i) => newUser(ctx.server.baseUrl, `pop-${ctx.runId}-${i}`));
  list.push(...made);
  return list.slice(0, n);
}

/**
 * `count` rooms created by `owner`, `width` at a time over as many connections of the owner. Each
 * room's name carries `label` so a run's rooms are easy to tell apart.
 */
export async function createRooms(owner, count, label, width = 6) {
  const conns = Array.from({ length: width }, () => owner.clone());
  const ids = await pool(
    Array.from({ length: count }, (_, i) => i),
    width,
    (i, _, worker) => createRoom(conns[worker], `${label} ${i}`),
  );
  for (const c of conns) c.close();
  return ids;
}

/** Every (user, room) pair joined, `width` at a time. */
export async function joinAll(pairs, width = 6) {
  await pool(pairs, width, ([user, roomId]) => join(user, roomId));
}
