import assert from "node:assert/strict";
import type net from "node:net";
import { coalesce } from "../../src/adapters/mariadb/socket.ts";

/** A socket stand-in that records what the driver's writes turn into. */
function recorder() {
  const log: string[] = [];
  let depth = 0;
  const socket = {
    cork: () => {
      depth++;
      log.push("cork");
    },
    uncork: () => {
      depth--;
      log.push("uncork");
    },
    end: () => {
      log.push("end");
      return socket;
    },
    destroy: () => {
      log.push("destroy");
      return socket;
    },
    write: (chunk: string) => {
      log.push(depth > 0 ? `buffered ${chunk}` : `sent ${chunk}`);
      return true;
    },
  };
  coalesce(socket as unknown as net.Socket);
  return { socket: socket as unknown as net.Socket, log };
}

Deno.test("MariaDB socket: the writes of one run of JavaScript are held and sent together", async () => {
  const { socket, log } = recorder();
  socket.write("q1");
  socket.write("q2");
  assert.deepEqual(log, ["cork", "buffered q1", "buffered q2"]);
  // Sent once the microtasks queued so far have run; a later continuation starts the next group.
  await Promise.resolve().then(() => socket.write("q3"));
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log, ["cork", "buffered q1", "buffered q2", "uncork", "cork", "buffered q3", "uncork"]);
  socket.write("q4");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(log.slice(7), ["cork", "buffered q4", "uncork"]);
});

Deno.test("MariaDB socket: a close sends what is held before it", () => {
  const { socket, log } = recorder();
  socket.write("quit");
  socket.destroy();
  assert.deepEqual(log, ["cork", "buffered quit", "uncork", "destroy"]);
  const other = recorder();
  other.socket.write("quit");
  other.socket.end();
  assert.deepEqual(other.log, ["cork", "buffered quit", "uncork", "end"]);
});
