/**
 * A client that sends nothing but bodies that are no request has every one dead-lettered, and
 * cannot make the node write a log line per body (which, through the admin role's system log,
 * would also push other nodes' lines out): a few lines, counting those since the last.
 */
import assert from "node:assert/strict";
import { deadLetterQueueName } from "../../src/amqp/names.ts";
import {
  consumerCount,
  createTestEnv,
  openRawAmqp,
  readyCount,
  ROOT,
  waitFor,
  workQueues,
} from "../helpers/services.ts";

const encoder = new TextEncoder();

Deno.test("300 bodies that are no request: 300 dead letters, a log line per consumer", async () => {
  const env = await createTestEnv();
  // A process of its own: the node's log lines go to its stdout, which the test reads.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--node", "appServer", ...env.cliArgs],
    env: { BEDS_LOG_LEVEL: "warn" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  const raw = await openRawAmqp(env);
  try {
    const [reads] = workQueues(env).filter((queue) => queue.endsWith("rBroker"));
    assert.ok(reads);
    await waitFor(async () => await consumerCount(reads) === 2, 20_000, "the node's read consumers");
    const dlq = deadLetterQueueName(reads);
    for (let i = 0; i < 300; i++) raw.publish("read.cus", encoder.encode(`not json ${i}`));
    await waitFor(async () => await readyCount(dlq) === 300, 10_000, "300 dead letters");
  } finally {
    await raw.close();
    child.kill("SIGTERM");
    const { code, stdout, stderr } = await output;
    await env.cleanup();
    const log = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, log);
    const lines = log.split("\n").filter((line) => line.includes(`"msg":"request dead-lettered"`));
    // Both read consumers' first letter; the rest come within 10 s and are counted in their next line.
    assert.ok(lines.length >= 1 && lines.length <= 2, `${lines.length} lines for 300 dead letters`);
    for (const line of lines) assert.match(line, /"reason":"poison".*"count":1\b/);
  }
});
