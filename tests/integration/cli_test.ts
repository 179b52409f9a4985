import assert from "node:assert/strict";
import { loadLabSchema } from "../../lab/db.ts";
import {
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
