/**
 * RoomDurableObject: owns one room's event graph (DESIGN §1). A thin adapter: it wires the
 * engine to this object's SQLite storage and the server's signing key, and tells D1 what
 * changed. The logic lives in RoomEngine and RoomReader, which are tested without workerd.
 */
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../../config";
import type { Env } from "../../env";
import type { ClientEvent } from "../../matrix/client-event";
import { signEvent } from "../../matrix/event-signing";
import type { RoomEvent } from "../../matrix/events";
import { getRoomVersion } from "../../matrix/room-versions";
import { canUserDo } from "../../matrix/auth";
import type { JsonObject } from "../../matrix/canonical-json";
import { makeDeps } from "../../services/deps";
import { randomToken } from "../../services/random";
import { getSigningKey } from "../../services/server-keys";
import { fanoutStatements } from "./fanout";
import { DeliveryPlanner } from "./delivery";
import type { UserDurableObject } from "../user/user-object";
import { typedStub } from "../rpc";
import { RoomEngine, type AppendResult, type LocalEventInput } from "./room-engine";
import { MemberReader, RoomReader, type MembersQuery, type ReadResult } from "./room-reader";
import { RelationsReader, type RelationsPage, type RelationsQuery, type ThreadsPage, type ThreadsQuery } from "./relations";
import { RoomStore } from "./room-store";
import { RoomSummaryReader, type SpaceSummary } from "./room-summary";
import { migrate } from "./schema";
import { durableObjectSql } from "../sql";
import { TimelineReader, type ContextQuery, type Direction, type EventContext, type MessagesPage, type MessagesQuery, type TimestampMatch, type Viewer } from "./timeline-reader";

export class RoomDurableObject extends DurableObject<Env> {
  private readonly store: RoomStore;
  private readonly engine: RoomEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = durableObjectSql(ctx.storage);
    migrate(sql);
    this.store = new RoomStore(sql);
    const deps = makeDeps(env, getConfig(env));
    this.engine = new RoomEngine(this.store, {
      serverName: deps.config.serverName,
      sign: async (pdu, version) => signEvent(pdu, await getSigningKey(deps), version),
      now: () => Date.now(),
      randomId: () => randomToken(12),
    });
  }

  private reader(): RoomReader {
    return new RoomReader(this.store, this.engine.version, () => Date.now());
  }

  private async fanout(events: RoomEvent[]): Promise<void> {
    const roomId = this.engine.roomId;
    if (!roomId || events.length === 0) return;
    const statements = fanoutStatements(this.env.DB, roomId, events, this.store.countMembers("join"), Date.now());
    if (statements.length) await this.env.DB.batch(statements);
    this.ctx.waitUntil(this.pump());
  }

  private pumping = false;
  private pumpAgain = false;

  /**
   * Delivers accepted events to local members' user objects, in order, at least once
   * (docs/design/sync.md). One pump runs at a time; a failure retries from the cursor on an alarm.
   */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    const roomId = this.engine.roomId;
    if (!roomId) return;
    this.pumping = true;
    try {
      const planner = new DeliveryPlanner(this.store, this.reader(), roomId, getConfig(this.env).serverName);
      for (;;) {
        this.pumpAgain = false;
        const plan = planner.plan();
        if (!plan) {
          if (!this.pumpAgain) break;
          continue;
        }
        await Promise.all(
          [...plan.deliveries].map(([userId, delivery]) =>
            typedStub<UserDurableObject, "deliver">(this.env.USERS.getByName(userId)).deliver(userId, delivery),
          ),
        );
        planner.advance(plan.upTo);
      }
    } catch (err) {
      console.error(JSON.stringify({ room_id: roomId, error: `delivery failed, retrying: ${String(err)}` }));
      await this.ctx.storage.setAlarm(Date.now() + 1000);
    } finally {
      this.pumping = false;
    }
  }

  override async alarm(): Promise<void> {
    await this.pump();
  }

  /** Creates the room from its create event and the initial events, stopping at the first refusal. */
  async create(createEvent: RoomEvent, roomId: string, versionId: string, initial: LocalEventInput[]): Promise<AppendResult[]> {
    const version = getRoomVersion(versionId);
    if (!version) return [{ ok: false, errcode: "M_BAD_JSON", error: "Unknown room version" }];
    const results: AppendResult[] = [await this.engine.initialise(createEvent, roomId, version)];
    for (const input of initial) {
      if (!results[results.length - 1]!.ok) break;
      results.push(await this.engine.append(input));
    }
    await this.fanout(results.flatMap((r) => (r.ok ? [r.event] : [])));
    return results;
  }

  async send(input: LocalEventInput): Promise<AppendResult> {
    const result = await this.engine.append(input);
    if (result.ok && !result.duplicate) await this.fanout([result.event]);
    return result;
  }

  exists(): boolean {
    return this.engine.isInitialised();
  }

  roomVersion(): string | undefined {
    return this.engine.isInitialised() ? this.engine.version.id : undefined;
  }

  /** The user's current membership, from the room's own state (the authority, not the D1 index). */
  membership(userId: string): string | undefined {
    if (!this.engine.isInitialised()) return undefined;
    return this.reader().visibility(userId).membership;
  }

  getEvent(userId: string, eventId: string, deviceId?: string): ReadResult<ClientEvent> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_NOT_FOUND", error: "Unknown room" };
    return this.reader().event(userId, eventId, deviceId);
  }

  getState(userId: string): ReadResult<ClientEvent[]> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return this.reader().stateEvents(userId);
  }

  getStateEvent(userId: string, type: string, stateKey: string): ReadResult<RoomEvent | undefined> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return this.reader().stateEvent(userId, type, stateKey);
  }

  members(userId: string, query: MembersQuery): ReadResult<ClientEvent[]> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new MemberReader(this.store, this.reader()).members(userId, query);
  }

  joinedMembers(userId: string): ReadResult<Record<string, { display_name?: string; avatar_url?: string }>> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new MemberReader(this.store, this.reader()).joinedMembers(userId);
  }

  /**
   * A local joined member with enough power to invite, to vouch for a restricted join
   * (spec: rooms/v8 § join_authorised_via_users_server).
   */
  joinAuthoriser(serverName: string): string | undefined {
    if (!this.engine.isInitialised()) return undefined;
    const lookup = this.engine.currentStateLookup();
    return this.store
      .membersWith("join")
      .find((u) => u.endsWith(`:${serverName}`) && canUserDo(u, "invite", lookup, this.engine.version));
  }

  /** Current state content, regardless of the caller's membership: for server-side decisions only. */
  stateContent(type: string, stateKey: string): JsonObject | undefined {
    if (!this.engine.isInitialised()) return undefined;
    return this.engine.currentStateLookup()(type, stateKey)?.content;
  }

  /** The room as a space-hierarchy entry, with the viewer's membership (spec: § Spaces). */
  spaceSummary(userId: string): SpaceSummary | undefined {
    if (!this.engine.isInitialised()) return undefined;
    return new RoomSummaryReader(this.store, this.engine.roomId!, this.engine.version).spaceSummary(userId);
  }

  /** Whether the user is joined with the power to send state of `type`: for alias and directory decisions. */
  maySendState(userId: string, type: string): boolean {
    if (!this.engine.isInitialised()) return false;
    return new RoomSummaryReader(this.store, this.engine.roomId!, this.engine.version).maySendState(userId, type);
  }

  /** Servers with joined members, this server first (spec: GET /directory/room `servers`). */
  joinedServers(): string[] {
    if (!this.engine.isInitialised()) return [];
    return new RoomSummaryReader(this.store, this.engine.roomId!, this.engine.version).joinedServers(getConfig(this.env).serverName);
  }

  /** The newest accepted event, for `predecessor.event_id` when the room is upgraded (spec: § Room upgrades). */
  latestEventId(): string | undefined {
    if (!this.engine.isInitialised()) return undefined;
    let latest: { id: string; stream: number } | undefined;
    for (const id of this.store.forwardExtremities()) {
      const stream = this.store.getEvent(id)?.stream ?? -1;
      if (!latest || stream > latest.stream) latest = { id, stream };
    }
    return latest?.id;
  }

  /** GET /rooms/{roomId}/messages through the viewer's history visibility (spec: § Getting events for a room). */
  messages(viewer: Viewer, query: MessagesQuery): ReadResult<MessagesPage> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new TimelineReader(this.store, this.reader(), this.engine.roomId!).messages(viewer, query);
  }

  /** GET /rooms/{roomId}/context/{eventId} (spec: § Retrieving events around a given event). */
  eventContext(viewer: Viewer, eventId: string, query: ContextQuery): ReadResult<EventContext> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new TimelineReader(this.store, this.reader(), this.engine.roomId!).context(viewer, eventId, query);
  }

  /** GET /rooms/{roomId}/timestamp_to_event: the closest event the user may see. */
  eventAtTimestamp(userId: string, ts: number, dir: Direction): ReadResult<TimestampMatch> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new TimelineReader(this.store, this.reader(), this.engine.roomId!).eventAtTimestamp(userId, ts, dir);
  }

  /** GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] (spec: § Relationships API). */
  relations(userId: string, eventId: string, query: RelationsQuery): ReadResult<RelationsPage> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new RelationsReader(this.store, this.reader(), this.engine.version).relationsOf(userId, eventId, query);
  }

  /** GET /rooms/{roomId}/threads (spec: § Querying threads in a room). */
  threads(userId: string, query: ThreadsQuery): ReadResult<ThreadsPage> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new RelationsReader(this.store, this.reader(), this.engine.version).threads(userId, query);
  }
}
