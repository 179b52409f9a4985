/**
 * A TCP forwarder that can hold every chunk for a fixed one-way delay in
 * each direction (order kept, no bandwidth limit). `lab/wan.sh` uses it to
 * let a load generator in its own network namespace reach RabbitMQ, which
 * listens on 127.0.0.1 only; when the kernel has no `netem` qdisc, the delay
 * here stands in for `tc netem delay`.
 *
 * Usage: `deno run -A lab/bench/delay_proxy.ts --listen 10.200.0.1:5672
 * --target 127.0.0.1:5672 [--delay-ms 10]`.
 *
 * @module
 */
import { parseArgs } from "node:util";

function hostPort(text: string): { hostname: string; port: number } {
  const i = text.lastIndexOf(":");
  return { hostname: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Copies `from` to `to`, each chunk leaving `delayMs` after it arrived. */
async function pump(from: Deno.Conn, to: Deno.Conn, delayMs: number): Promise<void> {
  let chain = Promise.resolve();
  const buf = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buf);
      if (n === null) break;
      const chunk = buf.slice(0, n);
      const due = performance.now() + delayMs;
      chain = chain.then(async () => {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await writeAll(to, chunk);
      });
    }
    await chain;
  } catch {
    // either side went away
  }
  try {
    await to.closeWrite();
  } catch {
    // already closed
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      listen: { type: "string" },
      target: { type: "string", default: "127.0.0.1:5672" },
      "delay-ms": { type: "string", default: "0" },
    },
  });
  const delayMs = Number(values["delay-ms"]);
  const target = hostPort(values.target);
  const listener = Deno.listen(hostPort(values.listen!));
  console.log(`proxy ${values.listen} -> ${values.target}, one-way delay ${delayMs} ms`);
  for await (const client of listener) {
    (async () => {
      const server = await Deno.connect(target);
      client.setNoDelay(true);
      server.setNoDelay(true);
      await Promise.all([pump(client, server, delayMs), pump(server, client, delayMs)]);
      for (const c of [client, server]) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    })().catch((error) => console.error(`proxy: ${(error as Error).message}`));
  }
}
