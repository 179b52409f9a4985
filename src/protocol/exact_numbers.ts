/**
 * JSON numbers kept as the client wrote them. `JSON.parse` makes every number
 * a double, so a literal with more digits than a double holds
 * (9007199254740993, 1234567890.123456789012) or past its range (1e400) would
 * silently become another number, and be stored so. {@link parseExact} keeps
 * such a literal as raw JSON (`JSON.rawJSON`) instead: `JSON.stringify` writes
 * it as its text again, and the field checks take its digits as they are.
 *
 * Only a text that can hold such a literal is looked at twice: a literal of
 * at most 15 significant digits and an exponent of at most 2 digits always
 * reads back as itself, so a body without a run of 16 digits and points, or a
 * 3-digit exponent, is parsed by `JSON.parse` alone. Another is parsed by
 * `JSON.parse` too, then scanned once for the number literals in it (not in
 * its strings) that a double would change, and each is set as raw JSON where
 * the scan found it.
 *
 * A text with a backslash is scanned too, for V8's (15.0) one misread: once it has parsed an
 * object with a key `"\\"` (a backslash), an object with the same keys before it and a key written
 * with an escape there (`{"x":1,"\\":1}`, then `{"x":1,"\/":2}`) gets the key `"\\"`, not `"/"`,
 * with or without a reviver. A client's `json_encode` escapes every `/`: the document would be stored
 * under another key. So each key written with an escape must be an own key of its object once
 * parsed, or the parse throws ({@link MisreadKeyError}).
 *
 * The scan is hand-written because the ready ways cost too much. A reviver
 * (the only way `JSON.parse` shows a literal's text) is a call per value: a
 * 64 KB body of 32,000 zeros and one 16-digit number took 21–74 ms against
 * 0.2–0.6 ms for `JSON.parse` alone, 80 times as long for anyone who may
 * publish (and the gateway paid it too), and it ran out of call stack at about
 * 5,000 levels of nesting. lossless-json (npm) took 5–20 ms on that body.
 * `JSON.parse` and the scan take 0.9 ms; 3,600 big ids (9007199254740993) in
 * 61 KB take 2.5 ms (5.3–6.4 ms with the reviver), most of it in deciding and
 * keeping each one; a small read with one such id 3–5 µs (7–10 µs).
 *
 * @module
 */
import { rawNumber, sameNumber, setOwn } from "./number_literals.ts";

export {
  canonicalNumber,
  isRawNumber,
  literalInteger,
  type LiteralParts,
  literalParts,
  type RawNumber,
  sameNumber,
  setOwn,
} from "./number_literals.ts";

/**
 * A run of 16 digits or points, or an exponent of 3 digits: where a literal a double changes can be.
 * The class is written out 16 times: V8 runs `[\d.]{16}` about eight times slower (0.8–1.8 µs on a
 * 73–204 character read body against 0.1–0.2 µs; `JSON.parse` of it takes 0.9–2.8 µs).
 */
const MAY_CHANGE = new RegExp(`${"[\\d.]".repeat(16)}|[eE][+-]?\\d{3}`);

/** Whether `text` may hold a number literal that a double would change (false positives cost time only). */
export function mayChangeNumbers(text: string): boolean {
  return MAY_CHANGE.test(text);
}

// The characters the scan looks for.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const POINT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const SMALL_E = 0x65;
const CAPITAL_E = 0x45;
const SMALL_T = 0x74;
const SMALL_N = 0x6e;
const SMALL_F = 0x66;

/** A key written with an escape, and nothing to keep in its value: the key must be there. */
const OWN_KEY = Symbol("own key");

/**
 * The literals to keep inside one container, by key or index: a literal's text, the edits inside a
 * member that is a container itself, or {@link OWN_KEY}. Every key here must be an own key once
 * parsed: an escaped one may be misread, and any other is.
 */
type Edits = Map<string | number, Edit>;
type Edit = string | Edits | typeof OWN_KEY;

/**
 * A key written with an escape that `JSON.parse` read as another (see the module). A `SyntaxError`,
 * as `JSON.parse`'s own, so whoever takes a body that is no JSON takes this one too.
 */
export class MisreadKeyError extends SyntaxError {
  constructor(key: string) {
    const shown = JSON.stringify(key).slice(0, 100);
    super(`A key written with an escape (${shown}) was misread by the JSON parser; send it without escapes`);
    this.name = "MisreadKeyError";
  }
}

/** A container the scan is inside. */
interface Frame {
  /** The edits found in it so far; made at the first. */
  edits: Edits | undefined;
  /** In an array, the index of the element being read; -1 in an object. */
  index: number;
  /** In an object, where the key of the member being read starts and ends, quotes included. */
  keyStart: number;
  keyEnd: number;
  /** Whether that key holds a backslash. */
  keyEscaped: boolean;
}

const isDigit = (c: number) => c >= ZERO && c <= NINE;
const inNumber = (c: number) =>
  isDigit(c) || c === POINT || c === SMALL_E || c === CAPITAL_E || c === MINUS || c === PLUS;

/** Where the string whose opening quote is at `open` ends: past its closing quote. */
function stringEnd(text: string, open: number): number {
  for (let from = open + 1;;) {
    const quote = text.indexOf('"', from);
    // Escaped when an odd number of backslashes comes before it. The runs counted back lie between
    // two quotes, so no character is counted twice.
    let before = quote;
    while (text.charCodeAt(before - 1) === BACKSLASH) before--;
    if ((quote - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The literal from `start` to `end` when a double would change it. */
function lossy(text: string, start: number, end: number): string | undefined {
  if (end - start < 5) return undefined; // 1e400 is the shortest that can change
  const literal = text.slice(start, end);
  return MAY_CHANGE.test(literal) && !sameNumber(literal, Number(literal)) ? literal : undefined;
}

/**
 * Records what the member being read in `frame` holds: an edit, or none but that its key, written
 * with an escape, be there. An object's key is decoded only then (as JSON decodes it), and a key
 * written again drops what its earlier value held: the last one is the value, as in `JSON.parse`.
 * (A key that loses its {@link OWN_KEY} so is there anyway.)
 */
function settle(text: string, frame: Frame, edit: Edit | undefined): void {
  if (frame.index >= 0) {
    if (edit !== undefined) (frame.edits ??= new Map()).set(frame.index, edit);
    return;
  }
  if (edit === undefined && frame.edits === undefined && !frame.keyEscaped) return;
  const quoted = text.slice(frame.keyStart, frame.keyEnd);
  const key = frame.keyEscaped ? JSON.parse(quoted) as string : quoted.slice(1, -1);
  if (edit !== undefined) (frame.edits ??= new Map()).set(key, edit);
  else if (frame.keyEscaped) (frame.edits ??= new Map()).set(key, OWN_KEY);
  else frame.edits!.delete(key);
}

/**
 * The number literals in `text` that a double would change, and the keys written with an escape, by
 * where they are in its value. `text` is JSON that `JSON.parse` took. One pass, no recursion: a
 * value may nest deeper than the call stack would take.
 */
function lossyLiterals(text: string): Edit | undefined {
  const root: Frame = { edits: undefined, index: 0, keyStart: 0, keyEnd: 0, keyEscaped: false }; // an array of one
  const open: Frame[] = [root];
  let frame = root;
  let atKey = false; // in an object, where a member's key comes
  // The first backslash from where the scan is, looked for again only once passed: linear in all.
  let backslash = -1;
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (atKey) {
        if (backslash !== Infinity && backslash < i) {
          backslash = text.indexOf("\\", i);
          if (backslash < 0) backslash = Infinity;
        }
        frame.keyStart = i;
        frame.keyEnd = end;
        frame.keyEscaped = backslash < end;
        atKey = false;
      } else settle(text, frame, undefined);
      i = end;
    } else if (c === MINUS || isDigit(c)) {
      let end = i + 1;
      while (end < text.length && inNumber(text.charCodeAt(end))) end++;
      settle(text, frame, lossy(text, i, end));
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      frame = {
        edits: undefined,
        index: c === OPEN_ARRAY ? 0 : -1,
        keyStart: 0,
        keyEnd: 0,
        keyEscaped: false,
      };
      open.push(frame);
      atKey = c === OPEN_OBJECT;
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      const { edits } = open.pop()!;
      frame = open[open.length - 1]!;
      settle(text, frame, edits?.size ? edits : undefined);
      i++;
    } else if (c === COMMA) {
      if (frame.index < 0) atKey = true;
      else frame.index++;
      i++;
    } else if (c === SMALL_T || c === SMALL_N || c === SMALL_F) {
      settle(text, frame, undefined);
      i += c === SMALL_F ? 5 : 4;
    } else i++; // white space, or the colon after a key
  }
  return root.edits?.get(0);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * `value` with each literal of `edit` set as its raw JSON, in place; iterative, as the scan. With
 * `within`, only inside a member of a top-level object that `within` names and that is an object;
 * the keys are checked everywhere. Only a number the literal makes is replaced, and only an object
 * or array is entered.
 * @throws {MisreadKeyError} where a key of `edit` is not an own key: `JSON.parse` misread it.
 */
function withRaw(value: unknown, edit: Edit, within?: ReadonlySet<string>): unknown {
  if (typeof edit === "string") return within ? value : rawNumber(edit);
  if (edit === OWN_KEY) return value;
  const sections = within !== undefined && isObject(value) ? within : undefined;
  const pending: Array<[Record<string | number, unknown>, Edits, boolean]> = [[
    value as Record<string, unknown>,
    edit,
    within === undefined,
  ]];
  while (pending.length) {
    const [target, edits, exact] = pending.pop()!;
    for (const [key, inner] of edits) {
      if (!Object.hasOwn(target, key)) throw new MisreadKeyError(String(key));
      if (inner === OWN_KEY) continue;
      const current = target[key];
      if (typeof inner !== "string") {
        if (typeof current !== "object" || current === null) continue;
        const section = target === value && sections?.has(key as string) === true && isObject(current);
        pending.push([current as typeof target, inner, exact || section]);
      } else if (exact && current === Number(inner)) {
        // Assigned (defining took 3 times as long on 3,600 array elements), but for "__proto__",
        // which an assignment would take for the prototype.
        if (key === "__proto__") setOwn(target, key, rawNumber(inner));
        else target[key] = rawNumber(inner);
      }
    }
  }
  return value;
}

/**
 * `text` parsed as `JSON.parse` parses it, except that a number whose double is another value than
 * its literal is the {@link RawNumber} of that literal; with `within`, only one inside a member of a
 * top-level object that `within` names and that is an object (a request's field sections). Throws
 * as `JSON.parse` does, and {@link MisreadKeyError} where `JSON.parse` misread a key.
 */
export function parseExact(text: string, within?: ReadonlySet<string>): unknown {
  const value = JSON.parse(text);
  if (!MAY_CHANGE.test(text) && !text.includes("\\")) return value;
  const edit = lossyLiterals(text);
  return edit === undefined ? value : withRaw(value, edit, within);
}
