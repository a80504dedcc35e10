/**
 * UserDurableObject: owns one local user's sync stream (DESIGN §1, docs/design/sync.md). A thin
 * adapter over SyncEngine, which is tested in Node.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../../env";
import { durableObjectSql } from "../sql";
import { migrate } from "./schema";
import type { RoomDelivery, UserChange } from "./stream-types";
import { SyncEngine, type SyncRequest, type UserSyncResult } from "./sync-engine";
import { UserStore } from "./user-store";

export class UserDurableObject extends DurableObject<Env> {
  private readonly store: UserStore;
  private engine: SyncEngine | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = durableObjectSql(ctx.storage);
    migrate(sql);
    this.store = new UserStore(sql);
  }

  /** The object's name is the user id; it is recorded on first use because objects can't read their own name. */
  private engineFor(userId: string): SyncEngine {
    this.engine ??= new SyncEngine(this.store, userId, () => Date.now());
    return this.engine;
  }

  deliver(userId: string, delivery: RoomDelivery): void {
    this.engineFor(userId).deliver(delivery);
  }

  notify(userId: string, change: UserChange): void {
    this.engineFor(userId).notify(change);
  }

  sync(userId: string, req: SyncRequest): Promise<UserSyncResult> {
    return this.engineFor(userId).sync(req);
  }
}
