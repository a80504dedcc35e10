/**
 * `npm run create-user` (scripts/create-user.mjs): shared-secret registration against the running
 * e2e homeserver, then logging in as the new user with matrix-js-sdk.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectMatrixError, loginUser, uniqueUsername } from "./support/client";
import { sharedServer } from "./support/context";
import { freePort, removeStateDir, repoRoot } from "./support/server";

const { baseUrl, serverName, sharedSecret } = sharedServer();
const script = resolve(repoRoot, "scripts", "create-user.mjs");

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs scripts/create-user.mjs with the test runner's Node and an environment without the server's secret. */
function createUser(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base.REGISTRATION_SHARED_SECRET;
  delete base.STATE_DIR;
  delete base.PORT;
  return new Promise((resolveRun) => {
    execFile(process.execPath, [script, ...args], { cwd: repoRoot, env: { ...base, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolveRun({ code, stdout, stderr });
    });
  });
}

function createdUserId(out: RunResult): string {
  const m = /^Created (?:user|admin) (@\S+)$/m.exec(out.stdout);
  if (!m) throw new Error(`no user id in the output (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  return m[1]!;
}

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach(removeStateDir));

describe("npm run create-user", () => {
  it("creates a user with a generated password, who can then log in with matrix-js-sdk", async () => {
    const username = uniqueUsername("erin");
    const out = await createUser([username, "--url", baseUrl, "--secret", sharedSecret]);
    expect(out.code, out.stderr).toBe(0);
    expect(createdUserId(out)).toBe(`@${username}:${serverName}`);
    const password = /^Password: (\S+)$/m.exec(out.stdout)?.[1];
    expect(password).toEqual(expect.any(String));

    const session = await loginUser(baseUrl, username, password!);
    expect(await session.client.whoami()).toMatchObject({ user_id: `@${username}:${serverName}` });
  });

  it("uses the given password and makes an admin with --admin", async () => {
    const username = uniqueUsername("frank");
    const out = await createUser([username, "--password", "correct horse battery staple", "--admin", `--url=${baseUrl}/`, `--secret=${sharedSecret}`]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Created admin @${username}:${serverName}`);
    expect(out.stdout).not.toContain("Password:");
    const session = await loginUser(baseUrl, username, "correct horse battery staple");
    expect(session.userId).toBe(`@${username}:${serverName}`);
  });

  it("reads the secret from REGISTRATION_SHARED_SECRET", async () => {
    const username = uniqueUsername("grace");
    const out = await createUser([username, "--password", "pw-grace-1234", "--url", baseUrl], { REGISTRATION_SHARED_SECRET: sharedSecret });
    expect(out.code, out.stderr).toBe(0);
    expect(createdUserId(out)).toBe(`@${username}:${serverName}`);
    await loginUser(baseUrl, username, "pw-grace-1234");
  });

  it("reads the secret from the file npm start keeps in STATE_DIR", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratus-e2e-secret-"));
    tempDirs.push(dir);
    writeFileSync(join(dir, "registration-shared-secret"), `${sharedSecret}\n`, { mode: 0o600 });
    const username = uniqueUsername("heidi");
    const out = await createUser([username, "--password", "pw-heidi-1234", "--url", baseUrl], { STATE_DIR: dir });
    expect(out.code, out.stderr).toBe(0);
    expect(createdUserId(out)).toBe(`@${username}:${serverName}`);
    await loginUser(baseUrl, username, "pw-heidi-1234");
  });

  it("fails with a wrong secret and creates nobody", async () => {
    const username = uniqueUsername("ivan");
    const out = await createUser([username, "--password", "pw-ivan-1234", "--url", baseUrl, "--secret", "wrong-secret"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/M_FORBIDDEN/);
    await expectMatrixError(loginUser(baseUrl, username, "pw-ivan-1234"), 403, "M_FORBIDDEN");
  });

  it("refuses a username that is taken", async () => {
    const username = uniqueUsername("judy");
    expect((await createUser([username, "--url", baseUrl, "--secret", sharedSecret])).code).toBe(0);
    const again = await createUser([username, "--url", baseUrl, "--secret", sharedSecret]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/M_USER_IN_USE/);
  });

  it("prints usage without a username, and a clear error when no secret can be found", async () => {
    const noName = await createUser(["--url", baseUrl]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/usage: npm run create-user/);

    const emptyState = mkdtempSync(join(tmpdir(), "stratus-e2e-nosecret-"));
    tempDirs.push(emptyState);
    const noSecret = await createUser([uniqueUsername("kim"), "--url", baseUrl], { STATE_DIR: emptyState });
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/no shared secret/);
  });

  it("says so when the server is not reachable", async () => {
    const closedPort = await freePort();
    const out = await createUser([uniqueUsername("leo"), "--url", `http://127.0.0.1:${closedPort}`, "--secret", "s"]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/cannot reach the homeserver .*ECONNREFUSED/);
  });
});
