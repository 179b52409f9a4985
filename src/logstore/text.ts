/**
 * Text a record stores, made safe for any store: well-formed UTF-16 and messages of bounded
 * length. A lone surrogate (from text a client chose, echoed in an error) would go into JSON as an
 * escape MariaDB refuses, and fail the whole batch of records with it.
 *
 * @module
 */

/** Longest `message` kept, in UTF-16 units (the store's column holds 1000 characters). */
const MAX_MESSAGE = 1000;

/** `text` with any lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string | undefined): string | undefined {
  return text === undefined || text.isWellFormed() ? text : text.toWellFormed();
}

/** At most MAX_MESSAGE UTF-16 units, never cutting a surrogate pair in two; null when empty. */
export function clip(text: string | undefined): string | null {
  if (text === undefined || text === "") return null;
  if (text.length <= MAX_MESSAGE) return text;
  let end = MAX_MESSAGE - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
