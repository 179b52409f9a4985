/**
 * HTTP load through the gateway: autocannon drives `POST /v1/<template>/<op>`
 * (by default reads of customers by key, cycling through the ids) for a
 * fixed time and prints requests per second and latency percentiles. Not a
 * test: start an appServer and a gateway node first (lab/README.md).
 *
 *   deno task lab:http-load --duration 10 --connections 50
 *
 * @module
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const USAGE = `usage: deno task lab:http-load [options]
  --url URL          gateway base URL (default http://127.0.0.1:8080)
  --template NAME    template (default cus)
  --op OP            operation (default read)
  --ids A-B          key ids to cycle through (default 1-20; "none" sends {})
  --duration S       seconds to run (default 10)
  --connections N    concurrent connections (default 50)
  --pipelining N     requests in flight per connection (default 1)
  --allow-remote     allow a gateway that is not on this machine`;

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;

function intFlag(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`);
  }
  return n;
}

function idRange(text: string): number[] {
  if (text === "none") return [];
  const match = /^(\d+)-(\d+)$/.exec(text);
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new Error(`--ids must look like 1-20, got "${text}"`);
  }
  const [from, to] = [Number(match[1]), Number(match[2])];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8080" },
      template: { type: "string", default: "cus" },
      op: { type: "string", default: "read" },
      ids: { type: "string", default: "1-20" },
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "50" },
      pipelining: { type: "string", default: "1" },
      "allow-remote": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = new URL(values.url);
  if (!LOOPBACK.test(base.hostname) && !values["allow-remote"]) {
    throw new Error(`${base.hostname} is not this machine; pass --allow-remote to load a remote gateway`);
  }
  const duration = intFlag("duration", values.duration, 1);
  const connections = intFlag("connections", values.connections, 1);
  const pipelining = intFlag("pipelining", values.pipelining, 1);
  const ids = idRange(values.ids);
  const url = new URL(`/v1/${values.template}/${values.op}`, base).href;
  const bodyOf = (i: number) => JSON.stringify(ids.length ? { key: { id: ids[i % ids.length] } } : {});

  // One request first: a gateway that is down or a template that is wrong shows up before the run.
  const probe = await fetch(url, {
    method: "POST",
    body: bodyOf(0),
    headers: { "content-type": "application/json" },
  });
  const probeText = await probe.text();
  console.log(`probe: ${probe.status} ${probeText.slice(0, 160)}`);
  if (probe.status !== 200) throw new Error(`probe answered ${probe.status}; is an appServer node running?`);

  console.log(`POST ${url} for ${duration} s, ${connections} connections × ${pipelining} pipelined`);
  let sent = 0;
  const result = await autocannon({
    url,
    duration,
    connections,
    pipelining,
    requests: [{
      method: "POST",
      headers: { "content-type": "application/json" },
      setupRequest: (request: Record<string, unknown>) => ({ ...request, body: bodyOf(sent++) }),
    }],
  });
  const l = result.latency;
  const r = result.requests;
  console.log(`requests  ${result.requests.total} in ${result.duration.toFixed(1)} s`);
  console.log(
    `rps       avg ${r.average.toFixed(0)}  stddev ${r.stddev.toFixed(0)}  min ${r.min}  max ${r.max}`,
  );
  console.log(
    `latency   p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p99_9} ms  max ${l.max} ms  avg ${
      l.average.toFixed(2)
    } ms`,
  );
  console.log(
    `answers   2xx ${
      result["2xx"]
    }  non-2xx ${result.non2xx}  errors ${result.errors}  timeouts ${result.timeouts}`,
  );
  return result.non2xx || result.errors ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(`http_load: ${(error as Error).message}`);
    Deno.exit(2);
  }
}
