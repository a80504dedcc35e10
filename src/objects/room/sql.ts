/**
 * The small synchronous SQL surface the room store needs. In workerd it wraps the Durable
 * Object's `ctx.storage.sql`; in Node tests it wraps `node:sqlite`, so the same store and engine
 * run in both without workerd.
 */
export type SqlValue = string | number | null;

export interface Sql {
  all<T>(query: string, ...bindings: SqlValue[]): T[];
  run(query: string, ...bindings: SqlValue[]): void;
  /** Runs `fn` atomically: everything it writes lands, or nothing does. */
  transaction<T>(fn: () => T): T;
}

export function first<T>(sql: Sql, query: string, ...bindings: SqlValue[]): T | undefined {
  return sql.all<T>(query, ...bindings)[0];
}

/** Adapter over a Durable Object's SQLite storage. */
export function durableObjectSql(storage: DurableObjectStorage): Sql {
  return {
    all: <T>(query: string, ...bindings: SqlValue[]) => storage.sql.exec(query, ...bindings).toArray() as T[],
    run: (query: string, ...bindings: SqlValue[]) => {
      storage.sql.exec(query, ...bindings);
    },
    transaction: <T>(fn: () => T) => storage.transactionSync(fn),
  };
}
