/**
 * What the directory and space endpoints need from one room's current state: its summary (spec:
 * Client-Server § Spaces, RoomSummary), its space children, who may change its state, and which
 * servers are in it. Read from the room's own state, the authority, not the D1 index.
 */
import { powerLevelOf, requiredPowerForEvent } from "../../matrix/auth";
import type { JsonObject } from "../../matrix/canonical-json";
import { stateKey, type RoomEvent } from "../../matrix/events";
import type { RoomVersion } from "../../matrix/room-versions";
import type { RoomStore } from "./room-store";

/** An m.space.child event as a stripped state event with its timestamp (spec: StrippedChildStateEvent). */
export interface StrippedChildState {
  type: string;
  state_key: string;
  content: JsonObject;
  sender: string;
  origin_server_ts: number;
}

export interface RoomSummaryInfo {
  room_id: string;
  room_version: string;
  name?: string;
  topic?: string;
  avatar_url?: string;
  canonical_alias?: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  room_type?: string;
  encryption?: string;
  allowed_room_ids?: string[];
}

export interface SpaceSummary {
  summary: RoomSummaryInfo;
  /** The viewer's current membership, if any. */
  membership?: string;
  /** Whether the room version has the join rule in `summary.join_rule` (knock needs v7, knock_restricted v10). */
  joinRuleSupported: boolean;
  /** Valid m.space.child events of a space-room, in the spec's order; empty for other rooms. */
  children: StrippedChildState[];
}

const ORDER = /^[\x20-\x7E]{1,50}$/;

/** Spec: § m.space.child — a child without a non-empty `via` list is not part of the space. */
function isValidChild(ev: RoomEvent): boolean {
  const via = ev.content.via;
  return Array.isArray(via) && via.length > 0 && via.every((v) => typeof v === "string") && typeof ev.state_key === "string" && ev.state_key.startsWith("!");
}

function orderOf(ev: StrippedChildState): string | undefined {
  const order = ev.content.order;
  return typeof order === "string" && ORDER.test(order) ? order : undefined;
}

/**
 * Spec: § Ordering of children within a space — valid `order` first, compared by code point;
 * then the child event's `origin_server_ts`; then the room id.
 */
export function compareChildren(a: StrippedChildState, b: StrippedChildState): number {
  const oa = orderOf(a);
  const ob = orderOf(b);
  if (oa !== undefined && ob === undefined) return -1;
  if (oa === undefined && ob !== undefined) return 1;
  if (oa !== undefined && ob !== undefined && oa !== ob) return oa < ob ? -1 : 1;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
  return a.state_key < b.state_key ? -1 : a.state_key > b.state_key ? 1 : 0;
}

function stringField(content: JsonObject | undefined, key: string): string | undefined {
  const v = content?.[key];
  return typeof v === "string" ? v : undefined;
}

export class RoomSummaryReader {
  constructor(
    private readonly store: RoomStore,
    private readonly roomId: string,
    private readonly version: RoomVersion,
  ) {}

  private currentEvent(type: string, key: string): RoomEvent | undefined {
    const id = this.store.currentState().get(stateKey(type, key));
    const stored = id ? this.store.getEvent(id) : undefined;
    return stored && !stored.rejected ? stored.event : undefined;
  }

  private content(type: string, key = ""): JsonObject | undefined {
    return this.currentEvent(type, key)?.content;
  }

  private readonly lookup = (type: string, key: string): RoomEvent | undefined => this.currentEvent(type, key);

  summary(): RoomSummaryInfo {
    const create = this.content("m.room.create");
    // Without a join rules event the authorization rules treat the room as invite-only.
    const joinRule = stringField(this.content("m.room.join_rules"), "join_rule") ?? "invite";
    const out: RoomSummaryInfo = {
      room_id: this.roomId,
      room_version: this.version.id,
      num_joined_members: this.store.countMembers("join"),
      world_readable: stringField(this.content("m.room.history_visibility"), "history_visibility") === "world_readable",
      guest_can_join: stringField(this.content("m.room.guest_access"), "guest_access") === "can_join",
      join_rule: joinRule,
    };
    const name = stringField(this.content("m.room.name"), "name");
    if (name) out.name = name;
    const topic = stringField(this.content("m.room.topic"), "topic");
    if (topic) out.topic = topic;
    const avatar = stringField(this.content("m.room.avatar"), "url");
    if (avatar) out.avatar_url = avatar;
    const alias = stringField(this.content("m.room.canonical_alias"), "alias");
    if (alias) out.canonical_alias = alias;
    const type = stringField(create, "type");
    if (type) out.room_type = type;
    const encryption = stringField(this.content("m.room.encryption"), "algorithm");
    if (encryption) out.encryption = encryption;
    if (joinRule === "restricted" || joinRule === "knock_restricted") {
      const allow = this.content("m.room.join_rules")?.allow;
      out.allowed_room_ids = (Array.isArray(allow) ? allow : []).flatMap((a) =>
        a && typeof a === "object" && !Array.isArray(a) && a.type === "m.room_membership" && typeof a.room_id === "string" ? [a.room_id] : [],
      );
    }
    return out;
  }

  spaceSummary(userId: string): SpaceSummary {
    const summary = this.summary();
    const membership = stringField(this.content("m.room.member", userId), "membership");
    const rule = summary.join_rule;
    const joinRuleSupported =
      rule === "public" || rule === "invite" || (rule === "knock" && this.version.knock) || (rule === "restricted" && this.version.restrictedJoins) || (rule === "knock_restricted" && this.version.knockRestricted);
    const children: StrippedChildState[] = [];
    if (summary.room_type === "m.space") {
      for (const [k, id] of this.store.currentState()) {
        if (!k.startsWith("m.space.child\u0000")) continue;
        const stored = this.store.getEvent(id);
        if (!stored || stored.rejected || !isValidChild(stored.event)) continue;
        const ev = stored.event;
        children.push({ type: ev.type, state_key: ev.state_key!, content: ev.content, sender: ev.sender, origin_server_ts: ev.origin_server_ts });
      }
      children.sort(compareChildren);
    }
    return { summary, membership, joinRuleSupported, children };
  }

  /** Whether the user is joined and has the power to send state of `type` (e.g. m.room.canonical_alias). */
  maySendState(userId: string, type: string): boolean {
    if (stringField(this.content("m.room.member", userId), "membership") !== "join") return false;
    return powerLevelOf(userId, this.lookup, this.version) >= requiredPowerForEvent(type, true, this.lookup, this.version);
  }

  /** The servers of the room's joined members, this server first. */
  joinedServers(localServer: string): string[] {
    const servers = new Set<string>();
    for (const user of this.store.membersWith("join")) {
      const i = user.indexOf(":");
      if (i > 0) servers.add(user.slice(i + 1));
    }
    const rest = [...servers].filter((s) => s !== localServer).sort();
    return servers.has(localServer) ? [localServer, ...rest] : rest;
  }
}
