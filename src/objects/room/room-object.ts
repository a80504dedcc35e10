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
import { updateMemberEventStatement } from "../../storage/d1/rooms";
import { DeliveryPlanner } from "./delivery";
import type { UserDurableObject } from "../user/user-object";
import type { EphemeralDelivery } from "../user/stream-types";
import { RoomReceipts, type ReceiptResult, type ReceiptType } from "./receipts";
import { TypingSet, typingTimeout, type TypingUpdate } from "./typing";
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
  /** Typing lives in memory only (DESIGN §1; typing.ts). */
  private readonly typing = new TypingSet(() => Date.now());
  /** An upgrade under way (beginUpgrade). */
  private upgrading: { token: string; until: number } | undefined;

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
    // Whoever stops being joined stops typing.
    for (const ev of events) {
      if (ev.type === "m.room.member" && typeof ev.state_key === "string" && ev.content.membership !== "join") {
        const update = this.typing.remove(ev.state_key);
        if (update) this.announceTyping(update);
      }
    }
    const reader = this.reader();
    // Member events go to D1 as /members shows them, without `age` (added when read).
    const memberJson = (eventId: string): string | null => {
      const stored = this.store.getEvent(eventId);
      if (!stored) return null;
      const ev = reader.format(stored);
      if (ev.unsigned) delete ev.unsigned.age;
      return JSON.stringify(ev);
    };
    const statements = fanoutStatements(this.env.DB, roomId, events, this.store.countMembers("join"), Date.now(), (ev) => memberJson(ev.event_id));
    // A redacted member event changes in place: its D1 copy follows (the statement only touches a
    // row whose current event it is).
    for (const ev of events) {
      if (ev.type !== "m.room.redaction") continue;
      const target = typeof ev.content.redacts === "string" ? ev.content.redacts : ev.redacts;
      const stored = target === undefined ? undefined : this.store.getEvent(target);
      if (stored?.event.type !== "m.room.member") continue;
      const json = memberJson(target!);
      if (json) statements.push(updateMemberEventStatement(this.env.DB, roomId, target!, json));
    }
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
      const receipts = this.receipts();
      for (;;) {
        this.pumpAgain = false;
        const plan = planner.plan();
        if (plan) {
          await Promise.all(
            [...plan.deliveries].map(async ([userId, delivery]) => {
              await this.userStub(userId).deliver(userId, delivery);
              // A user who has just joined gets the room's current receipts with it (receipts.ts).
              if (delivery.snapshot) {
                const current = receipts.forNewMember(userId);
                if (current.length) await this.userStub(userId).deliverEphemeral(userId, { kind: "receipts", roomId, receipts: current });
              }
            }),
          );
          planner.advance(plan.upTo);
          continue;
        }
        // Receipts after events, with their own cursor: the same at-least-once path.
        const receiptPlan = receipts.plan();
        if (receiptPlan) {
          await Promise.all(
            [...receiptPlan.deliveries].map(([userId, list]) => this.userStub(userId).deliverEphemeral(userId, { kind: "receipts", roomId, receipts: list })),
          );
          receipts.advance(receiptPlan.upTo);
          continue;
        }
        if (!this.pumpAgain) break;
      }
    } catch (err) {
      console.error(JSON.stringify({ room_id: roomId, error: `delivery failed, retrying: ${String(err)}` }));
      await this.wakeAt(Date.now() + 1000);
    } finally {
      this.pumping = false;
    }
  }

  override async alarm(): Promise<void> {
    this.expireTyping();
    await this.pump();
    await this.scheduleTypingExpiry();
  }

  private userStub(userId: string) {
    return typedStub<UserDurableObject, "deliver" | "deliverEphemeral">(this.env.USERS.getByName(userId));
  }

  private receipts(): RoomReceipts {
    return new RoomReceipts(this.store, this.reader(), getConfig(this.env).serverName);
  }

  /** The one alarm serves delivery retries and typing expiry: it is moved earlier, never later. */
  private async wakeAt(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  private async scheduleTypingExpiry(): Promise<void> {
    const next = this.typing.nextExpiry();
    if (next !== undefined) await this.wakeAt(next);
  }

  /**
   * Tells the joined local members who is typing now. Best-effort (a lost update is corrected by
   * the next one, and user objects drop typing past its expiry); `meta.typing_shown` remembers
   * that members were last told of a non-empty set, so an object that lost its memory before the
   * expiry still tells them it is over when its alarm fires.
   */
  private announceTyping(update: TypingUpdate): void {
    const roomId = this.engine.roomId;
    if (!roomId) return;
    const shown = update.userIds.length > 0 ? "1" : "0";
    if ((this.store.getMeta("typing_shown") ?? "0") !== shown) this.store.setMeta("typing_shown", shown);
    const serverName = getConfig(this.env).serverName;
    const delivery: EphemeralDelivery = { kind: "typing", roomId, ...update };
    const recipients = this.store.membersWith("join").filter((u) => u.endsWith(`:${serverName}`));
    this.ctx.waitUntil(
      Promise.allSettled(recipients.map((userId) => this.userStub(userId).deliverEphemeral(userId, delivery))).then((results) => {
        const failed = results.filter((r) => r.status === "rejected").length;
        if (failed) console.error(JSON.stringify({ room_id: roomId, error: `typing not delivered to ${failed} member(s)` }));
      }),
    );
  }

  private expireTyping(): void {
    if (!this.engine.isInitialised()) return;
    const lostMemory = this.typing.isEmpty() && this.store.getMeta("typing_shown") === "1";
    const update = this.typing.expire() ?? (lostMemory ? this.typing.update() : undefined);
    if (update) this.announceTyping(update);
  }

  /**
   * PUT /rooms/{roomId}/typing/{userId} (spec: § Typing notifications): joined members only. The
   * timeout is clamped here (typing.ts); members hear only when the set of typing users changes.
   */
  setTyping(userId: string, typing: boolean, timeoutMs?: number): { ok: true } | { ok: false; errcode: "M_FORBIDDEN"; error: string } {
    if (!this.engine.isInitialised() || this.reader().visibility(userId).membership !== "join") {
      return { ok: false, errcode: "M_FORBIDDEN", error: "You are not joined to this room" };
    }
    const update = this.typing.set(userId, typing, typingTimeout(timeoutMs));
    if (update) this.announceTyping(update);
    this.ctx.waitUntil(this.scheduleTypingExpiry());
    return { ok: true };
  }

  /** POST /rooms/{roomId}/receipt (spec: § Receipts): stored here, delivered by the pump. */
  postReceipt(userId: string, receiptType: ReceiptType, eventId: string, threadId?: string): ReceiptResult {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    const result = this.receipts().post(userId, receiptType, eventId, threadId, Date.now());
    if (result.ok && result.changed) this.ctx.waitUntil(this.pump());
    return result;
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

  /**
   * Claims the room for an upgrade (POST /rooms/{roomId}/upgrade): false while another upgrade of
   * it is under way, so two concurrent requests don't make two replacement rooms (Synapse refuses
   * the second too). In memory, with an expiry, so a Worker that died mid-upgrade can't block
   * upgrades for longer than `ttlMs`.
   */
  beginUpgrade(token: string, ttlMs: number): boolean {
    const now = Date.now();
    if (this.upgrading && this.upgrading.until > now) return false;
    this.upgrading = { token, until: now + ttlMs };
    return true;
  }

  endUpgrade(token: string): void {
    if (this.upgrading?.token === token) this.upgrading = undefined;
  }

  /** GET /rooms/{roomId}/threads (spec: § Querying threads in a room). */
  threads(userId: string, query: ThreadsQuery): ReadResult<ThreadsPage> {
    if (!this.engine.isInitialised()) return { ok: false, errcode: "M_FORBIDDEN", error: "Unknown room" };
    return new RelationsReader(this.store, this.reader(), this.engine.version).threads(userId, query);
  }
}
