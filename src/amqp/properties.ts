/**
 * Message properties BEDS sends back as they came. AMQP short strings
 * (`reply_to`, `correlation_id`, `message_id`, …) hold at most 255 bytes, and
 * amqplib throws on a longer one. A client's bytes that are not UTF-8 arrive
 * with U+FFFD in their place (three bytes each), so a property RabbitMQ
 * delivered can be too long to send back.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/**
 * `value` when it is a timestamp amqplib can write back, else undefined. amqplib reads the 64-bit
 * property as a number, so one near 2^64 arrives rounded up to 2^64, which it then refuses to
 * encode: a copy that kept it could never be stored.
 */
export function amqpTimestamp(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** `value` when it is a string that fits an AMQP short string, else undefined. */
export function shortString(value: unknown): string | undefined {
  return typeof value === "string" && (value.length <= 85 || Buffer.byteLength(value) <= 255)
    ? value
    : undefined;
}
