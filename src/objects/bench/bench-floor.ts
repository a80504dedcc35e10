/**
 * The benchmark floor (bench/, BENCHMARKS.md): the least work a "store one signed thing in a
 * Durable Object" request can do — one ed25519 signature and one SQLite insert — so the send path
 * can be compared with it. Reachable only through the BENCH_ROUTES=on route (src/api/bench-floor.ts).
 */
import type { JsonObject } from "../../matrix/canonical-json";
import { signJson } from "../../matrix/signing";
import { getConfig } from "../../config";
import type { Env } from "../../env";
import { makeDeps } from "../../services/deps";
import { getSigningKey } from "../../services/server-keys";

export interface BenchFloorInput {
  txnId: string;
  content: JsonObject;
  /** Skip the signature (to time it by difference). */
  sign: boolean;
  /** Skip the insert (to time it by difference). */
  insert: boolean;
}

const ready = new WeakSet<DurableObjectStorage>();

export async function benchFloor(storage: DurableObjectStorage, env: Env, input: BenchFloorInput): Promise<{ id: number; signed: boolean }> {
  let json = JSON.stringify(input.content);
  if (input.sign) {
    const signed = await signJson({ txn_id: input.txnId, content: input.content }, await getSigningKey(makeDeps(env, getConfig(env))));
    json = JSON.stringify(signed);
  }
  if (!input.insert) return { id: 0, signed: input.sign };
  if (!ready.has(storage)) {
    storage.sql.exec("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY AUTOINCREMENT, txn_id TEXT NOT NULL, json TEXT NOT NULL)");
    ready.add(storage);
  }
  const row = storage.sql.exec<{ id: number }>("INSERT INTO bench_floor (txn_id, json) VALUES (?, ?) RETURNING id", input.txnId, json).one();
  return { id: row.id, signed: input.sign };
}
