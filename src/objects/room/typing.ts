/**
 * Who is typing in a room (spec: Client-Server § Typing notifications). Kept in the room object's
 * memory only (DESIGN §1): losing it loses nothing that matters, since every entry expires within
 * two minutes anyway. The room object tells its joined local members about every change.
 */

/** Used when a client says it is typing without saying for how long (as Synapse does). */
export const TYPING_DEFAULT_TIMEOUT_MS = 30_000;
/** The longest a single request may keep a user marked as typing. */
export const TYPING_MAX_TIMEOUT_MS = 120_000;

export interface TypingUpdate {
  /**
   * Grows with every change, also across restarts of the object (it is at least the clock), so a
   * user object that receives two updates out of order keeps the newer one.
   */
  serial: number;
  userIds: string[];
  /** When the last of these users stops typing unless told again; 0 when nobody is typing. */
  expiresAt: number;
}

/** Clamps a client's timeout to what we keep: the default when absent, at most the maximum. */
export function typingTimeout(requested: number | undefined): number {
  if (requested === undefined || !Number.isFinite(requested)) return TYPING_DEFAULT_TIMEOUT_MS;
  return Math.min(Math.max(0, Math.floor(requested)), TYPING_MAX_TIMEOUT_MS);
}

export class TypingSet {
  /** user id → when their typing expires */
  private readonly until = new Map<string, number>();
  private serial = 0;

  constructor(private readonly now: () => number) {}

  /** Drops expired entries; true when any was dropped. */
  private prune(): boolean {
    const now = this.now();
    let changed = false;
    for (const [userId, at] of this.until) {
      if (at <= now) {
        this.until.delete(userId);
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Starts (for `timeoutMs`, already clamped) or stops a user's typing. Returns the new set when
   * the set of typing users changed — a user who keeps typing only has their expiry moved, which
   * nobody else needs to hear about.
   */
  set(userId: string, typing: boolean, timeoutMs: number): TypingUpdate | undefined {
    let changed = this.prune();
    if (typing && timeoutMs > 0) {
      if (!this.until.has(userId)) changed = true;
      this.until.set(userId, this.now() + timeoutMs);
    } else if (this.until.delete(userId)) {
      changed = true;
    }
    return changed ? this.update() : undefined;
  }

  /** Removes a user (they left the room); the new set if they were typing. */
  remove(userId: string): TypingUpdate | undefined {
    const changed = this.prune();
    return this.until.delete(userId) || changed ? this.update() : undefined;
  }

  /** Expires entries whose time has come; the new set if anything changed. */
  expire(): TypingUpdate | undefined {
    return this.prune() ? this.update() : undefined;
  }

  /** The current set, as a fresh update (for re-announcing it). */
  update(): TypingUpdate {
    this.serial = Math.max(this.serial + 1, this.now());
    const userIds = [...this.until.keys()].sort();
    return { serial: this.serial, userIds, expiresAt: userIds.length ? Math.max(...this.until.values()) : 0 };
  }

  /** When the next entry expires, if anyone is typing. */
  nextExpiry(): number | undefined {
    return this.until.size ? Math.min(...this.until.values()) : undefined;
  }

  isEmpty(): boolean {
    return this.until.size === 0;
  }
}
