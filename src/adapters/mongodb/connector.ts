/**
 * Connecting the adapter's MongoClient, and connecting it again after a
 * connect that failed. A client that has connected once reconnects by
 * itself: its monitors keep watching the servers, and an operation waits up
 * to `serverSelectionTimeoutMS` for one. A first connect that fails is
 * another matter: the driver closes the topology it made and keeps it, so
 * every operation after that fails at once (`MongoTopologyClosedError`),
 * for good. So until a connect succeeds, each operation connects first (a
 * server that is down makes it wait `connect_timeout_ms`, as it would once
 * connected), and on request connects are tried in the background too, so
 * that health follows a server that comes back while no request comes.
 *
 * @module
 */

/** The parts of a MongoClient a connector uses. */
export interface ConnectableClient {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  on(event: "topologyClosed", listener: () => void): unknown;
}

/** Options for {@link createConnector}. */
export interface ConnectorOptions {
  /** Delay before the first background attempt; it doubles after each one that fails. @default 1000 */
  retryInitialMs?: number;
  /** The longest delay between background attempts. @default 10000 */
  retryMaxMs?: number;
}

/** Connects a client, again after a failed connect, until it is closed. */
export interface Connector {
  /**
   * Resolves once the client is connected, connecting it if it is not; throws the driver's error
   * when that fails. One connect at a time, shared by whoever waits for it. Once closed, it resolves
   * at once and leaves the driver to refuse the operation.
   */
  ready(): Promise<void>;
  /** Until a connect succeeds (or `close()`), tries again in the background, at growing intervals. */
  keepTrying(): void;
  /** Stops trying and closes the client, with whatever connect is under way. */
  close(): Promise<void>;
}

/** Creates the connector of `client`. */
export function createConnector(client: ConnectableClient, options: ConnectorOptions = {}): Connector {
  const initialMs = options.retryInitialMs ?? 1000;
  const maxMs = options.retryMaxMs ?? 10_000;
  let connected = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A failed connect closes its topology; nothing else but close() does.
  client.on("topologyClosed", () => {
    connected = false;
  });

  const connect = (): Promise<void> =>
    connecting ??= client.connect().then(
      () => {
        connected = !closed;
      },
    ).finally(() => {
      connecting = undefined;
    });

  const retry = (delayMs: number): void => {
    if (closed || connected || timer !== undefined) return;
    timer = setTimeout(async () => {
      timer = undefined;
      await connect().catch(() => {});
      retry(Math.min(delayMs * 2, maxMs));
    }, delayMs);
  };

  return {
    async ready() {
      if (connected || closed) return;
      await connect();
    },
    keepTrying() {
      retry(initialMs);
    },
    async close() {
      closed = true;
      connected = false;
      clearTimeout(timer);
      timer = undefined;
      const pending = connecting;
      // Closing the client ends a connect that is waiting for a server; one that has not made its
      // topology yet (it reads TLS files or resolves an SRV name first) makes it after this close,
      // so the client is closed again once that connect is over.
      await client.close();
      if (pending) {
        await pending.catch(() => {});
        await client.close();
      }
    },
  };
}
