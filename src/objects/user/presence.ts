/**
 * Presence (spec: Client-Server § Presence) as one user's object keeps it: the user's own state,
 * which this object owns, and the latest state of each user it was told about (those who share
 * a room with this user, pushed by their objects; see src/services/presence.ts).
 *
 * `last_active_ago`, `currently_active` and the idle timeout are computed when presence is read,
 * from the stored last-active time. A user's object pushes their state to others only when it
 * changes (presence or status message) or, while they stay active, once every
 * PRESENCE_REFRESH_MS so the copies others hold never age into "idle": a client syncing every
 * few seconds does not cause a fan-out per sync. A copy's `last_active_ago` can therefore be up
 * to PRESENCE_REFRESH_MS older than the truth; GET /presence reads the owner and is exact.
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { first, type Sql } from "../sql";
import type { UserStore } from "./user-store";

export type PresenceState = "online" | "unavailable" | "offline";

/** An online user not active for this long is shown as unavailable (spec: § Idle timeout). */
export const PRESENCE_IDLE_MS = 5 * 60_000;
/** An online user active this recently is `currently_active`. */
export const PRESENCE_CURRENTLY_ACTIVE_MS = 60_000;
/** While a user stays active, their state is pushed again after this long (less than the idle timeout). */
export const PRESENCE_REFRESH_MS = 2 * 60_000;
/** Presence of at most this many users in an initial sync, the most recently changed first. */
export const PRESENCE_INITIAL_MAX = 200;

/** A user's presence as pushed to others: the stored facts, not the read-time view. */
export interface PresenceUpdate {
  userId: string;
  presence: PresenceState;
  statusMsg: string | null;
  lastActiveTs: number | null;
  /** Grows with each push from the owner, so a late, older push never overwrites a newer one. */
  seq: number;
  /**
   * Only the last-active time moved (the periodic push of an online user). Receivers record it
   * without waking their long-polls: it goes out with their next response, at most one poll
   * timeout later, long before anyone would read the user as idle. Every user sharing a room
   * would otherwise answer a poll at once, each PRESENCE_REFRESH_MS, for nothing they show.
   * Synapse likewise notifies only for changes clients display.
   */
  refresh?: boolean;
}

/** A change to the user's own presence. */
export type PresenceInput =
  /** PUT /presence/{userId}/status: sets both fields and counts as activity. */
  | { kind: "set"; presence: PresenceState; statusMsg: string | null }
  /** GET /sync with `set_presence` (absent means online). */
  | { kind: "sync"; setPresence?: PresenceState };

export interface PresenceEvent {
  sender: string;
  content: JsonObject;
}

interface OwnRow {
  presence: PresenceState;
  status_msg: string | null;
  last_active_ts: number | null;
  pushed_ts: number;
  seq: number;
}

interface PeerRow {
  user_id: string;
  presence: PresenceState;
  status_msg: string | null;
  last_active_ts: number | null;
  pos: number;
}

/** The `m.presence` content as of `now` (spec: m.presence, presence.yaml GET). */
export function presenceContent(p: { presence: PresenceState; statusMsg: string | null; lastActiveTs: number | null }, now: number): JsonObject {
  const ago = p.lastActiveTs === null ? undefined : Math.max(0, now - p.lastActiveTs);
  let presence = p.presence;
  if (presence === "online" && (ago === undefined || ago >= PRESENCE_IDLE_MS)) presence = "unavailable";
  const content: JsonObject = { presence };
  if (ago !== undefined) content.last_active_ago = ago;
  if (p.statusMsg !== null) content.status_msg = p.statusMsg;
  if (presence === "online") content.currently_active = ago !== undefined && ago < PRESENCE_CURRENTLY_ACTIVE_MS;
  return content;
}

/** The smallest move of the user's last-active time that a sync writes. */
export const LAST_ACTIVE_STEP_MS = 1000;

export class PresenceBook {
  constructor(
    private readonly sql: Sql,
    private readonly stream: UserStore,
    private readonly userId: string,
  ) {}

  /** The row as last read or written: `apply` is its only writer, so the copy stays exact. */
  private ownRow: OwnRow | undefined;

  private own(): OwnRow {
    this.ownRow ??= first<OwnRow>(this.sql, "SELECT presence, status_msg, last_active_ts, pushed_ts, seq FROM presence WHERE id = 1") ?? {
      presence: "offline",
      status_msg: null,
      last_active_ts: null,
      pushed_ts: 0,
      seq: 0,
    };
    return this.ownRow;
  }

  /** The user's own presence as of `now`. */
  current(now: number): JsonObject {
    const row = this.own();
    return presenceContent({ presence: row.presence, statusMsg: row.status_msg, lastActiveTs: row.last_active_ts }, now);
  }

  /**
   * Applies a change to the user's own presence. Returns what to push to the users who share a
   * room with them (and to this user's own stream), or undefined when nothing they see changed.
   */
  apply(input: PresenceInput, now: number): PresenceUpdate | undefined {
    const prev = this.own();
    let presence = prev.presence;
    let statusMsg = prev.status_msg;
    let lastActive = prev.last_active_ts;
    if (input.kind === "set") {
      presence = input.presence;
      statusMsg = input.statusMsg;
      lastActive = now;
    } else {
      // "offline": the client is not marked online by this sync; nothing changes.
      if (input.setPresence === "offline") return undefined;
      if (input.setPresence === "unavailable") presence = "unavailable";
      else {
        presence = "online";
        lastActive = now;
      }
    }
    const changed = presence !== prev.presence || statusMsg !== prev.status_msg;
    const refresh = presence === "online" && now - prev.pushed_ts >= PRESENCE_REFRESH_MS;
    const push = changed || refresh;
    const seq = push ? prev.seq + 1 : prev.seq;
    const pushedTs = push ? now : prev.pushed_ts;
    // Each long-poll marks the user active; moving last-active by less than LAST_ACTIVE_STEP_MS
    // is not worth a write (`last_active_ago` is approximate: spec, m.presence).
    if (!push && prev.last_active_ts !== null && lastActive !== null && lastActive - prev.last_active_ts < LAST_ACTIVE_STEP_MS) return undefined;
    this.sql.run(
      `INSERT INTO presence (id, presence, status_msg, last_active_ts, pushed_ts, seq) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET presence = excluded.presence, status_msg = excluded.status_msg,
         last_active_ts = excluded.last_active_ts, pushed_ts = excluded.pushed_ts, seq = excluded.seq`,
      presence,
      statusMsg,
      lastActive,
      pushedTs,
      seq,
    );
    this.ownRow = { presence, status_msg: statusMsg, last_active_ts: lastActive, pushed_ts: pushedTs, seq };
    if (!push) return undefined;
    return { userId: this.userId, presence, statusMsg, lastActiveTs: lastActive, seq, ...(changed ? {} : { refresh: true }) };
  }

  /** Takes another user's (or this user's own) pushed state; false when it is not newer than the copy held. */
  receive(update: PresenceUpdate): boolean {
    return this.sql.transaction(() => {
      const held = first<{ seq: number }>(this.sql, "SELECT seq FROM presence_peers WHERE user_id = ?", update.userId);
      if (held && held.seq >= update.seq) return false;
      const pos = this.stream.appendStream("presence", null, null, null);
      this.sql.run(
        `INSERT INTO presence_peers (user_id, presence, status_msg, last_active_ts, seq, pos) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence, status_msg = excluded.status_msg,
           last_active_ts = excluded.last_active_ts, seq = excluded.seq, pos = excluded.pos`,
        update.userId,
        update.presence,
        update.statusMsg,
        update.lastActiveTs,
        update.seq,
        pos,
      );
      return true;
    });
  }

  /**
   * Presence for a sync: on an initial sync the PRESENCE_INITIAL_MAX most recently changed users,
   * otherwise every user whose state arrived after `since`, up to the sync's `next_batch`.
   * Whether the syncing user may still see each one is decided by the caller (shared rooms).
   */
  eventsFor(since: number | undefined, upTo: number, now: number): PresenceEvent[] {
    const rows =
      since === undefined
        ? this.sql.all<PeerRow>("SELECT * FROM presence_peers WHERE pos <= ? ORDER BY pos DESC LIMIT ?", upTo, PRESENCE_INITIAL_MAX)
        : this.sql.all<PeerRow>("SELECT * FROM presence_peers WHERE pos > ? AND pos <= ? ORDER BY pos", since, upTo);
    return rows.map((r) => ({
      sender: r.user_id,
      content: presenceContent({ presence: r.presence, statusMsg: r.status_msg, lastActiveTs: r.last_active_ts }, now),
    }));
  }
}
