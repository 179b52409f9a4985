/**
 * The adapter's health from the driver's view of the deployment. Healthy
 * means a server that takes writes is known: a primary, a mongos, a
 * standalone or a load balancer. Secondaries alone do not count: without a
 * primary every write fails, and every read too unless the URL's
 * `readPreference` lets secondaries serve it.
 *
 * @module
 */

/** The parts of the driver's TopologyDescription this module reads. */
export interface TopologyLike {
  servers: ReadonlyMap<string, { type: string; isWritable: boolean }>;
}

/** What {@link topologyHealth} finds. */
export interface TopologyHealth {
  /** Whether a writable server is known. */
  healthy: boolean;
  /** Servers the driver has heard from (of any type but Unknown). */
  servers: number;
}

/** The health of a topology description. */
export function topologyHealth(description: TopologyLike): TopologyHealth {
  const known = [...description.servers.values()].filter((s) => s.type !== "Unknown");
  return { healthy: known.some((s) => s.isWritable), servers: known.length };
}
