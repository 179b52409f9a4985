/**
 * The BEDS client for TypeScript applications.
 *
 * @example
 * ```ts
 * import { BedsClient } from "./mod.ts";
 * import { loadConfig } from "../config/mod.ts";
 * const client = await BedsClient.connect({ amqp: loadConfig().amqp });
 * const reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
 * await client.close();
 * ```
 *
 * @module
 */
export { BedsClient } from "./client.ts";
export {
  BedsClientError,
  type BedsClientOptions,
  type ClientErrorKind,
  MAX_TIMEOUT_MS,
  type RequestBody,
  type RequestOptions,
} from "./types.ts";
export {
  createReconnectingClient,
  type ReconnectingClient,
  type ReconnectingClientOptions,
  type ReconnectingRequestOptions,
} from "./reconnecting.ts";
export { type AdminReply, type AdminRequest, sendAdminCommand } from "./admin.ts";
