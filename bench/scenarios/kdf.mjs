/**
 * Login and registration: both are dominated by PBKDF2-HMAC-SHA256 at 600,000 iterations
 * (src/services/passwords.ts). Run as an open model at a rate well below capacity, so the latency
 * is the cost of one operation; the CPU per operation comes from /proc.
 */
import { Client } from "../lib/http.mjs";
import { openLoop } from "../lib/load.mjs";
import { login, register } from "../lib/matrix.mjs";

const RATE = 2;

export default [
  {
    id: "auth/register",
    title: "POST /register (PBKDF2 hash)",
    levels: ["info"],
    run: async (ctx) => {
      const clients = [new Client(ctx.server.baseUrl)];
      const op = async (c, i) => ({ ok: (await register(c, `bench-reg-${ctx.runId}-${i}`)).status === 200 });
      return [ctx.row("auth/register", "POST /register (PBKDF2 hash)", await openLoop({ server: ctx.server, clients, rate: RATE, count: ctx.count(RATE, 5, 4), op }))];
    },
  },
  {
    id: "auth/login",
    title: "POST /login (PBKDF2 verify)",
    levels: ["info"],
    run: async (ctx) => {
      const clients = [new Client(ctx.server.baseUrl)];
      const names = ctx.users.map((u) => u.username);
      const op = async (c, i) => ({ ok: (await login(c, names[i % names.length])).status === 200 });
      return [ctx.row("auth/login", "POST /login (PBKDF2 verify)", await openLoop({ server: ctx.server, clients, rate: RATE, count: ctx.count(RATE, 5, 4), op }))];
    },
  },
];
