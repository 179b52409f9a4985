/**
 * What a client puts on the wire for a request: its routing key and its
 * JSON body. Each refuses, with a `TypeError` and before anything is sent,
 * a request AMQP or JSON cannot carry.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { routingKey } from "../protocol/mod.ts";
import type { RequestBody } from "./types.ts";

/** AMQP's longest routing key (a short string), in bytes. */
const MAX_ROUTING_KEY_BYTES = 255;

/**
 * `<op>.<template>`. @throws {TypeError} when it is over 255 bytes: amqplib would throw as it
 * publishes, which the client could not tell from a channel that closed.
 */
export function routingKeyOf(body: RequestBody): string {
  const key = routingKey(body.op, body.template);
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_ROUTING_KEY_BYTES) {
    throw new TypeError(
      `Cannot send ${
        key.slice(0, 40)
      }…: its routing key is ${bytes} bytes, AMQP carries at most ${MAX_ROUTING_KEY_BYTES}`,
    );
  }
  return key;
}

/**
 * The request's JSON with its deadline: the caller's `deadline_ms`, else `timeoutMs` from now (a
 * `deadline_ms: undefined` in the body does not take the computed one away).
 */
export function encodeWithDeadline(body: RequestBody, timeoutMs: number): Buffer {
  return encodeBody(body, { ...body, deadline_ms: body.deadline_ms ?? Date.now() + timeoutMs });
}

/** The request's JSON bytes. @throws {TypeError} naming the request when JSON cannot hold a value. */
export function encodeBody(body: RequestBody, json: object): Buffer {
  try {
    return Buffer.from(JSON.stringify(json));
  } catch (error) {
    throw new TypeError(
      `Cannot send ${body.op}.${body.template}: its body is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
