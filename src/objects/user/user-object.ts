/**
 * UserDurableObject: owns one local user's sync stream (DESIGN §1). The stream lands with the
 * sync issue; until then the object exposes no methods.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";

export class UserDurableObject extends DurableObject<Env> {}
