/** The room store's `Sql` surface over Node's built-in SQLite, so the room engine runs in plain Node tests. */
import { DatabaseSync } from "node:sqlite";
import type { Sql, SqlValue } from "../../src/objects/sql";

export function nodeSql(): Sql {
  const db = new DatabaseSync(":memory:");
  let depth = 0;
  return {
    all: <T>(query: string, ...bindings: SqlValue[]) => db.prepare(query).all(...bindings) as T[],
    run: (query: string, ...bindings: SqlValue[]) => {
      db.prepare(query).run(...bindings);
    },
    transaction: <T>(fn: () => T): T => {
      const name = `sp${depth++}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const result = fn();
        db.exec(`RELEASE ${name}`);
        return result;
      } catch (err) {
        db.exec(`ROLLBACK TO ${name}`);
        db.exec(`RELEASE ${name}`);
        throw err;
      } finally {
        depth--;
      }
    },
  };
}
