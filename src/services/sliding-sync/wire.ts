/** A sliding-sync room in the wire format (MSC4186 § Room response; field names as ruma and Synapse use them). */
import type { JsonObject } from "../../matrix/canonical-json";
import type { SlidingRoom } from "../../objects/user/sliding-sync-types";
import { roomToken } from "../pagination-tokens";

export function roomWire(room: SlidingRoom): JsonObject {
  const out: JsonObject = {};
  if (room.name !== undefined) out.name = room.name;
  if (room.avatar !== undefined) out.avatar = room.avatar;
  if (room.heroes) {
    out.heroes = room.heroes.map((h) => {
      const hero: JsonObject = { user_id: h.userId };
      if (h.displayname !== undefined) hero.displayname = h.displayname;
      if (h.avatarUrl !== undefined) hero.avatar_url = h.avatarUrl;
      return hero;
    });
  }
  // `initial` is only ever sent as true (Synapse omits it otherwise).
  if (room.initial) out.initial = true;
  if (room.inviteState) out.invite_state = room.inviteState;
  else if (room.knockState) out.knock_state = room.knockState;
  else out.required_state = room.requiredState as unknown as JsonObject[];
  if (room.timeline) {
    out.timeline = room.timeline as unknown as JsonObject[];
    out.limited = room.limited ?? false;
    if (room.prevBatch !== undefined) out.prev_batch = roomToken(room.prevBatch);
    if (room.numLive !== undefined) out.num_live = room.numLive;
  }
  if (room.expandedTimeline) out.unstable_expanded_timeline = true;
  if (room.joinedCount !== undefined) out.joined_count = room.joinedCount;
  if (room.invitedCount !== undefined) out.invited_count = room.invitedCount;
  out.notification_count = room.notificationCount;
  out.highlight_count = room.highlightCount;
  out.is_dm = room.isDm;
  out.bump_stamp = room.bumpStamp;
  return out;
}
