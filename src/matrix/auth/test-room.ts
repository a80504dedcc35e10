/**
 * Test support for the authorization rules: a room whose state is a plain map, and events built
 * with just the fields a test cares about. Not used by production code.
 */
import type { JsonObject } from "../canonical-json";
import type { RoomEvent } from "../events";
import { getRoomVersion, type RoomVersion } from "../room-versions";
import { checkEventAuth } from "./event-auth";
import type { AuthResult, AuthStateLookup, CheckEventAuthOptions } from "./types";

export const ALICE = "@alice:a.test";
export const BOB = "@bob:b.test";
export const CAROL = "@carol:a.test";
export const DAVE = "@dave:c.test";
export const EVE = "@eve:e.test";

export interface EventSpec {
  type: string;
  sender: string;
  state_key?: string;
  content?: JsonObject;
  prev_events?: string[];
  redacts?: string;
  event_id?: string;
  room_id?: string;
}

function domain(id: string): string {
  return id.slice(id.indexOf(":") + 1);
}

export class TestRoom {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly create: RoomEvent;
  readonly state = new Map<string, RoomEvent>();
  private counter = 0;
  private last: string;

  constructor(versionId: string, opts: { creator?: string; createContent?: JsonObject } = {}) {
    const version = getRoomVersion(versionId);
    if (!version) throw new Error(`unknown room version ${versionId}`);
    this.version = version;
    const creator = opts.creator ?? ALICE;
    const content: JsonObject = { room_version: versionId, ...(opts.createContent ?? {}) };
    if (!version.implicitRoomCreator && !("creator" in content)) content.creator = creator;
    const createId = this.nextId(creator, "create");
    this.roomId = version.roomIdFromCreateEvent ? `!${createId.slice(1)}` : `!room:${domain(creator)}`;
    this.create = this.build({ type: "m.room.create", sender: creator, state_key: "", content, prev_events: [], event_id: createId });
    this.apply(this.create);
    this.last = this.create.event_id;
  }

  private nextId(sender: string, tag = "e"): string {
    this.counter += 1;
    // v1–2 event ids carry the origin's domain, which the v1 redaction rule compares.
    return this.version.eventIdFormat === "v1" ? `$${tag}${this.counter}:${domain(sender)}` : `$${tag}${this.counter}`;
  }

  /** Build an event in this room without checking or applying it. */
  build(spec: EventSpec): RoomEvent {
    const ev: RoomEvent = {
      event_id: spec.event_id ?? this.nextId(spec.sender),
      room_id: spec.room_id ?? this.roomId,
      sender: spec.sender,
      type: spec.type,
      content: spec.content ?? {},
      prev_events: spec.prev_events ?? (this.last ? [this.last] : []),
      auth_events: [],
      depth: this.counter,
      origin_server_ts: 1_700_000_000_000 + this.counter,
    };
    if (spec.state_key !== undefined) ev.state_key = spec.state_key;
    if (spec.redacts !== undefined) ev.redacts = spec.redacts;
    return ev;
  }

  lookup(): AuthStateLookup {
    return (type, stateKey) => this.state.get(`${type}\u0000${stateKey}`);
  }

  check(spec: EventSpec | RoomEvent, options?: CheckEventAuthOptions): AuthResult {
    const ev = "event_id" in spec && "depth" in spec ? (spec as RoomEvent) : this.build(spec);
    return checkEventAuth(ev, this.lookup(), this.version, options);
  }

  apply(ev: RoomEvent): RoomEvent {
    if (typeof ev.state_key === "string") this.state.set(`${ev.type}\u0000${ev.state_key}`, ev);
    this.last = ev.event_id;
    return ev;
  }

  /** Build, authorize (throwing if refused) and apply an event. */
  send(spec: EventSpec, options?: CheckEventAuthOptions): RoomEvent {
    const ev = this.build(spec);
    const result = checkEventAuth(ev, this.lookup(), this.version, options);
    if (!result.ok) throw new Error(`setup event ${spec.type}/${spec.state_key ?? ""} refused: ${result.reason}`);
    return this.apply(ev);
  }

  /** Put a state event in place without authorizing it, to set up unusual states. */
  force(spec: EventSpec): RoomEvent {
    return this.apply(this.build(spec));
  }

  member(userId: string, membership: string, extra: JsonObject = {}): EventSpec {
    return { type: "m.room.member", sender: userId, state_key: userId, content: { membership, ...extra } };
  }

  setMembership(userId: string, membership: string): RoomEvent {
    return this.force(this.member(userId, membership));
  }

  join(userId: string): RoomEvent {
    return this.send(this.member(userId, "join"));
  }

  powerLevels(sender: string, content: JsonObject): EventSpec {
    return { type: "m.room.power_levels", sender, state_key: "", content };
  }

  joinRules(sender: string, joinRule: string, extra: JsonObject = {}): EventSpec {
    return { type: "m.room.join_rules", sender, state_key: "", content: { join_rule: joinRule, ...extra } };
  }
}

/**
 * A room as clients usually create one: the creator (Alice) joined, power levels giving her 100
 * (in v12 she is a creator, so she is not listed), and the given join rule.
 */
export function standardRoom(versionId: string, joinRule = "public", opts: { createContent?: JsonObject; users?: JsonObject; pl?: JsonObject } = {}): TestRoom {
  const room = new TestRoom(versionId, opts.createContent ? { createContent: opts.createContent } : {});
  room.join(ALICE);
  const users: JsonObject = room.version.privilegedCreators ? { ...(opts.users ?? {}) } : { [ALICE]: 100, ...(opts.users ?? {}) };
  room.send(room.powerLevels(ALICE, { users, ...(opts.pl ?? {}) }));
  room.send(room.joinRules(ALICE, joinRule));
  return room;
}

export const ALL_VERSIONS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"] as const;
