import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = fileURLToPath(new URL(".", import.meta.url));

// End-to-end layer (DESIGN §4): one real `wrangler dev` homeserver (started by global-setup.ts) and
// matrix-js-sdk clients talking to it over HTTP. Files run one after another against that server.
export default defineConfig({
  test: {
    name: "e2e",
    root: here,
    environment: "node",
    include: ["**/*.test.ts"],
    globalSetup: ["./global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});
