/**
 * Typed configuration, read once per environment object from the Worker's variables.
 * Every value has a safe default: registration is closed unless a deployment opens it.
 */
import type { Env } from "./env";

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
