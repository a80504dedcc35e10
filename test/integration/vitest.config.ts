import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      main: `${root}src/index.ts`,
      wrangler: { configPath: `${root}wrangler.jsonc` },
      miniflare: {
        bindings: {
          SERVER_NAME: "test.local",
          PUBLIC_BASE_URL: "https://test.local",
          REGISTRATION_MODE: "open",
          REGISTRATION_SHARED_SECRET: "shared-secret-for-tests",
          LOG_LEVEL: "warn",
          // Generous limits for the suite; rate-limit tests build their own tight configuration.
          RATE_LIMIT_LOGIN_IP: "1000/60",
          RATE_LIMIT_LOGIN_ACCOUNT: "1000/60",
          RATE_LIMIT_REGISTER_IP: "1000/60",
          // Test gateways listen on loopback; pushers.test.ts checks the default refuses them.
          PUSH_GATEWAY_ALLOW: "127.0.0.1",
          TEST_MIGRATIONS: await readD1Migrations(`${root}migrations`),
        },
      },
    })),
  ],
  test: {
    name: "integration",
    include: ["**/*.test.ts"],
    setupFiles: ["./apply-migrations.ts"],
    // A real HTTP server on 127.0.0.1 for the URL preview tests (its pages, its address).
    globalSetup: ["./preview-pages.ts"],
  },
});
