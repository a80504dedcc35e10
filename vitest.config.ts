import { defineConfig } from "vitest/config";

// Three test layers (DESIGN §4): `core` runs the pure protocol core in Node, `integration` runs
// every route inside workerd, `e2e` drives `wrangler dev` with real clients.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "core",
          environment: "node",
          include: ["src/matrix/**/*.test.ts", "src/objects/**/*.test.ts", "test/docs/**/*.test.ts"],
        },
      },
      "./test/integration/vitest.config.ts",
      "./test/e2e/vitest.config.ts",
    ],
  },
});
