/**
 * A TCP proxy to a local service that can pass the client's bytes on
 * slowly (a slow or congested link) and can freeze (a network partition:
 * nothing passes either way, and no side sees the connection close).
 *
 * @module
 */

/** A proxy on 127.0.0.1:`port`; `close()` ends it and its connections. */
export interface SlowProxy {
  port: number;
  /** Stops passing bytes either way until `thaw()`. */
  freeze(): void;
  thaw(): void;
  close(): void;
}

/** Options of {@link startSlowProxy}. */
export interface SlowProxyOptions {
  /** The service's port on 127.0.0.1. @default 5672 (RabbitMQ) */
  target?: number;
  /** At most this many client bytes every `tickMs`. @default no limit */
  bytesPerTick?: number;
  tickMs?: number;
}

/** Starts a proxy. */
export function startSlowProxy(options: SlowProxyOptions = {}): SlowProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  let thawed: Promise<void> | undefined;
  let thaw = () => {};
  const pump = async (from: Deno.Conn, to: Deno.Conn, paced: boolean) => {
    const buffer = new Uint8Array(paced && options.bytesPerTick ? options.bytesPerTick : 64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) break;
        while (thawed) await thawed;
        for (let at = 0; at < n;) at += await to.write(buffer.subarray(at, n));
        if (paced && options.tickMs) await new Promise((resolve) => setTimeout(resolve, options.tickMs));
      }
    } catch { /* either side closed */ }
    await to.closeWrite().catch(() => {}); // already closed
  };
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: options.target ?? 5672 });
      open.push(client, server);
      void pump(server, client, false);
      void pump(client, server, true);
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    freeze() {
      thawed ??= new Promise((resolve) => thaw = resolve);
    },
    thaw() {
      thawed = undefined;
      thaw();
    },
    close() {
      this.thaw();
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
