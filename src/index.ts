/** Worker entry: the HTTP app and the Durable Object classes. */
import { buildApp } from "./app";
import type { Env } from "./env";

export { RoomDurableObject } from "./objects/room/room-object";
export { UserDurableObject } from "./objects/user/user-object";
export { FederationSenderDurableObject } from "./objects/federation-sender/federation-sender-object";
export { RateLimiterDurableObject } from "./objects/rate-limiter/rate-limiter-object";

const app = buildApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
