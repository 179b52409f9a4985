/**
 * Text from clients (log records, dead letters) made safe for a terminal.
 * A control character in a template name or a letter's body would otherwise
 * reach the operator's terminal as an escape sequence: move the cursor,
 * erase lines already printed, retitle the window. Pure.
 *
 * @module
 */

/**
 * C0 and C1 controls, DEL, and the Unicode marks that reorder or break lines (bidirectional
 * overrides and isolates, line and paragraph separators).
 */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as an escape (`\x1b`, `\u202e`): one inert line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}
