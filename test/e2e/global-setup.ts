/**
 * Starts one homeserver for the whole e2e run (fresh temporary state folder, free port on
 * 127.0.0.1), waits until GET /health answers 200, hands its address to the tests and, at the end,
 * stops the whole process group and deletes the state folder.
 */
import type { TestProject } from "vitest/node";
import "./support/context";
import { makeStateDir, removeStateDir, startServer } from "./support/server";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = makeStateDir();
  let server;
  try {
    server = await startServer({ stateDir });
  } catch (err) {
    removeStateDir(stateDir);
    throw err;
  }
  project.provide("baseUrl", server.baseUrl);
  project.provide("serverName", server.serverName);
  project.provide("sharedSecret", server.sharedSecret);
  project.provide("stateDir", server.stateDir);

  return async () => {
    await server.stop();
    if (process.env.E2E_SERVER_LOG) console.log(server.output());
    removeStateDir(stateDir);
  };
}
