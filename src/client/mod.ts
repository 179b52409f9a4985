/**
 * The BEDS client for TypeScript applications.
 *
 * @example
 * ```ts
 * import { BedsClient, type Reply } from "./mod.ts";
 * import { loadConfig } from "../config/mod.ts";
 * // BEDS_ENV and the BEDS_AMQP_* secrets come from the environment only when passed.
 * const config = loadConfig({ environ: Deno.env.toObject() });
 * const client = await BedsClient.connect({ amqp: config.amqp });
 * const reply: Reply = await client.request({ template: "cus", op: "read", key: { id: 1 } });
 * if (!reply.ok) console.error(reply.error.code, reply.error.message);
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
export type { ErrorReply, OkReply, Reply, ReplyMeta } from "../protocol/mod.ts";
export type { ErrorBody, ErrorCode } from "../errors.ts";
export type { Op } from "../config/mod.ts";
