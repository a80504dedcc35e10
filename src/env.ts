/** The bindings and variables the Worker receives (wrangler.jsonc, `.dev.vars`, Workers secrets). */
import type { FederationSenderDurableObject } from "./objects/federation-sender/federation-sender-object";
import type { RateLimiterDurableObject } from "./objects/rate-limiter/rate-limiter-object";
import type { RoomDurableObject } from "./objects/room/room-object";
import type { UserDurableObject } from "./objects/user/user-object";

export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  MEDIA: R2Bucket;
  ROOMS: DurableObjectNamespace<RoomDurableObject>;
  USERS: DurableObjectNamespace<UserDurableObject>;
  FEDERATION_SENDERS: DurableObjectNamespace<FederationSenderDurableObject>;
  RATE_LIMITERS: DurableObjectNamespace<RateLimiterDurableObject>;

  SERVER_NAME?: string;
  PUBLIC_BASE_URL?: string;
  REGISTRATION_MODE?: string;
  /** Secret: a registration token accepted in `token` mode, besides tokens stored in D1. */
  REGISTRATION_TOKEN?: string;
  /** Secret: enables Synapse-style shared-secret registration when set. */
  REGISTRATION_SHARED_SECRET?: string;
  /** Secret: unpadded base64 ed25519 seed; when unset a key is generated on first start and kept in D1. */
  SIGNING_KEY?: string;
  MAX_REQUEST_BYTES?: string;
  RATE_LIMITS?: string;
  RATE_LIMIT_LOGIN_IP?: string;
  RATE_LIMIT_LOGIN_ACCOUNT?: string;
  RATE_LIMIT_REGISTER_IP?: string;
  ACCESS_TOKEN_LIFETIME_MS?: string;
  /** debug | info (default: one line per request) | warn | error | off. */
  LOG_LEVEL?: string;
  /** 10, 11 or 12; see docs/design/default-room-version.md. */
  DEFAULT_ROOM_VERSION?: string;
  /** Comma-separated regexes of user ids reserved for application services. */
  EXCLUSIVE_USER_NAMESPACES?: string;
  /** `on` enables the benchmark floor route (BENCHMARKS.md); off unless set. Never set in production. */
  BENCH_ROUTES?: string;
}
