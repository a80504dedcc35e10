/**
 * Keeps docs/spec-coverage.md true: every endpoint of the spec's OpenAPI is listed, the
 * "implemented" column matches the routes the app really declares, and every implemented
 * endpoint names a test file that exists. Run with UPDATE_SPEC_COVERAGE=1 to rewrite the
 * generated columns (the hand-written "tests" column is kept).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../src/app";
import { knownPaths } from "../../src/api/route";
import { fixturesDir } from "../support/fixtures";

const root = resolve(import.meta.dirname, "../..");
const docPath = resolve(root, "docs/spec-coverage.md");

interface Endpoint {
  api: string;
  method: string;
  path: string;
  file: string;
  deprecated: boolean;
}

/** Reads method/path pairs from the spec's OpenAPI files without a YAML parser: their layout is regular. */
function specEndpoints(api: "client-server" | "server-server"): Endpoint[] {
  const dir = resolve(fixturesDir, "matrix-spec/api", api);
  const out: Endpoint[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort()) {
    const text = readFileSync(resolve(dir, file), "utf8");
    const base = /basePath:\s*\n\s*default:\s*(\S+)/.exec(text)?.[1] ?? "";
    const lines = text.split("\n");
    let inPaths = false;
    let current: string | undefined;
    let last: Endpoint | undefined;
    for (const line of lines) {
      if (/^paths:/.test(line)) inPaths = true;
      else if (/^\S/.test(line)) inPaths = false;
      if (!inPaths) continue;
      const p = /^ {2}"?(\/[^":]*)"?:\s*$/.exec(line);
      if (p) current = p[1]!.trim();
      const m = /^ {4}(get|put|post|delete):\s*$/.exec(line);
      if (m && current) {
        last = { api, method: m[1]!.toUpperCase(), path: `${base}${current}`.replace(/\/+$/, "") || "/", file, deprecated: false };
        out.push(last);
      }
      if (last && /^ {6}deprecated:\s*true/.test(line)) last.deprecated = true;
    }
  }
  return out;
}

const shape = (p: string) => p.replace(/\{[^}]+\}/g, "{}").replace(/:[A-Za-z]+/g, "{}");

function implementedShapes(): Set<string> {
  buildApp();
  return new Set(knownPaths.map((k) => `${k.method} ${shape(k.path)}`));
}

function readTestsColumn(): Map<string, string> {
  const map = new Map<string, string>();
  if (!existsSync(docPath)) return map;
  for (const line of readFileSync(docPath, "utf8").split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 6 || !/^(GET|PUT|POST|DELETE)$/.test(cells[1]!)) continue;
    map.set(`${cells[1]} ${cells[2]!.replace(/`/g, "")}`, cells[5] ?? "");
  }
  return map;
}

function render(endpoints: Endpoint[], implemented: Set<string>, tests: Map<string, string>): string {
  const lines = [
    "# Spec coverage",
    "",
    "Every endpoint of the Matrix spec's client-server and server-server APIs (from the OpenAPI in",
    "`shared/fixtures/matrix-spec`), whether Stratus implements it, and the tests that cover it.",
    "The first four columns are generated and checked by `test/docs/spec-coverage.test.ts`",
    "(`UPDATE_SPEC_COVERAGE=1 npx vitest run --project core test/docs` rewrites them); the tests",
    "column is written by hand and must name a test file for every implemented endpoint.",
    "Endpoints that are not implemented answer 404 `M_UNRECOGNIZED`. The last section lists what",
    "Stratus serves beyond the spec: MSCs on unstable paths and Synapse's admin API.",
    "",
  ];
  let currentApi = "";
  let count = 0;
  for (const e of endpoints) {
    if (e.api !== currentApi) {
      currentApi = e.api;
      const n = endpoints.filter((x) => x.api === e.api);
      const done = n.filter((x) => implemented.has(`${x.method} ${shape(x.path)}`)).length;
      lines.push(`## ${e.api} (${done} of ${n.length} implemented)`, "", "| method | path | spec file | implemented | tests |", "|---|---|---|---|---|");
    }
    const key = `${e.method} ${e.path}`;
    const yes = implemented.has(`${e.method} ${shape(e.path)}`);
    lines.push(`| ${e.method} | \`${e.path}\` | ${e.file}${e.deprecated ? " (deprecated)" : ""} | ${yes ? "yes" : "no"} | ${tests.get(key) ?? ""} |`);
    count++;
  }
  const extras = extraEndpoints();
  lines.push("", `## beyond the spec: unstable (MSC) and admin endpoints (${extras.length})`, "", "| method | path | source | implemented | tests |", "|---|---|---|---|---|");
  for (const e of extras) lines.push(`| ${e.method} | \`${e.path}\` | ${e.file} | yes | ${tests.get(`${e.method} ${e.path}`) ?? ""} |`);
  lines.push("");
  return lines.join("\n");
}

/** Routes the app serves outside the spec's OpenAPI: MSCs on unstable paths, and Synapse's admin API. */
function extraEndpoints(): Endpoint[] {
  implementedShapes();
  const seen = new Map<string, Endpoint>();
  for (const k of knownPaths) {
    const unstable = /\/unstable\/([^/]+)/.exec(k.path);
    if (!unstable && !k.path.startsWith("/_synapse/")) continue;
    const path = k.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const file = unstable ? `unstable (${unstable[1]})` : "Synapse admin API";
    seen.set(`${k.method} ${path}`, { api: "extra", method: k.method, path, file, deprecated: false });
  }
  return [...seen.values()].sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path.localeCompare(b.path)));
}

describe("docs/spec-coverage.md", () => {
  const endpoints = [...specEndpoints("client-server"), ...specEndpoints("server-server")];
  const implemented = implementedShapes();
  const tests = readTestsColumn();
  const expected = render(endpoints, implemented, tests);

  it("lists every spec endpoint with its real implementation status", () => {
    if (process.env.UPDATE_SPEC_COVERAGE) writeFileSync(docPath, expected);
    expect(existsSync(docPath)).toBe(true);
    expect(readFileSync(docPath, "utf8")).toBe(expected);
  });

  it("names an existing test file for every implemented endpoint", () => {
    const missing: string[] = [];
    for (const e of [...endpoints, ...extraEndpoints()]) {
      if (e.api !== "extra" && !implemented.has(`${e.method} ${shape(e.path)}`)) continue;
      const cell = tests.get(`${e.method} ${e.path}`) ?? "";
      const files = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      if (files.length === 0 || files.some((f) => !existsSync(resolve(root, f)))) missing.push(`${e.method} ${e.path}: ${cell || "(none)"}`);
    }
    expect(missing).toEqual([]);
  });
});
