/**
 * Values the user object reads from D1 and serves from memory until the service that changes them
 * says so (push rules, pushers, sessions, key counts). D1 stays the only store; these copies live
 * only as long as the object stays in memory.
 *
 * The generation makes a change announced while a read is in flight win: that read's result is
 * returned to its caller (it was true when read) but not kept, so the next request reads again.
 */

/** One value. */
export class Cached<T> {
  private value: T | undefined;
  private generation = 0;

  constructor(private readonly load: () => Promise<T>) {}

  async get(): Promise<T> {
    if (this.value !== undefined) return this.value;
    const generation = this.generation;
    const value = await this.load();
    if (generation === this.generation) this.value = value;
    return value;
  }

  invalidate(): void {
    this.value = undefined;
    this.generation += 1;
  }
}

/**
 * One value per key, all dropped together. A load that finds nothing (`undefined`) is not kept, and
 * an entry older than `maxAgeMs` is read again: a backstop should a change notice ever be lost.
 */
export class CachedMap<K, V> {
  private readonly values = new Map<K, { value: V; readAt: number }>();
  private generation = 0;

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 1000,
  ) {}

  async get(key: K, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.values.get(key);
    if (hit && this.now() - hit.readAt < this.maxAgeMs) return hit.value;
    const generation = this.generation;
    const readAt = this.now();
    const value = await load();
    if (value !== undefined && generation === this.generation) {
      if (!this.values.has(key) && this.values.size >= this.maxEntries) this.values.clear();
      this.values.set(key, { value, readAt });
    }
    return value;
  }

  invalidate(): void {
    this.values.clear();
    this.generation += 1;
  }
}
