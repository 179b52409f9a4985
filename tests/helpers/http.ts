/**
 * Finding a test node's HTTP listeners. Test configs bind port 0, so the
 * node's `status` admin command is asked where it listens.
 *
 * @module
 */
import { sendAdminCommand } from "../../src/client/mod.ts";
import { type TestEnv, waitFor } from "./services.ts";

interface Listener {
  host: string;
  port: number;
}

/** Base URLs of a node's listeners. */
export interface NodeUrls {
  /** `/live`, `/ready`, `/metrics`. */
  http: string;
  /** The gateway, on roles that run one. */
  gateway?: string;
}

/** Waits until node `instance` reports its HTTP listener (and its gateway, if `gateway`) and returns their URLs. */
export async function nodeUrls(
  env: TestEnv,
  instance: string,
  options: { gateway?: boolean } = {},
): Promise<NodeUrls> {
  let urls: NodeUrls | undefined;
  await waitFor(
    async () => {
      const replies = await sendAdminCommand({
        amqp: env.config.amqp,
        command: "status",
        node: instance,
        waitMs: 2000,
      }).catch(() => []);
      const data = replies[0]?.data as { http?: Listener; gateway?: Listener } | undefined;
      if (!data?.http || (options.gateway && !data.gateway)) return false;
      const url = (l: Listener) => `http://${l.host}:${l.port}`;
      urls = { http: url(data.http), ...(data.gateway ? { gateway: url(data.gateway) } : {}) };
      return true;
    },
    15_000,
    `HTTP listeners of node ${instance}`,
  );
  return urls!;
}

/** GETs `url` and returns status and body text (the body is always consumed). */
export async function httpGet(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

/** POSTs `body` (a string as is, anything else as JSON) and returns status, headers and parsed body. */
export async function httpPost(
  url: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

/** The value of one sample line of Prometheus text, e.g. `beds_requests_total{template="cus",…}`. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/**
 * GETs `path` from `url`'s listener with this `Host` header, over a plain socket: fetch writes the
 * URL's own host, whatever the headers say. Returns the status.
 */
export async function statusWithHost(url: string, path: string, host: string): Promise<number> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buffer.subarray(0, n ?? 0)));
    if (!status) throw new Error(`No HTTP status from ${url}`);
    return Number(status[1]);
  } finally {
    conn.close();
  }
}

/**
 * POSTs a JSON `body` to `path` on `url`'s listener with this `Host` header, over a plain socket
 * (fetch writes the URL's own host). Returns the status and the whole answer as text.
 */
export async function postWithHost(
  url: string,
  path: string,
  host: string,
  body: string,
): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const bytes = new TextEncoder().encode(body);
    await conn.write(new TextEncoder().encode(
      `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${bytes.byteLength}\r\nConnection: close\r\n\r\n${body}`,
    ));
    const text = await new Response(conn.readable).text();
    const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (!status) throw new Error(`No HTTP status from ${url}`);
    return { status: Number(status[1]), text };
  } catch (error) {
    conn.close();
    throw error;
  }
}
