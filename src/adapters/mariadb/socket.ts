/**
 * The TCP socket of a pipelined MariaDB connection, its writes coalesced: the
 * driver writes each query with its own `socket.write`, which is one system
 * call each. Corked from the first write until the microtasks queued by then
 * have run, the queries issued together (the deliveries of one AMQP read, a
 * fan-out's parts at the same depth) leave in one `writev`. Measured in the
 * lab: node CPU −3 % per read, −7 % per fan-out. Deferring the flush further
 * (`setImmediate`) grouped more but measured no better.
 *
 * @module
 */
import net from "node:net";

/** A socket for the driver's `stream` option, connected to `host:port`, its writes coalesced. */
export function coalescedSocket(host: string, port: number): net.Socket {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  coalesce(socket);
  return socket;
}

/**
 * Corks `socket` at its first write and uncorks it once the current microtasks have run. The
 * driver writes a fresh buffer per packet and never touches it again, so holding the chunks until
 * then is safe (it already copes with a socket that buffers under back-pressure).
 */
export function coalesce(socket: net.Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const flush = () => {
    if (!corked) return; // already flushed by a close
    corked = false;
    socket.uncork();
  };
  // A close from a macrotask (the driver's QUIT, then destroy on the next tick) must not strand
  // the held packets: flush them first.
  for (const name of ["end", "destroy"] as const) {
    const original = socket[name].bind(socket) as (...args: unknown[]) => net.Socket;
    socket[name] = ((...args: unknown[]) => {
      flush();
      return original(...args);
    }) as never;
  }
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      queueMicrotask(flush);
    }
    return write(...args);
  }) as typeof socket.write;
}
