/** What the global setup hands to every e2e test file (vitest `provide` / `inject`). */
import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** e.g. http://127.0.0.1:41234 — the suite's shared homeserver. */
    baseUrl: string;
    /** The Matrix server name, e.g. localhost:41234 (the part after the colon in user ids). */
    serverName: string;
    /** REGISTRATION_SHARED_SECRET of the shared homeserver. */
    sharedSecret: string;
    /** Its state folder (D1, KV, R2, Durable Objects). */
    stateDir: string;
  }
}

export interface E2eServer {
  baseUrl: string;
  serverName: string;
  sharedSecret: string;
  stateDir: string;
}

/** The shared homeserver started by global-setup.ts. */
export function sharedServer(): E2eServer {
  return { baseUrl: inject("baseUrl"), serverName: inject("serverName"), sharedSecret: inject("sharedSecret"), stateDir: inject("stateDir") };
}
