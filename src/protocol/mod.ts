/**
 * The wire contract: request and reply envelopes, routing keys and event
 * ids. See docs/protocol.md.
 *
 * @example
 * ```ts
 * import { decodeRequest } from "./mod.ts";
 * const body = new TextEncoder().encode('{"template":"cus","op":"read"}');
 * console.log(decodeRequest(body, 65536).template);
 * ```
 *
 * @module
 */
export {
  checkRequest,
  type DecodeOptions,
  decodeRequest,
  FIELD_NAME,
  type Request,
  requestSchema,
  routingKey,
  TEMPLATE_NAME,
} from "./request.ts";
export { type ErrorReply, errorReply, type OkReply, okReply, type Reply, type ReplyMeta } from "./reply.ts";
export {
  chainRange,
  chainRoot,
  createEventIds,
  EVENT_ID_PATTERN,
  type EventIdOptions,
  type EventIds,
  inChain,
  MAX_PARENT_LENGTH,
  MAX_PARENT_PARTS,
  MAX_RETRIED_EVENT_LENGTH,
  parentId,
} from "./event_id.ts";
