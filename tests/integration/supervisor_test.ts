/**
 * The AMQP supervisor on the real broker: one reconnect loop at a time, so
 * a connection lost while a reconnect runs its setups never leaves a second
 * connection behind, stop() during a reconnect leaves none open, and a
 * blocked connection that is lost takes its blocked state with it.
 */
import assert from "node:assert/strict";
import { type AmqpConnection, type AmqpStatus, createAmqpSupervisor } from "../../src/amqp/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { ROOT, uniqueId, waitFor } from "../helpers/services.ts";

/** Open connections whose name contains `name`, as RabbitMQ lists them. */
async function openConnections(name: string): Promise<number> {
  const out = await new Deno.Command("rabbitmqctl", {
    args: ["list_connections", "client_properties", "-q", "--no-table-headers"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  return lines.filter((line) => /\{"connection_name","([^"]*)"\}/.exec(line)?.[1]?.includes(name)).length;
}

/** A supervisor on the test broker under a name of its own, recording every status it reports. */
function supervised(delayMs: { initial: number; max: number }) {
  const config = loadConfig({ dir: `${ROOT}/config`, environ: { BEDS_ENV: "test" } });
  const name = `sup-${uniqueId()}`;
  const statuses: AmqpStatus[] = [];
  const supervisor = createAmqpSupervisor({
    config: { ...config.amqp, user: "guest", pass: "guest" },
    name,
    onStatus: (s) => statuses.push(s),
    initialDelayMs: delayMs.initial,
    maxDelayMs: delayMs.max,
  });
  return { name, statuses, supervisor };
}

Deno.test("a connection lost while a reconnect runs its setups is retried by that one loop", async () => {
  const { name, statuses, supervisor } = supervised({ initial: 20, max: 100 });
  let calls = 0;
  try {
    const first = await supervisor.start();
    await supervisor.addSetup(async (conn: AmqpConnection) => {
      calls++;
      // The first reconnect's setup: its connection is lost under it, and the setup fails.
      if (calls === 2) {
        await conn.close();
        throw new Error("setup failed: connection lost");
      }
    });
    await first.close(); // lost, as far as the supervisor knows
    await waitFor(
      () => Promise.resolve(statuses.some((s) => s.type === "connected" && s.attempt >= 2)),
      10_000,
      "a reconnect",
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // a second loop would connect meanwhile
    assert.equal(await openConnections(name), 1);
    assert.equal(calls, 3, "one setup per connection: the first, the lost one, the one that stayed");
    assert.equal(supervisor.reconnects(), 1);
  } finally {
    await supervisor.stop();
  }
  assert.equal(await openConnections(name), 0);
});

Deno.test("stop() while a reconnect runs its setups leaves no connection open and reports nothing after closed", async () => {
  const { name, statuses, supervisor } = supervised({ initial: 50, max: 50 });
  const first = await supervisor.start();
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  let calls = 0;
  await supervisor.addSetup(async () => {
    if (++calls === 2) await held; // the reconnect's setup is still running when stop() comes
  });
  await first.close();
  await waitFor(() => Promise.resolve(calls === 2), 10_000, "the reconnect's setup");
  await supervisor.stop();
  release(); // the setup ends only now, after stop()
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(await openConnections(name), 0);
  assert.equal(statuses.at(-1)?.type, "closed", statuses.map((s) => s.type).join(" "));
});

Deno.test("a connection lost while RabbitMQ blocks it reports unblocked, so the blocked state ends with it", async () => {
  const { statuses, supervisor } = supervised({ initial: 20, max: 100 });
  try {
    const first = await supervisor.start();
    // What amqplib emits on RabbitMQ's connection.blocked; a real resource alarm would block
    // every other user of the shared broker.
    first.emit("blocked", "low on memory");
    await first.close();
    await waitFor(
      () => Promise.resolve(statuses.some((s) => s.type === "connected" && s.attempt >= 1)),
      10_000,
      "a reconnect",
    );
    const types = statuses.map((s) => s.type);
    assert.deepEqual(
      types.slice(0, 4),
      ["connected", "blocked", "unblocked", "disconnected"],
      types.join(" "),
    );
    assert.equal(types.filter((t) => t === "blocked").length, 1);
  } finally {
    await supervisor.stop();
  }
});

Deno.test("a setup added while a reconnect runs its setups runs once, after them, on the new connection", async () => {
  const { statuses, supervisor } = supervised({ initial: 20, max: 100 });
  const ran: string[] = [];
  try {
    const first = await supervisor.start();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    let calls = 0;
    await supervisor.addSetup(async () => {
      ran.push(`a${++calls}`);
      if (calls === 2) await held; // the reconnect's first setup is still running
    });
    await first.close();
    await waitFor(() => Promise.resolve(calls === 2), 10_000, "the reconnect's first setup");
    const added = supervisor.addSetup(() => {
      ran.push("b");
      return Promise.resolve();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(ran, ["a1", "a2"], "nothing runs before the setups already registered");
    release();
    await added;
    assert.deepEqual(ran, ["a1", "a2", "b"]);
    assert.ok(statuses.some((s) => s.type === "connected" && s.attempt >= 1));
  } finally {
    await supervisor.stop();
  }
});
