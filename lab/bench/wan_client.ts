/**
 * The load generator of the WAN scenario, run inside the generator's network
 * namespace (or on the host for the local comparison): the bench's load
 * generator and BedsClient, pointed at RabbitMQ through a given address.
 *
 * Usage: `deno run -A lab/bench/wan_client.ts CONFIG.json`; prints one JSON
 * line per phase.
 *
 * @module
 */
import { BedsClient, type RequestBody } from "../../src/client/mod.ts";
import type { AmqpConfig } from "../../src/config/mod.ts";
import { runLoad } from "./load.ts";
import { outcomeOf } from "./phase.ts";

/** One measured phase of the WAN client. */
export interface WanPhase {
  label: string;
  exchange: string;
  body: RequestBody;
  concurrency: number;
}

/** What the WAN client is told to do. */
export interface WanClientConfig {
  amqp: AmqpConfig;
  warmupMs: number;
  durationMs: number;
  phases: WanPhase[];
}

/** The numbers one phase reports. */
export interface WanResult {
  label: string;
  tps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  errors: number;
}

if (import.meta.main) {
  const config = JSON.parse(await Deno.readTextFile(Deno.args[0]!)) as WanClientConfig;
  for (const phase of config.phases) {
    const client = await BedsClient.connect({ amqp: { ...config.amqp, exchange: phase.exchange } });
    try {
      const load = await runLoad({
        spec: { mode: "closed", concurrency: phase.concurrency },
        send: () => client.request(phase.body).then(outcomeOf),
        warmupMs: config.warmupMs,
        durationMs: config.durationMs,
      });
      const ms = (p: number) => Math.round(load.histogram.getValueAtPercentile(p)) / 1000;
      const result: WanResult = {
        label: phase.label,
        tps: Math.round(load.tps),
        p50_ms: ms(50),
        p90_ms: ms(90),
        p99_ms: ms(99),
        errors: load.errors,
      };
      console.log(JSON.stringify(result));
    } finally {
      await client.close();
    }
  }
}
