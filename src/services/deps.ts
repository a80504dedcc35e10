/** What every service function receives: the bindings, the parsed configuration and injected clock/randomness. */
import type { Config } from "../config";
import type { Env } from "../env";

export interface Deps {
  env: Env;
  config: Config;
  now: () => number;
}

export function makeDeps(env: Env, config: Config): Deps {
  return { env, config, now: () => Date.now() };
}
