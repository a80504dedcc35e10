/**
 * FederationSenderDurableObject: the outbound queue for one destination server (DESIGN §1).
 * Federation is not built yet; the object exposes no methods, so nothing is ever sent.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";

export class FederationSenderDurableObject extends DurableObject<Env> {}
