/**
 * Typed Durable Object stubs. Workers' generated RPC types for deeply nested JSON results are
 * too deep for the compiler, so callers use this plain promise-returning view of an object's
 * public methods instead; the values crossing RPC are structured clones of exactly these types.
 */
export type RpcApi<T, K extends keyof T> = {
  [P in K]: T[P] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

export function typedStub<T, K extends keyof T>(stub: unknown): RpcApi<T, K> {
  return stub as RpcApi<T, K>;
}
