/**
 * Text a record stores, made safe for any store: well-formed UTF-16 and of bounded length. A lone
 * surrogate (from text a client chose, echoed in an error) would go into JSON as an escape MariaDB
 * refuses, and fail the whole batch of records with it; and an error may echo a field name as long
 * as a request body, whose record would be as large (see {@link TEXT_LIMITS}).
 *
 * @module
 */

/**
 * Longest texts a record keeps, in UTF-16 units. A request body may be up to `[limits]
 * max_body_bytes` (64 KB), and an error may echo any of it; JSON escapes a backslash twice on its
 * way to the store (once in `doc`, once in the batch), so one such text would make a record of
 * 250 KB, and a batch of them pass MariaDB's `max_allowed_packet`.
 */
export const TEXT_LIMITS = {
  /** The `message` column (VARCHAR(1000)). */
  message: 1000,
  /** A message too long for its column, whole in `doc.message` up to this. */
  fullMessage: 4000,
  /** The `template` column (VARCHAR(32)); template names are at most 32 characters. */
  template: 32,
  /** The `op` text (`op:call`) and a call name (at most 64 characters; the column keeps 16). */
  name: 80,
  /** A user name or a dead letter's reason, in `doc`. */
  detail: 256,
} as const;

/** `text` with any lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string | undefined): string | undefined {
  return text === undefined || text.isWellFormed() ? text : text.toWellFormed();
}

/**
 * At most `max` UTF-16 units, the last of them `…` when cut, never cutting a surrogate pair in two;
 * null when empty.
 */
export function clip(text: string | undefined, max: number = TEXT_LIMITS.message): string | null {
  if (text === undefined || text === "") return null;
  return clipText(text, max);
}

/**
 * `text` cut to at most `max` UTF-16 units, the last of them `…` (`max` ≥ 2). The cut text is a
 * copy: a slice would keep the whole text it came from in memory for as long as the record waits.
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return [text.slice(0, end), "…"].join("");
}
