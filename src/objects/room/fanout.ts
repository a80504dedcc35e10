/**
 * What a room tells the rest of the server after it accepts an event (DESIGN §1): the D1
 * membership index and the room's directory summary. Runs after the event is stored; the index
 * is rebuilt from the room's current state, so a lost update is repaired by the next one.
 */
import type { RoomEvent } from "../../matrix/events";
import { updateRoomSummaryStatement, upsertMembershipStatement, type RoomSummaryUpdate } from "../../storage/d1/rooms";

/** State types whose content the directory summary copies. */
const SUMMARY_FIELDS: Record<string, (content: Record<string, unknown>) => RoomSummaryUpdate> = {
  "m.room.name": (c) => ({ name: typeof c.name === "string" ? c.name : null }),
  "m.room.topic": (c) => ({ topic: typeof c.topic === "string" ? c.topic : null }),
  "m.room.avatar": (c) => ({ avatar_url: typeof c.url === "string" ? c.url : null }),
  "m.room.canonical_alias": (c) => ({ canonical_alias: typeof c.alias === "string" ? c.alias : null }),
  "m.room.join_rules": (c) => ({ join_rule: typeof c.join_rule === "string" ? c.join_rule : null }),
  "m.room.history_visibility": (c) => ({ history_visibility: typeof c.history_visibility === "string" ? c.history_visibility : null }),
  "m.room.guest_access": (c) => ({ guest_access: typeof c.guest_access === "string" ? c.guest_access : null }),
  "m.room.encryption": (c) => ({ encryption: typeof c.algorithm === "string" ? c.algorithm : null }),
  "m.room.create": (c) => ({ room_type: typeof c.type === "string" ? c.type : null }),
};

/**
 * `memberJson`: a member event as `/members` shows it, stored with its index row so that initial
 * syncs can read member lists from D1 (migration 0012).
 */
export function fanoutStatements(
  db: D1Database,
  roomId: string,
  events: RoomEvent[],
  joinedMembers: number,
  now: number,
  memberJson: (ev: RoomEvent) => string | null,
): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = [];
  const summary: RoomSummaryUpdate = {};
  for (const ev of events) {
    if (typeof ev.state_key !== "string") continue;
    if (ev.type === "m.room.member" && typeof ev.content.membership === "string") {
      statements.push(
        upsertMembershipStatement(db, { roomId, userId: ev.state_key, membership: ev.content.membership, eventId: ev.event_id, sender: ev.sender, now, event: memberJson(ev) }),
      );
    }
    const field = SUMMARY_FIELDS[ev.type];
    if (field && ev.state_key === "") Object.assign(summary, field(ev.content as Record<string, unknown>));
  }
  if (events.some((e) => e.type === "m.room.member")) summary.joined_members = joinedMembers;
  const update = updateRoomSummaryStatement(db, roomId, summary);
  if (update) statements.push(update);
  return statements;
}
