/**
 * An interrupted soak run leaves nothing behind: on SIGINT it stops its node and removes its
 * schema, MariaDB account, queues, exchanges and config dir before exiting with 130.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import mariadb from "mariadb";
import { loadConfig } from "../../src/config/mod.ts";
import { adminExchangeName } from "../../src/amqp/mod.ts";
import { adminDb, allQueues, type SoakEnv } from "../../lab/soak/env.ts";

const AMQP_URL = "amqp://guest:guest@127.0.0.1:5672";

/** What the soak made for itself, read from its node's command line and config. */
interface SoakWorld {
  nodePid: number;
  configDir: string;
  schema: string;
  user: string;
  exchanges: string[];
  queues: string[];
}

async function worldOf(nodePid: number): Promise<SoakWorld> {
  const args = (await Deno.readTextFile(`/proc/${nodePid}/cmdline`)).split("\0");
  const configDir = args[args.indexOf("--config") + 1]!;
  const config = loadConfig({ dir: configDir, environ: { BEDS_ENV: "lab" } });
  const { work, retry, dead } = allQueues({ config } as SoakEnv);
  return {
    nodePid,
    configDir,
    schema: config.databases.mariadb!.schemas.lab!,
    user: config.databases.mariadb!.master.user,
    exchanges: [config.amqp.exchange, adminExchangeName(config.amqp.exchange)],
    queues: [...work, ...retry, ...dead],
  };
}

const alive = (pid: number) => {
  try {
    return !/^\S+ \(\S+\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
};

/** What of the world is still there. */
async function leftovers(w: SoakWorld): Promise<string[]> {
  const left: string[] = [];
  if (alive(w.nodePid)) left.push(`node pid ${w.nodePid}`);
  if (await Deno.stat(w.configDir).then(() => true, () => false)) left.push(w.configDir);
  const db = await mariadb.createConnection(adminDb());
  try {
    const schemas = await db.query("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [
      w.schema,
    ]);
    if (schemas.length) left.push(`schema ${w.schema}`);
    const users = await db.query("SELECT Host FROM mysql.user WHERE User = ?", [w.user]);
    for (const u of users as Array<{ Host: string }>) left.push(`account ${w.user}@${u.Host}`);
  } finally {
    await db.end();
  }
  const conn = await amqp.connect(AMQP_URL);
  try {
    // A passive check that fails closes its channel: one channel per check.
    const exists = async (check: (ch: amqp.Channel) => Promise<unknown>) => {
      const ch = await conn.createChannel();
      ch.on("error", () => {});
      const found = await check(ch).then(() => true, () => false);
      await ch.close().catch(() => {});
      return found;
    };
    for (const e of w.exchanges) if (await exists((ch) => ch.checkExchange(e))) left.push(`exchange ${e}`);
    for (const q of w.queues) if (await exists((ch) => ch.checkQueue(q))) left.push(`queue ${q}`);
  } finally {
    await conn.close().catch(() => {});
  }
  return left;
}

/** Removes whatever a soak that did not clean up left behind. */
async function removeWorld(w: SoakWorld): Promise<void> {
  if (alive(w.nodePid)) {
    Deno.kill(w.nodePid, "SIGKILL");
    while (alive(w.nodePid)) await new Promise((r) => setTimeout(r, 100));
  }
  await Deno.remove(w.configDir, { recursive: true }).catch(() => {});
  const db = await mariadb.createConnection(adminDb());
  try {
    await db.query(`DROP DATABASE IF EXISTS \`${w.schema}\``);
    for (const host of ["%", "localhost"]) await db.query(`DROP USER IF EXISTS '${w.user}'@'${host}'`);
  } finally {
    await db.end();
  }
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of w.queues) await ch.deleteQueue(q);
    for (const e of w.exchanges) await ch.deleteExchange(e);
    await ch.close();
  } finally {
    await conn.close().catch(() => {});
  }
}

Deno.test("soak: SIGINT stops the node and removes everything the run created", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "lab/soak.ts",
      "--seconds",
      "300",
      "--concurrency",
      "2",
      "--amqp-kill-every",
      "0",
      "--db-kill-every",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stdout = "";
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) stdout += chunk;
  })();
  const stderr = new Response(child.stderr).text();
  let world: SoakWorld | undefined;
  try {
    // The start line names the node's pid once its consumers are attached.
    const deadline = Date.now() + 90_000;
    let nodePid: number | undefined;
    while (nodePid === undefined) {
      nodePid = Number(/soak: .* \(pid (\d+)\)/.exec(stdout)?.[1]) || undefined;
      if (Date.now() > deadline) throw new Error(`the soak did not start:\n${stdout}\n${await stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    world = await worldOf(nodePid);
    // What the checks below must find gone is there to begin with.
    const before = await leftovers(world);
    for (
      const thing of [
        `node pid ${nodePid}`,
        world.configDir,
        `schema ${world.schema}`,
        `account ${world.user}@%`,
        `exchange ${world.exchanges[0]}`,
        `queue ${world.queues[0]}`,
      ]
    ) assert.ok(before.includes(thing), `${thing} in ${before.join(", ")}`);
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const status = await child.status;
    clearTimeout(timer);
    await reading;
    assert.deepEqual(await leftovers(world), [], `${stdout}\n${await stderr}`);
    assert.equal(status.code, 130);
    assert.match(stdout, /interrupted; stopping the node, cleaning up/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await reading.catch(() => {});
    await stderr.catch(() => {});
    if (world) await removeWorld(world);
    const nodeLog = /; node log (\S+)/.exec(stdout)?.[1];
    if (nodeLog) await Deno.remove(nodeLog).catch(() => {});
  }
});
