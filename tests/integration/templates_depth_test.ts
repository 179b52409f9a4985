/**
 * Templates in depth on the real database: REL fan-out, atomic TXN
 * templates, and live reload under load.
 */
import assert from "node:assert/strict";
import { copy, templatesWith, templatesWithDateTimeRel } from "../helpers/files.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { cli, consumerCount, createTestEnv, dbQuery, ROOT, startNode, waitFor } from "../helpers/services.ts";
import { workQueueName } from "../../src/amqp/mod.ts";
import { runLoad } from "../helpers/faults.ts";

type Ok = Extract<Reply, { ok: true }>;

Deno.test("REL fan-out runs parts as child events and applies required/optional semantics", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env);
  try {
    const client = await env.client();
    await t.step("parts run concurrently, a dependent part waits for its input", async () => {
      const reply = await client.request({ template: "cov", op: "read", key: { id: 1 } }) as Ok;
      assert.equal(reply.ok, true);
      const data = reply.data as Record<string, unknown>;
      assert.equal((data.customer as { email: string }).email, "ana.garcia@example.com");
      const orders = data.orders as Array<{ id: number }>;
      assert.ok(orders.length >= 1);
      assert.equal((data.latest as { id: number }).id, orders[0]!.id, "latest read the newest order's key");
      assert.equal(typeof data.total, "string");
      const parts = reply.meta.parts as Record<string, { event: string; ms: number }>;
      assert.deepEqual(Object.keys(parts).sort(), ["customer", "latest", "orders", "total"]);
      for (const p of Object.values(parts)) {
        assert.ok(p.event.startsWith(`${reply.meta.event}.`), "each part is a child event of the request");
      }
    });
    await t.step("a failing optional part yields null and an error entry", async () => {
      const reply = await client.request({ template: "cov", op: "read", key: { id: 20 } }) as Ok;
      assert.equal(reply.ok, true);
      const data = reply.data as Record<string, unknown>;
      assert.deepEqual(data.orders, []);
      assert.equal(data.latest, null);
      assert.deepEqual(reply.meta.errors, [
        {
          part: "latest",
          code: "NOT_FOUND",
          message: 'Field "id" takes "orders.id", which has no value (no row, or NULL)',
        },
      ]);
    });
    await t.step("a failing required part fails the request with its error", async () => {
      const reply = await client.request({ template: "cov", op: "read", key: { id: 999999 } });
      assert.equal(reply.ok, false);
      assert.equal(!reply.ok && reply.error.code, "NOT_FOUND");
      assert.match(!reply.ok ? reply.error.message : "", /^Part "customer" failed: /);
      assert.deepEqual(!reply.ok && (reply.error.details as { part: string }).part, "customer");
    });
    await t.step("the lab dashboard fans out to 24 database calls", async () => {
      const reply = await client.request({ template: "dsh", op: "read" }) as Ok;
      assert.equal(reply.ok, true);
      assert.equal(Object.keys(reply.data as object).length, 24);
      assert.equal(Object.keys(reply.meta.parts!).length, 24);
    });
    await t.step("bad REL input is rejected", async () => {
      const r1 = await client.request({ template: "cov", op: "read" });
      assert.equal(!r1.ok && r1.error.code, "VALIDATION");
      const r2 = await client.request({ template: "cov", op: "read", key: { id: "1 OR 1=1" } });
      assert.equal(!r2.ok && r2.error.code, "VALIDATION");
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a date-time one part read feeds a later part's date-time field", async () => {
  // The driver reads DATETIME columns as Date objects; a part's values must reach the next part in
  // the form a client would send them (ISO 8601 text), or its field check refuses them.
  const dir = await templatesWithDateTimeRel(ROOT);
  const env = await createTestEnv({ templatesDir: dir });
  const node = await startNode(env);
  try {
    const client = await env.client();
    const reply = await client.request({ template: "cdt", op: "read", key: { id: 1 } });
    assert.ok(reply.ok, JSON.stringify(reply));
    const data = reply.data as {
      first: { id: number; created_at: string };
      same_time: Array<{ id: number }>;
    };
    assert.match(data.first.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.ok(data.same_time.some((row) => row.id === 1), JSON.stringify(data.same_time));
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a BOOLEAN column one part read feeds a later part's boolean field", async () => {
  // MariaDB's BOOLEAN is TINYINT(1), which the driver reads as 1 or 0: the next part's boolean check
  // must take it, as it takes what a client read and sends back.
  const dir = await templatesWith(ROOT, {
    "flg_rec.toml": `[template]
name = "flg"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
min = 1

[fields.active]
type = "boolean"

[ops.read]
view = "v_flags"
key = ["id"]
where = ["active"]
order = ["id"]
`,
    "fls_rel.toml": `[template]
name = "fls"
kind = "rel"

[fields.id]
type = "int"
min = 1

[input]
key = ["id"]

[parts.first]
template = "flg"
key = { id = "$key.id" }

[parts.alike]
template = "flg"
where = { active = "$parts.first.active" }
order = ["id"]
`,
  });
  const env = await createTestEnv({ templatesDir: dir });
  await dbQuery(env, "CREATE TABLE flags (id INT PRIMARY KEY, active BOOLEAN NOT NULL)");
  await dbQuery(env, "INSERT INTO flags VALUES (1, TRUE), (2, FALSE), (3, TRUE)");
  await dbQuery(env, "CREATE VIEW v_flags AS SELECT id, active FROM flags");
  const node = await startNode(env);
  try {
    const client = await env.client();
    const ids = async (id: number) => {
      const reply = await client.request({ template: "fls", op: "read", key: { id } });
      assert.ok(reply.ok, JSON.stringify(reply));
      const data = reply.data as { first: { active: unknown }; alike: Array<{ id: number }> };
      return { active: data.first.active, alike: data.alike.map((row) => row.id) };
    };
    assert.deepEqual(await ids(1), { active: 1, alike: [1, 3] });
    assert.deepEqual(await ids(2), { active: 0, alike: [2] });
    const direct = await client.request({ template: "flg", op: "read", where: { active: false } });
    assert.deepEqual(direct.ok && direct.data, [{ id: 2, active: 0 }]);
    const bad = await client.request({ template: "flg", op: "read", where: { active: 2 } });
    assert.equal(!bad.ok && bad.error.code, "VALIDATION");
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TXN templates are all-or-nothing on the real database", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env);
  const count = async (pattern: string) =>
    Number(
      ((await dbQuery(env, "SELECT COUNT(*) n FROM products WHERE sku LIKE ?", [pattern])) as Array<
        { n: number }
      >)[0]!.n,
    );
  try {
    const client = await env.client();
    await t.step(
      "every step applies, results come back in order, a step uses an earlier result",
      async () => {
        const reply = await client.request({
          template: "cat",
          op: "create",
          data: { a_sku: "TXA-0001", a_name: "A", b_sku: "TXA-0002", b_name: "B", price: "5.00", stock: 9 },
        }) as Ok;
        assert.equal(reply.ok, true);
        const steps = reply.data as Array<{ step: string; data: { sku: string; stock: number } }>;
        assert.deepEqual(steps.map((s) => s.step), ["first", "second", "opening_stock"]);
        assert.equal(steps[2]!.data.sku, "TXA-0001");
        assert.equal(steps[2]!.data.stock, 9);
        assert.equal(await count("TXA-%"), 2);
      },
    );
    await t.step("a failing step rolls back the steps before it and is named", async () => {
      const reply = await client.request({
        template: "cat",
        op: "create",
        data: { a_sku: "TXB-0001", a_name: "A", b_sku: "PRD-0001", b_name: "dup", price: "5.00" },
      });
      assert.equal(reply.ok, false);
      if (reply.ok) return;
      assert.equal(reply.error.code, "CONFLICT");
      assert.match(reply.error.message, /^Step "second" failed: Duplicate value/);
      assert.equal((reply.error.details as { step: string }).step, "second");
      assert.equal(await count("TXB-%"), 0, "the first step was rolled back");
    });
    await t.step("a late failure (validation in step 3) also rolls back", async () => {
      const reply = await client.request({
        template: "cat",
        op: "create",
        data: { a_sku: "TXC-0001", a_name: "A", b_sku: "TXC-0002", b_name: "B", price: "5.00", stock: -1 },
      });
      assert.equal(!reply.ok && reply.error.code, "VALIDATION");
      assert.equal(await count("TXC-%"), 0);
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("live reload under load: no request dropped, a bad reload keeps the old snapshot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  await copy(`${ROOT}/templates`, dir);
  const env = await createTestEnv({ templatesDir: dir });
  const node = await startNode(env);
  try {
    const client = await env.client();
    let done = 0;
    const load = runLoad<Reply>(
      600,
      10,
      (i) => client.request({ template: i % 2 ? "cus" : "cov", op: "read", key: { id: (i % 20) + 1 } }),
      (n) => done = n,
    );
    await waitFor(() => done >= 50, 20_000, "load to start");
    const example = await Deno.readTextFile(`${dir}/example_rec.toml`);
    await Deno.writeTextFile(`${dir}/cu2_rec.toml`, example.replace('name = "cus"', 'name = "cu2"'));
    const reload = await cli(["templates", "reload", ...env.cliArgs]);
    assert.equal(reload.code, 0, reload.out + reload.err);
    assert.match(reload.out, /reloaded, 7 templates/);
    const cu2 = await client.request({ template: "cu2", op: "read", key: { id: 3 } });
    assert.equal(cu2.ok, true, "the new template is served after the reload");

    await Deno.writeTextFile(`${dir}/zz_rec.toml`, '[template]\nname = "zz"\nstore = "mariadb"\n');
    const bad = await cli(["templates", "reload", ...env.cliArgs]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.out,
      /refused, kept 7 templates: Invalid template ".*zz_rec.toml": template.database: missing required value/,
    );
    const still = await client.request({ template: "cu2", op: "read", key: { id: 3 } });
    assert.equal(still.ok, true, "the old snapshot is still served");

    const results = await load;
    for (const r of results) {
      assert.equal(r.reply?.ok, true, `request ${r.index}: ${r.error?.message ?? JSON.stringify(r.reply)}`);
    }
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP makes a node process reload its templates", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_tpl_" });
  await copy(`${ROOT}/templates`, dir);
  const env = await createTestEnv({ templatesDir: dir });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/src/main.ts`, "run", "--instance", `hup-${env.id}`, ...env.cliArgs],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    // The exchange exists only once the node has declared it: wait before publishing.
    const queue = workQueueName(env.queuePrefix, "appServer", "rBroker");
    await waitFor(async () => await consumerCount(queue) > 0, 20_000, "node");
    const client = await env.client();
    const example = await Deno.readTextFile(`${dir}/example_rec.toml`);
    await Deno.writeTextFile(`${dir}/cu3_rec.toml`, example.replace('name = "cus"', 'name = "cu3"'));
    const before = await client.request({ template: "cu3", op: "read", key: { id: 1 } });
    assert.equal(!before.ok && before.error.code, "UNKNOWN_TEMPLATE");
    child.kill("SIGHUP");
    await waitFor(
      async () => (await client.request({ template: "cu3", op: "read", key: { id: 1 } })).ok,
      10_000,
      "reload",
    );
  } finally {
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
