/**
 * A/B check of one hot-path idea: the raw AMQP echo with plain amqplib vs
 * the same echo with its socket corked while amqplib's multiplexer flushes
 * (see `corkMuxer` in raw_service.ts). Prints throughput and CPU per
 * transaction of each, two rounds interleaved.
 *
 * Usage: `deno run -A lab/bench/cork_check.ts [--duration 4000]`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { BedsClient } from "../../src/client/mod.ts";
import { createBenchEnv } from "./env.ts";
import { outcomeOf, runPhase } from "./phase.ts";
import { rawQueuesLike, startRawService } from "./raw_process.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { duration: { type: "string", default: "4000" } },
  });
  const env = await createBenchEnv({ logstore: "off" });
  try {
    for (const round of [1, 2]) {
      for (const cork of [false, true]) {
        const tag = `cork${Number(cork)}r${round}`;
        const exchange = `${env.config.amqp.exchange}.raw.${tag}`;
        env.rawExchanges.add(exchange);
        const service = await startRawService(env, {
          mode: "echo",
          amqpUrl: env.amqpUrl,
          exchange,
          queues: rawQueuesLike(env, tag),
          replyBytes: { "read.cus": 250 },
          cork,
        });
        const client = await BedsClient.connect({ amqp: { ...env.config.amqp, exchange } });
        try {
          const r = await runPhase({
            spec: { mode: "closed", concurrency: 32 },
            send: () => client.request({ template: "cus", op: "read", key: { id: 1 } }).then(outcomeOf),
            warmupMs: 1000,
            durationMs: Number(values.duration),
            pids: [service.pid],
          });
          console.log(
            `round ${round} cork=${cork}: ${r.tps} tps, echo ${r.cpu_us_per_tx} µs/tx, ` +
              `client ${r.client_cpu_us_per_tx} µs/tx, rabbitmq ${r.rabbitmq_cpu_us_per_tx} µs/tx, p50 ${r.p50_ms} ms`,
          );
        } finally {
          await client.close();
          await service.stop();
        }
      }
    }
  } finally {
    await env.cleanup();
  }
}
