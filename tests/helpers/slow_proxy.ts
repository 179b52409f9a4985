/**
 * A TCP proxy to the local RabbitMQ that passes the client's bytes on
 * slowly, so what a client buffers stays buffered for a while (a slow or
 * congested link); the broker's answers pass at once.
 *
 * @module
 */

/** A proxy on 127.0.0.1:`port`; `close()` ends it and its connections. */
export interface SlowProxy {
  port: number;
  close(): void;
}

/** Starts a proxy that forwards at most `bytesPerTick` client bytes every `tickMs`. */
export function startSlowProxy(options: { bytesPerTick: number; tickMs: number }): SlowProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  const pace = async (from: Deno.Conn, to: Deno.Conn) => {
    const buffer = new Uint8Array(options.bytesPerTick);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
        await new Promise((resolve) => setTimeout(resolve, options.tickMs));
      }
    } catch { /* either side closed */ }
    await to.closeWrite().catch(() => {}); // already closed
  };
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: 5672 });
      open.push(client, server);
      server.readable.pipeTo(client.writable).catch(() => {});
      void pace(client, server);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close() {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    },
  };
}
