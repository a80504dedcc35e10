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

/**
 * Applies numbered schema steps once each. Steps are append-only: never edit one that has landed.
 * Comments are dropped before splitting, so a ';' inside one can't cut a statement.
 */
export function runMigrations(sql: Sql, steps: readonly string[]): void {
  sql.run("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = sql.all<{ version: number }>("SELECT version FROM _schema")[0];
  let version = row?.version ?? 0;
  if (!row) sql.run("INSERT INTO _schema (version) VALUES (0)");
  while (version < steps.length) {
    const body = steps[version]!.replace(/--[^\n]*/g, "");
    sql.transaction(() => {
      for (const statement of body.split(";").map((s) => s.trim()).filter(Boolean)) sql.run(statement);
      sql.run("UPDATE _schema SET version = ?", version + 1);
    });
    version += 1;
  }
}
