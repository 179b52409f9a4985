/**
 * Decimal values as text, compared and written exactly: a `decimal` field's values never pass
 * through a double.
 *
 * @module
 */
import { literalParts, type RawNumber } from "../protocol/number_literals.ts";

/** As many digits as MariaDB's widest DECIMAL holds: 65 before the point, 30 after it. */
export const DECIMAL_WHOLE = 65;
export const DECIMAL_FRACTION = 30;
export const DECIMAL = new RegExp(`^-?\\d{1,${DECIMAL_WHOLE}}(\\.\\d{1,${DECIMAL_FRACTION}})?$`);

/**
 * A number literal a double would change as decimal text: as sent when it is one already
 * (`1234567890.123456789012`), else in plain notation (`1.5e-20`); undefined past the digits of a
 * DECIMAL (`1e400`).
 */
export function rawDecimal(raw: RawNumber): string | undefined {
  if (DECIMAL.test(raw.rawJSON)) return raw.rawJSON;
  const { negative, digits, exponent } = literalParts(raw.rawJSON)!;
  const whole = digits.length + exponent; // digits before the point
  if (whole > DECIMAL_WHOLE || -exponent > DECIMAL_FRACTION) return undefined;
  const sign = negative ? "-" : "";
  if (exponent >= 0) return `${sign}${digits}${"0".repeat(exponent)}`;
  if (whole <= 0) return `${sign}0.${"0".repeat(-whole)}${digits}`;
  return `${sign}${digits.slice(0, whole)}.${digits.slice(whole)}`;
}

/**
 * A finite number in plain notation: JavaScript writes 0.00000001 and 1e21 in exponent form, which
 * is no decimal text. The digits are the shortest that read back as the same number, as `String`'s.
 */
export function plainNumber(n: number): string {
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, first, rest = "", exponent] = m;
  const digits = first! + rest;
  const point = 1 + Number(exponent); // digits before the decimal point
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * `text` as one canonical decimal text (no sign on zero, no leading or trailing zeros), so that equal
 * values are equal texts: `1.50` and `01.5` are `1.5`.
 */
export function canonicalDecimal(text: string): string {
  const negative = text.startsWith("-");
  const [int = "", fraction = ""] = (negative ? text.slice(1) : text).split(".");
  const whole = int.replace(/^0+(?=\d)/, "");
  const part = fraction.replace(/0+$/, "");
  const digits = part ? `${whole}.${part}` : whole;
  return negative && /[1-9]/.test(digits) ? `-${digits}` : digits;
}

/** Compares two decimal texts exactly (no rounding to a double): negative, zero or positive. */
export function compareDecimal(a: string, b: string): number {
  const [x, y] = [canonicalDecimal(a), canonicalDecimal(b)];
  const [negX, negY] = [x.startsWith("-"), y.startsWith("-")];
  if (negX !== negY) return negX ? -1 : 1;
  const [xi = "", xf = ""] = x.replace("-", "").split(".");
  const [yi = "", yf = ""] = y.replace("-", "").split(".");
  const scale = Math.max(xf.length, yf.length);
  const magnitude = (i: string, f: string) => BigInt(i + f.padEnd(scale, "0"));
  const diff = magnitude(xi, xf) - magnitude(yi, yf);
  const sign = diff > 0n ? 1 : diff < 0n ? -1 : 0;
  return negX ? -sign : sign;
}

/** A bound or enum value of the template as decimal text. */
export function decimalText(value: unknown): string {
  return typeof value === "number" ? plainNumber(value) : String(value);
}
