/**
 * The rooms the user's `m.direct` account data names (spec: § Direct Messaging), which sliding
 * sync's `is_dm` filter and field need on every request. The account data lives in D1; the user
 * object keeps the last read here and drops it when told `m.direct` changed (account data writes
 * notify the object after the write is durable), so a request costs no D1 read in between.
 */
export class DirectRoomsCache {
  private cached: Promise<string[]> | undefined;

  constructor(private readonly load: () => Promise<string[]>) {}

  get(): Promise<string[]> {
    if (!this.cached) {
      const loading = this.load();
      this.cached = loading;
      // A failed read is not kept: the next request tries again.
      loading.catch(() => {
        if (this.cached === loading) this.cached = undefined;
      });
    }
    return this.cached;
  }

  /** `m.direct` changed: a read started before is not kept either, since `cached` no longer holds it. */
  changed(): void {
    this.cached = undefined;
  }
}

/** The room ids of an `m.direct` content: `{ user id: [room id, …] }`, anything else ignored. */
export function directRoomIds(content: unknown): string[] {
  if (typeof content !== "object" || content === null || Array.isArray(content)) return [];
  const out: string[] = [];
  for (const rooms of Object.values(content)) if (Array.isArray(rooms)) for (const r of rooms) if (typeof r === "string") out.push(r);
  return out;
}
