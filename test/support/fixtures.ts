/**
 * Shared test data lives beside the repository in ../shared/fixtures (spec vectors, OpenAPI,
 * state-resolution cases). STRATUS_FIXTURES overrides the location.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const fixturesDir = process.env.STRATUS_FIXTURES ?? resolve(here, "../../../shared/fixtures");

export function readFixture<T = unknown>(relPath: string): T {
  return JSON.parse(readFileSync(resolve(fixturesDir, relPath), "utf8")) as T;
}
