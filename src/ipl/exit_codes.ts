/**
 * Exit codes of failed IPL steps (2 is CLI usage, 1 anything else), one per
 * step so a supervisor can tell from the code alone what stopped a node.
 *
 * @module
 */

/** Exit codes of failed IPL steps (2 is CLI usage, 1 anything else). */
export const EXIT_CODES = {
  config: 10,
  reachability: 11,
  amqp_auth: 12,
  topology: 13,
  db_pools: 14,
  templates_load: 15,
  templates_verify: 16,
  broker_pool: 17,
  logstore: 18,
  http: 19,
  gateway: 20,
  admin_link: 21,
} as const;
