/**
 * RoomDurableObject: owns one room's event graph (DESIGN §1). The room engine lands with the
 * rooms issue; until then the object exposes no methods, so nothing can write room data.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";

export class RoomDurableObject extends DurableObject<Env> {}
