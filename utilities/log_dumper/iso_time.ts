/**
 * The filter times of the log store's readers: the observer's time range and `beds logs tail
 * --since` take the same texts and refuse the same ones. Nothing here but the parsing, so that
 * BEDS's CLI can import it without the observer's pages, and the observer still imports nothing
 * from BEDS.
 *
 * @module
 */

/**
 * An ISO date and time, the zone optional (UTC then); what a `datetime-local` input sends. Digits
 * of a second past the millisecond are read and dropped: the stores keep milliseconds.
 */
const ISO_TIME =
  /^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * The milliseconds of a filter time, or undefined when it is no ISO time in the years 1000–9999:
 * the stores compare `at` as `YYYY-MM-DD HH:MM:SS.mmm`, which a five-digit or negative year (which
 * `Date` allows) does not fit. A time that names no real one (February 30th, 24:00) is refused,
 * not rolled over to another day as `Date.parse` would.
 */
export function filterTime(text: string | undefined): number | undefined {
  const match = text ? ISO_TIME.exec(text.trim()) : null;
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const ms = Number((match[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const wall = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms));
  const read = [wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate()];
  const clock = [wall.getUTCHours(), wall.getUTCMinutes(), wall.getUTCSeconds()];
  if ([...read, ...clock].join() !== [y, mo, d, h, mi, s].join()) return undefined;
  const offset = offsetMinutes(match[8]);
  if (offset === undefined) return undefined;
  const t = wall.getTime() - offset * 60_000;
  const year = new Date(t).getUTCFullYear();
  return year >= 1000 && year <= 9999 ? t : undefined;
}

/** The minutes a zone (`Z`, `+02:00`, `-0230`, none) is ahead of UTC; undefined for no real offset. */
function offsetMinutes(zone: string | undefined): number | undefined {
  if (!zone || zone.toUpperCase() === "Z") return 0;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(-2));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

/** A filter time as the stores write `at`: `2025-01-02 03:04:05.678` (UTC); undefined when none. */
export function storedTime(text: string | undefined): string | undefined {
  const t = filterTime(text);
  return t === undefined ? undefined : new Date(t).toISOString().slice(0, 23).replace("T", " ");
}
