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
  /** Largest media upload in bytes (default 50 MiB). */
  MEDIA_MAX_UPLOAD_BYTES?: string;
  /** `on` serves the deprecated unauthenticated /_matrix/media/v3 downloads; off by default (the spec's freeze). */
  MEDIA_LEGACY_UNAUTHENTICATED?: string;
  /** Pending asynchronous uploads per user (default 5). */
  MEDIA_MAX_PENDING_UPLOADS?: string;
  /** Lifetime of an unused id from POST /_matrix/media/v1/create (default 24 h). */
  MEDIA_UNUSED_EXPIRY_MS?: string;
  /** Thumbnail sizes served, e.g. "32x32 crop, 320x240 scale" (default: the spec's five). */
  THUMBNAIL_SIZES?: string;
  /** `on` generates the exact requested thumbnail size instead of the nearest configured one. */
  THUMBNAIL_DYNAMIC?: string;
  /** Largest image, in pixels, that is decoded for a thumbnail (default 12,000,000). */
  THUMBNAIL_MAX_PIXELS?: string;
  /** Largest original, in bytes, that is read to make a thumbnail (default 20 MiB). */
  THUMBNAIL_MAX_SOURCE_BYTES?: string;
  /** `on` enables GET /preview_url (default off). */
  URL_PREVIEW_ENABLED?: string;
  /** IP ranges and host names previews may reach although they are not public, e.g. "127.0.0.0/8,localhost". */
  URL_PREVIEW_ALLOW?: string;
  /** Push gateways: non-public addresses and names pushers may reach anyway; and ones they never reach. */
  PUSH_GATEWAY_ALLOW?: string;
  PUSH_GATEWAY_DENY?: string;
  /** IP ranges and host names (`*.example.com`) previews never reach, on top of the non-public ones. */
  URL_PREVIEW_DENY?: string;
  /** Most bytes read from a previewed page or image (default 10 MiB). */
  URL_PREVIEW_MAX_BYTES?: string;
  /** Time allowed to fetch a previewed page, redirects included (default 10000 ms). */
  URL_PREVIEW_TIMEOUT_MS?: string;
}
