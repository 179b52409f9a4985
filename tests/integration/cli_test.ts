import assert from "node:assert/strict";
import amqp from "amqplib";
import mariadb from "mariadb";
import { loadLabSchema } from "../../lab/db.ts";
import {
  AMQP_URL,
  cli,
  consumerCount,
  createTestEnv,
  dbQuery,
  ROOT,
  startNode,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { expectOk } from "../helpers/replies.ts";

Deno.test("the CLI calls a running node and checks templates against the database", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", "cli-node");
  try {
    await t.step("call cus read by key prints the reply and exits 0", async () => {
      const run = await cli(["call", "cus", "read", "--key", '{"id":1}', ...env.cliArgs]);
      assert.equal(run.code, 0, run.err);
      const reply = JSON.parse(run.out);
      assert.equal(reply.ok, true);
      assert.equal(reply.data.email, "ana.garcia@example.com");
      assert.equal(reply.meta.node, "cli-node");
    });

    await t.step("call with where, order and limit passes them on", async () => {
      const run = await cli([
        "call",
        "cus",
        "read",
        "--where",
        '{"status":"suspended"}',
        // "--order -id" would read "-id" as a flag: a leading "-" needs the = form
        "--order=-id",
        "--limit",
        "1",
        ...env.cliArgs,
      ]);
      assert.equal(run.code, 0, run.err);
      assert.deepEqual(JSON.parse(run.out).data.map((r: { id: number }) => r.id), [19]);
    });

    await t.step("call of a missing key exits 1 with NOT_FOUND", async () => {
      const run = await cli(["call", "cus", "read", "--key", '{"id":999999}', ...env.cliArgs]);
      assert.equal(run.code, 1);
      assert.match(run.out, /NOT_FOUND/);
      assert.equal(JSON.parse(run.out).error.code, "NOT_FOUND");
    });

    await t.step("call with a malformed flag is a usage error (exit 2)", async () => {
      const run = await cli(["call", "cus", "read", "--key", "{id:1}", ...env.cliArgs]);
      assert.equal(run.code, 2);
      assert.match(run.err, /--key is not valid JSON/);
    });

    await t.step("check passes against the lab schema", async () => {
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, /check passed/);
      assert.match(run.out, /templates_verify/);
    });

    await t.step("check fails with exit 16 when a named procedure is missing", async () => {
      await dbQuery(env, "DROP PROCEDURE sp_cus_delete");
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 16, run.out + run.err);
      assert.match(run.out, /check failed: templates_verify/);
      const line = run.out.split("\n").find((l) =>
        l.includes('template "cus"') && l.includes("ops.delete.procedure")
      );
      assert.ok(line, `no problem line for cus ops.delete.procedure in:\n${run.out}`);
      assert.match(line, new RegExp(`procedure "${env.schema}\\.sp_cus_delete" does not exist`));
    });

    await t.step("check fails with exit 16 when a procedure's parameter count differs", async () => {
      await dbQuery(
        env,
        `CREATE PROCEDURE sp_cus_delete(IN p_id INT UNSIGNED, IN p_force BOOLEAN)
         MODIFIES SQL DATA
         DELETE FROM customers WHERE id = p_id`,
      );
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 16, run.out + run.err);
      const line = run.out.split("\n").find((l) =>
        l.includes('template "cus"') && l.includes("ops.delete.procedure")
      );
      assert.ok(line, `no problem line for cus ops.delete.procedure in:\n${run.out}`);
      assert.match(line, /sp_cus_delete" takes 2 parameters, the template passes 1/);
    });

    await t.step("check passes again once the DBA scripts are re-applied", async () => {
      await loadLabSchema({ schema: env.schema });
      const run = await cli(["check", ...env.cliArgs]);
      assert.equal(run.code, 0, run.out + run.err);
      assert.match(run.out, /check passed/);
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("deno run src/main.ts run serves requests and exits 0 on SIGTERM", async () => {
  const env = await createTestEnv();
  const instance = `sub-${env.id}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/main.ts", "run", "--node", "appServer", "--instance", instance, ...env.cliArgs],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  output.finally(() => exited = true);
  try {
    await waitFor(
      async () => {
        if (exited) {
          const { stderr } = await output;
          throw new Error(`node exited early: ${new TextDecoder().decode(stderr)}`);
        }
        for (const queue of workQueues(env)) if (await consumerCount(queue) < 1) return false;
        return true;
      },
      20_000,
      "the subprocess node's consumers",
    );

    const client = await env.client();
    const reply = await client.request({ template: "cus", op: "read", key: { id: 2 } });
    assert.equal(expectOk(reply).email, "liam.oconnor@example.com");
    assert.equal(reply.meta.node, instance);

    const sent = performance.now();
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      output,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("node did not exit within 5 s of SIGTERM")), 5000);
      }),
    ]).finally(() => clearTimeout(timer));
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    assert.ok(performance.now() - sent < 5000);
    assert.equal(await consumerCount(workQueues(env)[0]!), 0, "its consumers are gone");
  } finally {
    if (!exited) {
      child.kill("SIGKILL");
      await output.catch(() => {});
    }
    await env.cleanup();
  }
});

/** Spawns `deno run -A src/main.ts ARGS` with its output collected. */
function spawnBeds(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "src/main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  output.finally(() => exited = true);
  return {
    child,
    exited: () => exited,
    /** Its exit code, or a failure when it has not exited within `ms`. */
    async code(ms: number, what: string): Promise<number> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        output,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms);
        }),
      ]).finally(() => clearTimeout(timer));
      return result.code;
    },
    async kill(): Promise<void> {
      if (!exited) child.kill("SIGKILL");
      await output.catch(() => {});
    },
  };
}

Deno.test("a command that does not stop by itself ends at once on SIGHUP (129), SIGINT (130) or SIGTERM (143)", async () => {
  const env = await createTestEnv();
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  // A stand-in for the read broker's queue that no one consumes: the request waits for its reply.
  const queue = `${env.queuePrefix}unanswered`;
  try {
    await ch.assertExchange(env.exchange, "topic", { durable: true });
    await ch.assertQueue(queue);
    await ch.bindQueue(queue, env.exchange, "read.*");
    for (const [signal, expected] of [["SIGHUP", 129], ["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const call = spawnBeds([
        "call",
        "cus",
        "read",
        "--key",
        '{"id":1}',
        "--timeout",
        "60000",
        ...env.cliArgs,
      ]);
      try {
        await waitFor(
          async () => {
            if (call.exited()) throw new Error(`beds call exited early with ${await call.code(0, "")}`);
            return (await ch.checkQueue(queue)).messageCount === 1;
          },
          20_000,
          "the request",
        );
        call.child.kill(signal);
        assert.equal(await call.code(5000, `beds call after ${signal}`), expected);
      } finally {
        await call.kill();
        await ch.purgeQueue(queue);
      }
    }
  } finally {
    await ch.deleteQueue(queue).catch(() => {});
    await conn.close().catch(() => {});
    await env.cleanup();
  }
});

Deno.test("run drains on the first signal and ends on a second one during its drain", async () => {
  const env = await createTestEnv({ extraToml: "\n[node]\ndrain_ms = 60000\n" });
  const instance = `drain-${env.id}`;
  const node = spawnBeds(["run", "--node", "appServer", "--instance", instance, ...env.cliArgs]);
  // A lock held here keeps the node's update waiting: a request in flight that its drain waits for.
  const db = await mariadb.createConnection({
    host: "127.0.0.1",
    user: "root",
    password: "",
    database: env.schema,
  });
  try {
    await waitFor(
      async () => {
        if (node.exited()) throw new Error(`node exited early with ${await node.code(0, "")}`);
        for (const queue of workQueues(env)) if (await consumerCount(queue) < 1) return false;
        return true;
      },
      20_000,
      "the subprocess node's consumers",
    );
    await db.beginTransaction();
    await db.query("SELECT id FROM customers WHERE id = 1 FOR UPDATE");
    const client = await env.client();
    void client.request(
      { template: "cus", op: "update", key: { id: 1 }, data: { name: "Held" } },
      { timeoutMs: 60_000 },
    ).catch((error) => error);
    await waitFor(
      async () => {
        const rows = await dbQuery<Array<{ n: number }>>(
          env,
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST" +
            " WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE '%sp_cus_update%'",
          [env.schema],
        );
        return Number(rows[0]!.n) >= 1;
      },
      10_000,
      "the update to be running",
    );

    // One stop request delivered twice at once, as `deno task` forwards a Ctrl-C the node also gets.
    node.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 20));
    node.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(node.exited(), false, "the first signal drains: the update in flight is waited for");
    node.child.kill("SIGINT");
    assert.equal(await node.code(5000, "run after a second signal"), 130);
  } finally {
    await db.rollback().catch(() => {});
    await db.end().catch(() => {});
    await node.kill();
    await env.cleanup();
  }
});
