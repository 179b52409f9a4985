/**
 * The node's AMQP outages as its own log tells them: each `amqp
 * disconnected` status event opens one, the next `amqp connected` closes it.
 * The soak prints them so a broker restart's recovery is seen, not assumed.
 *
 * @module
 */

/** One stretch without an AMQP connection. */
export interface Outage {
  /** When the node saw its connection lost (ISO time). */
  from: string;
  /** When it was connected again; undefined when it never was. */
  to?: string;
  /** Why it was lost, as the node logged it. */
  reason: string;
  /** Failed reconnect attempts in between. */
  failedAttempts: number;
}

/** Reads outages from pino JSON lines; lines that are not status events are skipped. */
export function amqpOutages(logText: string): Outage[] {
  const outages: Outage[] = [];
  let open: Outage | undefined;
  for (const line of logText.split("\n")) {
    if (!line.includes('"amqp"')) continue;
    let entry: { time?: string; amqp?: { type?: string; reason?: string } };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const type = entry.amqp?.type;
    const time = entry.time ?? "";
    if (type === "disconnected" && !open) {
      open = { from: time, reason: entry.amqp?.reason ?? "", failedAttempts: 0 };
      outages.push(open);
    } else if (type === "reconnect_failed" && open) {
      open.failedAttempts++;
    } else if (type === "connected" && open) {
      open.to = time;
      open = undefined;
    }
  }
  return outages;
}

/** One line per outage: "04:21:28.892 → 04:21:40.012 (11.1 s, 5 failed attempts): write EPIPE". */
export function describeOutage(o: Outage): string {
  const clock = (iso: string) => iso.slice(11, 23);
  const span = o.to
    ? `${((Date.parse(o.to) - Date.parse(o.from)) / 1000).toFixed(1)} s`
    : "never reconnected";
  const attempts = o.failedAttempts ? `, ${o.failedAttempts} failed attempt(s)` : "";
  return `${clock(o.from)} → ${o.to ? clock(o.to) : "…"} (${span}${attempts}): ${o.reason.slice(0, 80)}`;
}
