/**
 * A proxy to the local RabbitMQ that plays its resource alarm: it sends the
 * client `connection.blocked` and stops reading from it, as RabbitMQ does
 * with a publishing connection, until `unblock()` sends
 * `connection.unblocked`. (A real alarm would block every user of the
 * shared broker.)
 *
 * @module
 */

/** A proxy on 127.0.0.1:`port`. */
export interface BlockingProxy {
  port: number;
  block(reason?: string): Promise<void>;
  unblock(): Promise<void>;
  close(): void;
}

/** A method frame on channel 0 of class `connection` (10). */
function connectionFrame(method: number, args: Uint8Array): Uint8Array {
  const frame = new Uint8Array(12 + args.length);
  const view = new DataView(frame.buffer);
  frame[0] = 1; // method frame
  view.setUint32(3, 4 + args.length);
  view.setUint16(7, 10);
  view.setUint16(9, method);
  frame.set(args, 11);
  frame[frame.length - 1] = 0xce;
  return frame;
}

/** Starts a proxy to RabbitMQ on 127.0.0.1:5672. */
export function startBlockingProxy(): BlockingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open: Deno.Conn[] = [];
  const injectors: Array<(bytes: Uint8Array) => Promise<void>> = [];
  let resumed: Promise<void> | undefined;
  let resume = () => {};
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: "127.0.0.1", port: 5672 });
      open.push(client, server);
      // What the client receives goes whole frame by whole frame, so a frame can be put in between.
      let down = Promise.resolve();
      const toClient = (bytes: Uint8Array) =>
        down = down.then(async () => {
          for (let at = 0; at < bytes.length;) at += await client.write(bytes.subarray(at));
        });
      injectors.push(toClient);
      void (async () => {
        const buffer = new Uint8Array(64 * 1024);
        let held = new Uint8Array(0);
        try {
          for (;;) {
            const n = await server.read(buffer);
            if (n === null) break;
            const bytes = new Uint8Array(held.length + n);
            bytes.set(held);
            bytes.set(buffer.subarray(0, n), held.length);
            let at = 0;
            // The protocol header the server may send first is not a frame: only frames come after login.
            while (bytes.length - at >= 7) {
              const size = new DataView(bytes.buffer, at + 3, 4).getUint32(0);
              if (bytes.length - at < size + 8) break;
              await toClient(bytes.slice(at, at + size + 8));
              at += size + 8;
            }
            held = bytes.slice(at);
          }
        } catch { /* closed */ }
        // A connection that closed (a node's short-lived ones) gets no more frames.
        const at = injectors.indexOf(toClient);
        if (at >= 0) injectors.splice(at, 1);
      })();
      void (async () => {
        const buffer = new Uint8Array(64 * 1024);
        try {
          for (;;) {
            while (resumed) await resumed; // blocked: nothing is read
            const n = await client.read(buffer);
            if (n === null) break;
            while (resumed) await resumed;
            for (let at = 0; at < n;) at += await server.write(buffer.subarray(at, n));
          }
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async block(reason = "low on memory") {
      const text = new TextEncoder().encode(reason);
      const args = new Uint8Array(1 + text.length);
      args[0] = text.length;
      args.set(text, 1);
      resumed ??= new Promise((resolve) => resume = resolve);
      await Promise.all(injectors.map((inject) => inject(connectionFrame(60, args)).catch(() => {})));
    },
    async unblock() {
      resumed = undefined;
      resume();
      await Promise.all(
        injectors.map((inject) => inject(connectionFrame(61, new Uint8Array(0))).catch(() => {})),
      );
    },
    close() {
      resumed = undefined;
      resume();
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
