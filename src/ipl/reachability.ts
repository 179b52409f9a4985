/**
 * TCP reachability of a service: can a socket be opened within a timeout.
 *
 * @module
 */

/** Resolves true when a TCP connection to host:port opens within `timeoutMs`. */
export async function tcpReachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const attempt = Deno.connect({ hostname: host, port }).then(
    (conn) => {
      conn.close();
      return true;
    },
    () => false,
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
