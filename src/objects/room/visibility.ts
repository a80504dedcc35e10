/**
 * History visibility (spec: Client-Server § History visibility): which events a user may see.
 *
 * The setting and the user's membership are read from the state before the event: for a message
 * its state group, for a state event the state it replaced. The spec's five rules apply, with
 * its two relaxations: an `m.room.history_visibility` event is visible if the setting before
 * *or* after it allows, and the user's own `m.room.member` event if their membership before *or*
 * after it allows (so a user sees their own join and their own leave).
 *
 * Rule 3 ("shared", and the user joined at any point after the event) is decided from the user's
 * membership history: joined now, or their latest join came after the event. A user who left
 * keeps what they saw while joined (and shared history from before), and sees nothing sent after
 * they left unless it was world-readable.
 */
import { stateKey, type StateMap } from "../../matrix/events";
import type { RoomStore, StoredEvent } from "./room-store";

export type HistoryVisibility = "world_readable" | "shared" | "invited" | "joined";

/** How far back through a user's own membership events rule 3 looks for their latest join. */
const MEMBERSHIP_WALK_LIMIT = 1000;

export function parseVisibility(content: unknown): HistoryVisibility {
  const v = (content as { history_visibility?: unknown } | undefined)?.history_visibility;
  return v === "world_readable" || v === "invited" || v === "joined" ? v : "shared";
}

/** The id of the event `stored` replaced in its own state slot (kept in unsigned by the engine). */
function replacedBy(stored: StoredEvent): string | undefined {
  const replaced = (stored.event.unsigned as { replaces_state?: unknown } | undefined)?.replaces_state;
  return typeof replaced === "string" ? replaced : undefined;
}

/** State before `stored`: its state after, with its own key set back to what it replaced. */
export function stateBeforeEvent(store: RoomStore, stored: StoredEvent): StateMap | undefined {
  if (stored.stateGroup === null) return undefined;
  const after = store.loadStateGroup(stored.stateGroup);
  const ev = stored.event;
  if (typeof ev.state_key !== "string") return after;
  const before = new Map(after);
  const replaced = replacedBy(stored);
  const k = stateKey(ev.type, ev.state_key);
  if (replaced !== undefined) before.set(k, replaced);
  else before.delete(k);
  return before;
}

export class VisibilityChecker {
  private readonly currentMembership: string | undefined;
  private readonly currentMemberEventId: string | undefined;
  private latestJoin: number | null | undefined;
  private worldReadableNow: boolean | undefined;
  private readonly contentCache = new Map<string, Record<string, unknown> | undefined>();

  constructor(
    private readonly store: RoomStore,
    private readonly userId: string,
  ) {
    this.currentMemberEventId = store.currentState().get(stateKey("m.room.member", userId));
    const m = this.currentMemberEventId ? store.getEvent(this.currentMemberEventId)?.event.content.membership : undefined;
    this.currentMembership = typeof m === "string" ? m : undefined;
  }

  private contentOfId(id: string | undefined): Record<string, unknown> | undefined {
    return id ? (this.store.getEvent(id)?.event.content as Record<string, unknown> | undefined) : undefined;
  }

  /** Content of the state event at (type, key) in the state before `stored`. */
  private contentBefore(stored: StoredEvent, type: string, key: string): Record<string, unknown> | undefined {
    const ev = stored.event;
    if (ev.type === type && ev.state_key === key) return this.contentOfId(replacedBy(stored));
    // A non-state event and a state event of another slot leave (type, key) as it was before them.
    const cacheKey = `${stored.stateGroup}\u0000${type}\u0000${key}`;
    if (this.contentCache.has(cacheKey)) return this.contentCache.get(cacheKey);
    const content = this.contentOfId(this.store.stateEventIdAt(stored.stateGroup!, type, key));
    this.contentCache.set(cacheKey, content);
    return content;
  }

  /** The stream position of the user's latest join, walking back through their own member events. */
  private latestJoinStream(): number | null {
    if (this.latestJoin !== undefined) return this.latestJoin;
    let id = this.currentMemberEventId;
    this.latestJoin = null;
    for (let i = 0; id !== undefined && i < MEMBERSHIP_WALK_LIMIT; i++) {
      const stored = this.store.getEvent(id);
      if (!stored) break;
      if (stored.event.content.membership === "join") {
        this.latestJoin = stored.stream;
        break;
      }
      id = replacedBy(stored);
    }
    return this.latestJoin;
  }

  private allows(visibility: HistoryVisibility, membership: unknown, stored: StoredEvent): boolean {
    if (visibility === "world_readable") return true;
    if (membership === "join") return true;
    if (visibility === "shared") {
      if (this.currentMembership === "join") return true;
      const joined = this.latestJoinStream();
      if (joined !== null && joined > stored.stream) return true;
    }
    return visibility === "invited" && membership === "invite";
  }

  canSee(stored: StoredEvent): boolean {
    if (stored.stateGroup === null || stored.rejected || stored.outlier) return false;
    const ev = stored.event;
    const visibility = parseVisibility(this.contentBefore(stored, "m.room.history_visibility", ""));
    const membership = this.contentBefore(stored, "m.room.member", this.userId)?.membership;
    if (this.allows(visibility, membership, stored)) return true;
    if (ev.type === "m.room.history_visibility" && ev.state_key === "") {
      return this.allows(parseVisibility(ev.content), membership, stored);
    }
    if (ev.type === "m.room.member" && ev.state_key === this.userId) {
      return this.allows(visibility, ev.content.membership, stored);
    }
    return false;
  }

  /** Whether the room's current history visibility is world_readable. */
  roomIsWorldReadable(): boolean {
    this.worldReadableNow ??=
      parseVisibility(this.contentOfId(this.store.currentState().get(stateKey("m.room.history_visibility", "")))) === "world_readable";
    return this.worldReadableNow;
  }

  /** Whether the user may read the room at all: joined now, formerly joined, or the room is world-readable. */
  mayReadRoom(): boolean {
    if (this.currentMembership === "join" || this.currentMembership === "leave" || this.currentMembership === "ban") return true;
    return this.roomIsWorldReadable();
  }

  get membership(): string | undefined {
    return this.currentMembership;
  }

  /** The stream position of the user's current membership event, if they have one. */
  get membershipStream(): number | undefined {
    return this.currentMemberEventId ? this.store.getEvent(this.currentMemberEventId)?.stream : undefined;
  }
}
