/**
 * A MongoDB stand-in on a local port, for tests of what BEDS does while a
 * MongoDB is down and once it is back (no MongoDB runs here). It speaks
 * just enough of the wire protocol for the official driver: the handshake
 * (OP_QUERY `isMaster`, then OP_MSG), `hello`/`ping`, `insert` and `find`
 * by equality of top-level fields, kept in memory per collection; any
 * other command answers `{ok: 1}`. Until `up()`, and after `down()`, it
 * accepts connections and closes them at once, as a server that is not
 * MongoDB (or not yet) does: the driver sees it down. A test may script
 * the answers (`script`): see each command and the stand-in's own reply,
 * and answer another, or none at all, as a server that stopped answering.
 *
 * @module
 */
import { BSON, type Document } from "mongodb";

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/** A fake MongoDB on 127.0.0.1. */
export interface FakeMongo {
  port: number;
  /** From now on, answers as a standalone MongoDB. */
  up(): void;
  /** From now on, hangs up every connection, those open included. */
  down(): void;
  /** The documents stored in `database.collection`. */
  documents(database: string, collection: string): Document[];
  close(): void;
}

/**
 * A test's answer to a command, given the stand-in's own (a write already applied): a reply, or
 * null for none, as a server that stopped answering.
 */
export type MongoScript = (command: Document, reply: Document) => Document | null;

/** Starts the stand-in, down. */
export function fakeMongo(script: MongoScript = (_command, reply) => reply): FakeMongo {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const stored = new Map<string, Document[]>();
  let answering = false;
  const collection = (ns: string) => stored.get(ns) ?? stored.set(ns, []).get(ns)!;

  const hello = () => ({
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: 1,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  });

  const matches = (doc: Document, filter: Document) =>
    Object.entries(filter).every(([field, value]) => JSON.stringify(doc[field]) === JSON.stringify(value));

  const command = (body: Document, sequences: Map<string, Document[]>): Document | null =>
    script(body, ownReply(body, sequences));

  const ownReply = (body: Document, sequences: Map<string, Document[]>): Document => {
    const name = Object.keys(body)[0]!;
    const db = String(body.$db ?? "admin");
    switch (name) {
      case "hello":
      case "isMaster":
      case "ismaster":
        return hello();
      case "insert": {
        const docs = [...(body.documents ?? []), ...(sequences.get("documents") ?? [])];
        collection(`${db}.${body.insert}`).push(...docs);
        return { n: docs.length, ok: 1 };
      }
      case "find": {
        const ns = `${db}.${body.find}`;
        const found = collection(ns).filter((d) => matches(d, body.filter ?? {}));
        const batch = body.limit ? found.slice(0, Math.abs(body.limit)) : found;
        return { cursor: { id: BSON.Long.fromNumber(0), ns, firstBatch: batch }, ok: 1 };
      }
      default:
        return { ok: 1 };
    }
  };

  const frame = (requestId: number, opCode: number, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16 + body.length);
    const view = new DataView(out.buffer);
    view.setInt32(0, out.length, true);
    view.setInt32(4, 0, true);
    view.setInt32(8, requestId, true);
    view.setInt32(12, opCode, true);
    out.set(body, 16);
    return out;
  };

  /** The reply to one message, or undefined for one it does not answer. */
  const answer = (message: Uint8Array): Uint8Array | undefined => {
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    const requestId = view.getInt32(4, true);
    const opCode = view.getInt32(12, true);
    if (opCode === OP_QUERY) {
      let at = 20;
      while (message[at] !== 0) at++; // fullCollectionName
      at += 1 + 8; // its NUL, numberToSkip, numberToReturn
      const size = view.getInt32(at, true);
      const answered = command(BSON.deserialize(message.subarray(at, at + size)), new Map());
      if (!answered) return undefined;
      const reply = BSON.serialize(answered);
      const head = new Uint8Array(20);
      new DataView(head.buffer).setInt32(16, 1, true); // numberReturned; flags, cursor id, from: 0
      return frame(requestId, OP_REPLY, new Uint8Array([...head, ...reply]));
    }
    if (opCode !== OP_MSG) return undefined;
    let body: Document = {};
    const sequences = new Map<string, Document[]>();
    for (let at = 20; at < message.length;) {
      const kind = message[at++];
      const size = view.getInt32(at, true);
      if (kind === 0) {
        body = BSON.deserialize(message.subarray(at, at + size));
      } else {
        let name = at + 4;
        while (message[name] !== 0) name++;
        const identifier = new TextDecoder().decode(message.subarray(at + 4, name));
        const docs: Document[] = [];
        for (let d = name + 1; d < at + size;) {
          const length = view.getInt32(d, true);
          docs.push(BSON.deserialize(message.subarray(d, d + length)));
          d += length;
        }
        sequences.set(identifier, docs);
      }
      at += size;
    }
    const reply = command(body, sequences);
    if (!reply) return undefined;
    return frame(requestId, OP_MSG, new Uint8Array([0, 0, 0, 0, 0, ...BSON.serialize(reply)]));
  };

  const serve = async (conn: Deno.Conn) => {
    conns.add(conn);
    let pending = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) return;
        pending = new Uint8Array([...pending, ...chunk.subarray(0, n)]);
        while (pending.length >= 4) {
          const length = new DataView(pending.buffer, pending.byteOffset).getInt32(0, true);
          if (pending.length < length) break;
          const reply = answer(pending.subarray(0, length));
          pending = pending.slice(length);
          for (let sent = 0; reply && sent < reply.length;) sent += await conn.write(reply.subarray(sent));
        }
      }
    } catch {
      // closed by down() or by the client
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  (async () => {
    for await (const conn of listener) {
      if (answering) serve(conn);
      else conn.close();
    }
  })().catch(() => {});

  const hangUp = () => {
    for (const conn of conns) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    up: () => answering = true,
    down: () => {
      answering = false;
      hangUp();
    },
    documents: (database, name) => [...(stored.get(`${database}.${name}`) ?? [])],
    close: () => {
      answering = false;
      hangUp();
      listener.close();
    },
  };
}
