/**
 * Dates and date-times as the databases take them: checked against the calendar, in one text per
 * time.
 *
 * @module
 */

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A date as a reply gives it: midnight UTC. */
export const READ_DATE = /^(\d{4}-\d{2}-\d{2})T00:00:00(?:\.0{1,6})?Z$/;
export const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** Whether year-month-day is a day of the (proleptic Gregorian) calendar. */
export function calendarDay(y: number, m: number, d: number): boolean {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return days !== undefined && d >= 1 && d <= days;
}

/**
 * A date-time as the databases take it, in one form whatever form it came in, so that the same
 * time is the same text (MongoDB compares the strings): `YYYY-MM-DD HH:MM:SS.mmm[uuu]`, seconds and
 * milliseconds always, microseconds when not zero, in UTC when it named a zone (MariaDB
 * refuses `T…Z` and offsets in DATETIME values). Undefined when it is no real time (February 30th,
 * 25:00).
 */
export function utcDateTime(text: string): string | undefined {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number) as [number, number, number];
  if (!calendarDay(y, m, d)) return undefined; // Date.parse would roll Feb 30 over to March
  const time = /^.{10}[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/.exec(text);
  if (!time) return undefined;
  const [, hh = "", mm = "", ss = "00", fraction = ""] = time;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return dateTimeText(text.slice(0, 10), `${hh}:${mm}:${ss}`, fraction);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  // A zone can move a time past the years of four digits (9999-12-31T23:30-01:00), which ISO text
  // writes with six and a sign: no database takes that.
  if (!/^\d{4}-/.test(iso)) return undefined;
  return dateTimeText(iso.slice(0, 10), iso.slice(11, 19), iso.slice(20, 23) + fraction.slice(3));
}

function dateTimeText(day: string, time: string, fraction: string): string {
  // Milliseconds always, so that texts sort as their times (the log store orders by them).
  const micro = fraction.slice(3).replace(/0+$/, "");
  return `${day} ${time}.${fraction.slice(0, 3).padEnd(3, "0")}${micro}`;
}

/**
 * A `Date` as the ISO 8601 text a client would send for it; undefined when it is no time. Only a
 * fan-out part's or a transaction step's value can be a `Date`: the MariaDB driver reads DATE and
 * DATETIME columns as `Date`s (in UTC, the session's time zone), and such a value feeds the next part.
 */
export function isoText(value: Date): string | undefined {
  return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
}
