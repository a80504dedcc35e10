/**
 * A list derived from one type of the user's account data (`m.direct`, `m.ignored_user_list`),
 * which sync needs on every request. The account data lives in D1; the user object keeps the last
 * read here and drops it when told the type changed (account data writes notify the object after
 * the write is durable), so a request costs no D1 read in between.
 */
export class AccountDataCache {
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

  /** The type changed: a read started before is not kept either, since `cached` no longer holds it. */
  changed(): void {
    this.cached = undefined;
  }
}
