/**
 * Typed configuration, read once per environment object from the Worker's variables.
 * Every value has a safe default: registration is closed unless a deployment opens it.
 */
import type { Env } from "./env";
import { parseThumbnailSizes, SPEC_THUMBNAIL_SIZES, type ThumbnailSize } from "./matrix/media/thumbnail-size";
import { parsePolicyList, type UrlPolicy } from "./matrix/media/url-policy";

export type RegistrationMode = "open" | "token" | "closed";
export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

const LOG_LEVELS: LogLevel[] = ["debug", "info", "warn", "error", "off"];

/** Whether a message at `level` is written under the configured level. */
export function logs(config: Config, level: Exclude<LogLevel, "off">): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(config.logLevel);
}

function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? "info").trim() || "info";
  if ((LOG_LEVELS as string[]).includes(v)) return v as LogLevel;
  throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
}

export interface RateLimit {
  /** How many requests a bucket holds. */
  burst: number;
  /** Seconds for the bucket to refill completely. */
  periodSeconds: number;
}

export interface Config {
  serverName: string;
  publicBaseUrl: string;
  registrationMode: RegistrationMode;
  registrationToken: string | undefined;
  registrationSharedSecret: string | undefined;
  signingKeySeed: string | undefined;
  maxRequestBytes: number;
  /** Lifetime of access tokens issued with a refresh token (spec: Client-Server § Refreshing access tokens). */
  accessTokenLifetimeMs: number;
  rateLimits: {
    enabled: boolean;
    loginPerIp: RateLimit;
    loginPerAccount: RateLimit;
    registerPerIp: RateLimit;
  };
  /** debug | info | warn | error | off. Request lines are `info`; internal errors `error`. */
  logLevel: LogLevel;
  /** Version of new rooms when the client names none (see docs/design/default-room-version.md). */
  defaultRoomVersion: string;
  /** User ids reserved for application services (M_EXCLUSIVE on registration). */
  exclusiveUserNamespaces: RegExp[];
  /** BENCH_ROUTES=on enables the benchmark floor route (bench/, BENCHMARKS.md); off by default. */
  benchRoutes: boolean;
  /** The content repository (docs/design/media.md). */
  media: MediaConfig;
  /** Thumbnail generation (docs/design/media.md § Thumbnails and previews). */
  thumbnails: ThumbnailConfig;
  /** GET /preview_url (docs/design/media.md § Thumbnails and previews). */
  urlPreview: UrlPreviewConfig;
  /**
   * Which push gateways pushers may name: the public internet only unless allowed, as Synapse's
   * `ip_range_blacklist` does for push (a pusher would otherwise make the server POST into its
   * own network).
   */
  pushGatewayPolicy: UrlPolicy;
}

export interface ThumbnailConfig {
  /** The sizes served; a request gets the smallest that covers it (spec: § Thumbnails). */
  sizes: ThumbnailSize[];
  /** Generate the exact requested size (at most the largest configured one) instead of choosing. */
  dynamic: boolean;
  /** Images with more pixels are not decoded (413 M_TOO_LARGE): decoding costs 4 bytes a pixel. */
  maxPixels: number;
  /** Originals larger than this are not read into memory to be thumbnailed (413 M_TOO_LARGE). */
  maxSourceBytes: number;
}

export interface UrlPreviewConfig {
  enabled: boolean;
  /** Which addresses and names may be fetched (src/matrix/media/url-policy.ts). */
  policy: UrlPolicy;
  /** Most bytes read from a page or an image. */
  maxBytes: number;
  /** Time allowed for fetching a page, all redirects included. */
  timeoutMs: number;
}

export interface MediaConfig {
  /** Largest upload accepted (413 M_TOO_LARGE above), reported as m.upload.size by /media/config. */
  maxUploadBytes: number;
  /** Whether the deprecated unauthenticated /_matrix/media/v3 download and thumbnail paths serve media. */
  legacyUnauthenticated: boolean;
  /** How many reserved, not yet uploaded ids (POST /v1/create) a user may hold at once. */
  maxPendingUploads: number;
  /** How long a reserved id waits for its upload (spec: 24 hours recommended). */
  unusedExpiryMs: number;
}

export class ConfigError extends Error {}

/** "burst/seconds", e.g. "10/60": ten requests, refilled over a minute. */
function parseRateLimit(value: string | undefined, fallback: RateLimit, name: string): RateLimit {
  if (!value) return fallback;
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new ConfigError(`${name} must look like "10/60" (requests/seconds)`);
  return { burst: Number(m[1]), periodSeconds: Number(m[2]) };
}

function parsePositiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive integer`);
  return n;
}

function parseOnOff(value: string | undefined, fallback: boolean, name: string): boolean {
  const v = value?.trim() || (fallback ? "on" : "off");
  if (v === "on") return true;
  if (v === "off") return false;
  throw new ConfigError(`${name} must be on or off`);
}

function parseThumbnailConfig(env: Env): ThumbnailConfig {
  const sizes = env.THUMBNAIL_SIZES?.trim() ? parseThumbnailSizes(env.THUMBNAIL_SIZES) : [...SPEC_THUMBNAIL_SIZES];
  if (!sizes) throw new ConfigError('THUMBNAIL_SIZES must look like "32x32 crop, 320x240 scale"');
  return {
    sizes,
    // On: a client gets the size it asked for (a 64x64 avatar is 64x64), bounded by the largest
    // configured size; off serves the nearest of the fixed set (Synapse's default).
    dynamic: parseOnOff(env.THUMBNAIL_DYNAMIC, true, "THUMBNAIL_DYNAMIC"),
    // 12 megapixels (4000x3000) decode to 48 MB, within a Worker's 128 MB with room for the rest.
    maxPixels: parsePositiveInt(env.THUMBNAIL_MAX_PIXELS, 12_000_000, "THUMBNAIL_MAX_PIXELS"),
    maxSourceBytes: parsePositiveInt(env.THUMBNAIL_MAX_SOURCE_BYTES, 20 * 1024 * 1024, "THUMBNAIL_MAX_SOURCE_BYTES"),
  };
}

/** An address policy from a pair of ALLOW/DENY variables (src/matrix/media/url-policy.ts). */
function parseAddressPolicy(allowValue: string | undefined, denyValue: string | undefined, prefix: string): UrlPolicy {
  const allow = parsePolicyList(allowValue);
  if ("invalid" in allow) throw new ConfigError(`${prefix}_ALLOW has an entry that is neither an IP range nor a host name: ${allow.invalid}`);
  const deny = parsePolicyList(denyValue);
  if ("invalid" in deny) throw new ConfigError(`${prefix}_DENY has an entry that is neither an IP range nor a host name: ${deny.invalid}`);
  return { allowRanges: allow.ranges, allowHosts: allow.hosts, denyRanges: deny.ranges, denyHosts: deny.hosts };
}

function parseUrlPreviewConfig(env: Env): UrlPreviewConfig {
  return {
    // Off like Synapse: previews make the server fetch what users paste (docs/design/media.md).
    enabled: parseOnOff(env.URL_PREVIEW_ENABLED, false, "URL_PREVIEW_ENABLED"),
    policy: parseAddressPolicy(env.URL_PREVIEW_ALLOW, env.URL_PREVIEW_DENY, "URL_PREVIEW"),
    // Synapse's max_spider_size.
    maxBytes: parsePositiveInt(env.URL_PREVIEW_MAX_BYTES, 10 * 1024 * 1024, "URL_PREVIEW_MAX_BYTES"),
    timeoutMs: parsePositiveInt(env.URL_PREVIEW_TIMEOUT_MS, 10_000, "URL_PREVIEW_TIMEOUT_MS"),
  };
}

function parseRegistrationMode(value: string | undefined): RegistrationMode {
  const mode = (value ?? "closed").trim() || "closed";
  if (mode === "open" || mode === "token" || mode === "closed") return mode;
  throw new ConfigError(`REGISTRATION_MODE must be open, token or closed, not "${mode}"`);
}

function parseRegexList(value: string | undefined): RegExp[] {
  if (!value?.trim()) return [];
  return value.split(",").map((part) => {
    try {
      return new RegExp(`^(?:${part.trim()})$`);
    } catch {
      throw new ConfigError(`EXCLUSIVE_USER_NAMESPACES has an invalid pattern: ${part}`);
    }
  });
}

function parseDefaultRoomVersion(value: string | undefined): string {
  const v = value?.trim() || "11";
  if (v !== "10" && v !== "11" && v !== "12") throw new ConfigError("DEFAULT_ROOM_VERSION must be 10, 11 or 12");
  return v;
}

const SERVER_NAME = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+)(:\d{1,5})?$/;

export function readConfig(env: Env): Config {
  const serverName = (env.SERVER_NAME ?? "").trim();
  // Spec: Appendices § Server name.
  if (!SERVER_NAME.test(serverName) || serverName.length > 255) throw new ConfigError("SERVER_NAME must be a valid Matrix server name");
  const publicBaseUrl = (env.PUBLIC_BASE_URL?.trim() || `https://${serverName}`).replace(/\/+$/, "");
  return {
    serverName,
    publicBaseUrl,
    registrationMode: parseRegistrationMode(env.REGISTRATION_MODE),
    registrationToken: env.REGISTRATION_TOKEN || undefined,
    registrationSharedSecret: env.REGISTRATION_SHARED_SECRET || undefined,
    signingKeySeed: env.SIGNING_KEY || undefined,
    maxRequestBytes: parsePositiveInt(env.MAX_REQUEST_BYTES, 1024 * 1024, "MAX_REQUEST_BYTES"),
    accessTokenLifetimeMs: parsePositiveInt(env.ACCESS_TOKEN_LIFETIME_MS, 60 * 60 * 1000, "ACCESS_TOKEN_LIFETIME_MS"),
    rateLimits: {
      enabled: (env.RATE_LIMITS ?? "on") !== "off",
      loginPerIp: parseRateLimit(env.RATE_LIMIT_LOGIN_IP, { burst: 10, periodSeconds: 60 }, "RATE_LIMIT_LOGIN_IP"),
      loginPerAccount: parseRateLimit(env.RATE_LIMIT_LOGIN_ACCOUNT, { burst: 5, periodSeconds: 60 }, "RATE_LIMIT_LOGIN_ACCOUNT"),
      registerPerIp: parseRateLimit(env.RATE_LIMIT_REGISTER_IP, { burst: 10, periodSeconds: 60 }, "RATE_LIMIT_REGISTER_IP"),
    },
    logLevel: parseLogLevel(env.LOG_LEVEL),
    exclusiveUserNamespaces: parseRegexList(env.EXCLUSIVE_USER_NAMESPACES),
    defaultRoomVersion: parseDefaultRoomVersion(env.DEFAULT_ROOM_VERSION),
    benchRoutes: (env.BENCH_ROUTES ?? "off").trim() === "on",
    media: {
      // 50 MiB, Synapse's default max_upload_size.
      maxUploadBytes: parsePositiveInt(env.MEDIA_MAX_UPLOAD_BYTES, 50 * 1024 * 1024, "MEDIA_MAX_UPLOAD_BYTES"),
      // Off: every item of a new server is "new media" under the spec's freeze (v1.11 § Content repository).
      legacyUnauthenticated: parseOnOff(env.MEDIA_LEGACY_UNAUTHENTICATED, false, "MEDIA_LEGACY_UNAUTHENTICATED"),
      maxPendingUploads: parsePositiveInt(env.MEDIA_MAX_PENDING_UPLOADS, 5, "MEDIA_MAX_PENDING_UPLOADS"),
      unusedExpiryMs: parsePositiveInt(env.MEDIA_UNUSED_EXPIRY_MS, 24 * 60 * 60 * 1000, "MEDIA_UNUSED_EXPIRY_MS"),
    },
    thumbnails: parseThumbnailConfig(env),
    urlPreview: parseUrlPreviewConfig(env),
    pushGatewayPolicy: parseAddressPolicy(env.PUSH_GATEWAY_ALLOW, env.PUSH_GATEWAY_DENY, "PUSH_GATEWAY"),
  };
}

const cache = new WeakMap<Env, Config>();

/** The configuration for this environment, parsed on first use and kept. */
export function getConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = readConfig(env);
    cache.set(env, config);
  }
  return config;
}
