import type { Env } from "../env";
import type { Deps } from "../services/deps";

/** Hono's typing for this app: the Worker bindings plus per-request variables. */
export interface AppEnv {
  Bindings: Env;
  Variables: { deps: Deps; requestId: string };
}
