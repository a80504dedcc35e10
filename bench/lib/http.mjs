/**
 * A minimal HTTP/1.1 client over node:http with one keep-alive connection per simulated client,
 * cheaper per request than fetch (the benchmark shares the machine's cores with the server).
 * Every response is tallied by status so the gates can check for 5xx across the whole run.
 */
import http from "node:http";

export const statusCounts = new Map();
export const serverErrors = [];

function tally(status, method, path, body) {
  statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
  if (status >= 500 && serverErrors.length < 20) serverErrors.push({ status, method, path: path.replace(/access_token=[^&]+/, "access_token=…"), body: body.slice(0, 300) });
}

export class Client {
  /** @param {string} baseUrl @param {string | undefined} token */
  constructor(baseUrl, token) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.token = token;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Resolves to { status, body (parsed JSON or text) }; never rejects on HTTP status. */
  request(method, path, body, token = this.token) {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers = { accept: "application/json" };
    if (payload) (headers["content-type"] = "application/json"), (headers["content-length"] = String(payload.length));
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.host, port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          tally(res.statusCode, method, path, text);
          let parsed = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {}
          resolve({ status: res.statusCode, body: parsed });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      if (payload) req.end(payload);
      else req.end();
    });
  }

  /** Another connection for the same user (same token): a client that long-polls /sync while it sends. */
  clone() {
    const c = new Client(`http://${this.host}:${this.port}`, this.token);
    c.userId = this.userId;
    c.username = this.username;
    return c;
  }

  close() {
    this.agent.destroy();
  }
}

export const enc = encodeURIComponent;
