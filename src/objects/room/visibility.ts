/**
 * History visibility (spec: Client-Server § History visibility): which events a user may see.
 *
 * For each event the setting and the user's membership are taken from the state the event was
 * sent in (its state before; for the user's own membership event, the new membership). Rule 3
 * of the spec ("shared": visible if the user joined at any point after the event) is decided, as
 * Synapse does, by whether the user is joined now: a user who left keeps what they saw while
 * joined, and sees nothing after leaving.
 */
import { stateKey, type RoomEvent, type StateMap } from "../../matrix/events";
import type { RoomStore, StoredEvent } from "./room-store";

export type HistoryVisibility = "world_readable" | "shared" | "invited" | "joined";

export function parseVisibility(content: unknown): HistoryVisibility {
  const v = (content as { history_visibility?: unknown } | undefined)?.history_visibility;
  return v === "world_readable" || v === "invited" || v === "joined" ? v : "shared";
}

/** State before `stored`: its state after, with its own key set back to what it replaced. */
export function stateBeforeEvent(store: RoomStore, stored: StoredEvent): StateMap | undefined {
  if (stored.stateGroup === null) return undefined;
  const after = store.loadStateGroup(stored.stateGroup);
  const ev = stored.event;
  if (typeof ev.state_key !== "string") return after;
  const before = new Map(after);
  const replaced = (ev.unsigned as { replaces_state?: unknown } | undefined)?.replaces_state;
  const k = stateKey(ev.type, ev.state_key);
  if (typeof replaced === "string") before.set(k, replaced);
  else before.delete(k);
  return before;
}

export class VisibilityChecker {
  private readonly currentMembership: string | undefined;

  constructor(
    private readonly store: RoomStore,
    private readonly userId: string,
  ) {
    const id = store.currentState().get(stateKey("m.room.member", userId));
    const m = id ? store.getEvent(id)?.event.content.membership : undefined;
    this.currentMembership = typeof m === "string" ? m : undefined;
  }

  private contentOf(state: StateMap, type: string, key: string): Record<string, unknown> | undefined {
    const id = state.get(stateKey(type, key));
    return id ? (this.store.getEvent(id)?.event.content as Record<string, unknown> | undefined) : undefined;
  }

  canSee(stored: StoredEvent): boolean {
    const before = stateBeforeEvent(this.store, stored);
    if (!before) return false;
    const visibility = parseVisibility(this.contentOf(before, "m.room.history_visibility", ""));
    if (visibility === "world_readable") return true;
    const ev: RoomEvent = stored.event;
    let membership = this.contentOf(before, "m.room.member", this.userId)?.membership;
    if (ev.type === "m.room.member" && ev.state_key === this.userId) membership = ev.content.membership;
    if (membership === "join") return true;
    if (visibility === "shared" && this.currentMembership === "join") return true;
    if (visibility === "invited" && membership === "invite") return true;
    return false;
  }

  /** Whether the user may read the room at all: joined now, formerly joined, or the room is world-readable. */
  mayReadRoom(): boolean {
    if (this.currentMembership === "join" || this.currentMembership === "leave" || this.currentMembership === "ban") return true;
    const current = this.store.currentState();
    return parseVisibility(this.contentOf(current, "m.room.history_visibility", "")) === "world_readable";
  }

  get membership(): string | undefined {
    return this.currentMembership;
  }
}
