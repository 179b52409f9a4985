import assert from "node:assert/strict";
import type { RequestBody } from "../../src/client/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import { createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";

const ids = (rows: Row[]) => rows.map((r) => r.id);

Deno.test("a node serves CRUD on the lab templates through RabbitMQ", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", "crud-node");
  try {
    const client = await env.client();
    const req = (body: RequestBody) => client.request(body);
    const stockOf = async (id: number) =>
      expectOk<Row>(await req({ template: "prd", op: "read", key: { id } })).stock as number;

    // ── reads (seed data: customers 1..20, 17 and 19 suspended) ─────────────
    await t.step("read by key returns one row", async () => {
      const reply = await req({ template: "cus", op: "read", key: { id: 1 } });
      const row = expectOk(reply);
      assert.ok(!Array.isArray(row), "a key read returns the row, not a list");
      assert.equal(row.id, 1);
      assert.equal(row.email, "ana.garcia@example.com");
      assert.equal(row.name, "Ana García");
      assert.equal(row.status, "active");
      assert.equal(typeof row.created_at, "string");
      assert.equal(reply.meta.rows, 1);
    });

    await t.step("read by a missing key answers NOT_FOUND", async () => {
      const error = expectError(await req({ template: "cus", op: "read", key: { id: 999999 } }), "NOT_FOUND");
      assert.deepEqual(error.details, { key: { id: 999999 } });
    });

    await t.step("read with where = filters on one value", async () => {
      const reply = await req({ template: "cus", op: "read", where: { status: "suspended" }, order: ["id"] });
      const rows = expectOk<Row[]>(reply);
      assert.deepEqual(ids(rows), [17, 19]);
      assert.ok(rows.every((r) => r.status === "suspended"));
      assert.equal(reply.meta.rows, 2);
    });

    await t.step("read with where array is an IN list", async () => {
      const rows = expectOk<Row[]>(
        await req({ template: "cus", op: "read", where: { id: [6, 2, 4, 999999] }, order: ["id"] }),
      );
      assert.deepEqual(ids(rows), [2, 4, 6]);
      const byEmail = expectOk<Row[]>(
        await req({
          template: "cus",
          op: "read",
          where: { email: ["sofia.rossi@example.com", "oliver.smith@example.com"], status: "active" },
          order: ["id"],
        }),
      );
      assert.deepEqual(ids(byEmail), [3, 10]);
    });

    await t.step('order ["-id"] sorts descending', async () => {
      const some = expectOk<Row[]>(
        await req({ template: "cus", op: "read", where: { id: [3, 1, 2] }, order: ["-id"] }),
      );
      assert.deepEqual(ids(some), [3, 2, 1]);
      const all = expectOk<Row[]>(await req({ template: "prd", op: "read", order: ["-id"], limit: 1000 }));
      assert.equal(all.length, 30);
      assert.deepEqual(ids(all), Array.from({ length: 30 }, (_, i) => 30 - i));
    });

    await t.step("limit and offset page through the rows", async () => {
      const page = async (offset: number) =>
        ids(expectOk<Row[]>(await req({ template: "cus", op: "read", order: ["id"], limit: 5, offset })));
      assert.deepEqual(await page(0), [1, 2, 3, 4, 5]);
      assert.deepEqual(await page(5), [6, 7, 8, 9, 10]);
      assert.deepEqual(await page(15), [16, 17, 18, 19, 20]);
      assert.deepEqual(await page(20), []);
      const zero = await req({ template: "cus", op: "read", limit: 0 });
      assert.deepEqual(expectOk(zero), []);
      assert.equal(zero.meta.rows, 0);
    });

    // ── customer writes ─────────────────────────────────────────────────────
    const email = `nina.neu.${env.id}@example.com`;
    let created: Row = {};

    await t.step("create customer returns the new row", async () => {
      const reply = await req({ template: "cus", op: "create", data: { email, name: "Nina Neu" } });
      created = expectOk(reply);
      assert.equal(typeof created.id, "number");
      assert.ok((created.id as number) > 20);
      assert.equal(created.email, email);
      assert.equal(created.name, "Nina Neu");
      assert.equal(created.status, "active");
      assert.equal(typeof created.created_at, "string");
      assert.equal(reply.meta.rows, 1);
      assert.deepEqual(
        expectOk(await req({ template: "cus", op: "read", key: { id: created.id } })),
        created,
      );
    });

    await t.step("create with a duplicate email answers CONFLICT", async () => {
      const error = expectError(
        await req({ template: "cus", op: "create", data: { email, name: "Someone Else" } }),
        "CONFLICT",
      );
      assert.match(error.message, /uq_customers_email/);
      const rows = expectOk<Row[]>(await req({ template: "cus", op: "read", where: { email } }));
      assert.deepEqual(ids(rows), [created.id]);
    });

    await t.step("update changes only the given fields", async () => {
      const updated = expectOk(
        await req({ template: "cus", op: "update", key: { id: created.id }, data: { name: "Nina Renamed" } }),
      );
      assert.deepEqual(updated, { ...created, name: "Nina Renamed" });
      const suspended = expectOk(
        await req({ template: "cus", op: "update", key: { id: created.id }, data: { status: "suspended" } }),
      );
      assert.deepEqual(suspended, { ...created, name: "Nina Renamed", status: "suspended" });
      created = expectOk(await req({ template: "cus", op: "read", key: { id: created.id } }));
      assert.deepEqual(created, suspended);
    });

    await t.step("update of a missing id answers NOT_FOUND", async () => {
      const error = expectError(
        await req({ template: "cus", op: "update", key: { id: 999999 }, data: { name: "Nobody" } }),
        "NOT_FOUND",
      );
      assert.equal(error.message, "customer not found");
    });

    await t.step("delete returns the old row", async () => {
      const reply = await req({ template: "cus", op: "delete", key: { id: created.id } });
      assert.deepEqual(expectOk(reply), created);
      expectError(await req({ template: "cus", op: "read", key: { id: created.id } }), "NOT_FOUND");
      expectError(await req({ template: "cus", op: "delete", key: { id: created.id } }), "NOT_FOUND");
    });

    await t.step("delete of a customer with orders answers CONFLICT", async () => {
      const error = expectError(await req({ template: "cus", op: "delete", key: { id: 1 } }), "CONFLICT");
      assert.equal(error.message, "customer has orders");
      expectOk(await req({ template: "cus", op: "read", key: { id: 1 } }));
    });

    // ── products and orders ─────────────────────────────────────────────────
    await t.step("prd create keeps a decimal price exact", async () => {
      const exact = expectOk(
        await req({
          template: "prd",
          op: "create",
          data: { sku: "TST-0001", name: "Test widget", price: "12.34", stock: 5 },
        }),
      );
      assert.equal(exact.sku, "TST-0001");
      assert.equal(exact.price, "12.34");
      assert.equal(exact.stock, 5);
      const fromNumber = expectOk(
        await req({ template: "prd", op: "create", data: { sku: "TST-0002", name: "Gadget", price: 7.5 } }),
      );
      assert.equal(fromNumber.price, "7.50");
      assert.equal(fromNumber.stock, 0, "an absent stock defaults to 0");
      const read = expectOk(await req({ template: "prd", op: "read", key: { id: exact.id } }));
      assert.deepEqual(read, exact);
    });

    let order: Row = {};
    const orderedProduct = 3; // Wireless mouse, 24.50

    await t.step("ord create decrements the product's stock", async () => {
      const before = await stockOf(orderedProduct);
      const reply = await req({
        template: "ord",
        op: "create",
        data: { customer_id: 3, product_id: orderedProduct, qty: 4 },
      });
      order = expectOk(reply);
      assert.equal(order.customer_id, 3);
      assert.equal(order.customer_name, "Sofia Rossi");
      assert.equal(order.status, "placed");
      assert.equal(order.total, "98.00");
      assert.equal(order.item_count, 1);
      assert.equal(reply.meta.broker, "wBroker");
      assert.equal(await stockOf(orderedProduct), before - 4);
    });

    await t.step("ord create with insufficient stock answers VALIDATION and changes nothing", async () => {
      const before = await stockOf(14); // Ergonomic office chair, 8 in stock
      const ordersBefore = expectOk<Row[]>(
        await req({ template: "ord", op: "read", where: { customer_id: 5 } }),
      );
      const error = expectError(
        await req({
          template: "ord",
          op: "create",
          data: { customer_id: 5, product_id: 14, qty: before + 1 },
        }),
        "VALIDATION",
      );
      assert.equal(error.message, "insufficient stock");
      assert.equal(await stockOf(14), before);
      const ordersAfter = expectOk<Row[]>(
        await req({ template: "ord", op: "read", where: { customer_id: 5 } }),
      );
      assert.deepEqual(ordersAfter, ordersBefore);
    });

    // ── named calls ─────────────────────────────────────────────────────────
    await t.step("cus call orders returns the customer's orders", async () => {
      const reply = await req({ template: "cus", op: "call", call: "orders", key: { id: 1 } });
      const rows = expectOk<Row[]>(reply);
      assert.deepEqual(ids(rows), [1, 5]);
      assert.deepEqual(rows.map((r) => r.total), ["39.40", "118.80"]);
      assert.equal(reply.meta.rows, 2);
      assert.deepEqual(
        expectOk(await req({ template: "cus", op: "call", call: "orders", data: { id: 20 } })),
        [],
      );
    });

    await t.step("cus call order_total returns the function's value", async () => {
      assert.equal(
        expectOk(await req({ template: "cus", op: "call", call: "order_total", key: { id: 1 } })),
        "158.20",
      );
      // customer 10 has only a cancelled order
      assert.equal(
        expectOk(await req({ template: "cus", op: "call", call: "order_total", key: { id: 10 } })),
        "0.00",
      );
    });

    await t.step("ord call cancel cancels the order and restores stock", async () => {
      const before = await stockOf(orderedProduct);
      const reply = await req({ template: "ord", op: "call", call: "cancel", key: { id: order.id } });
      // a procedure call answers its first result set: here the one v_orders row
      assert.deepEqual(expectOk(reply), [{ ...order, status: "cancelled" }]);
      assert.equal(reply.meta.broker, "mBroker");
      assert.equal(await stockOf(orderedProduct), before + 4);
      const again = expectError(
        await req({ template: "ord", op: "call", call: "cancel", key: { id: order.id } }),
        "VALIDATION",
      );
      assert.equal(again.message, "order already cancelled");
      expectError(
        await req({ template: "ord", op: "call", call: "cancel", key: { id: 999999 } }),
        "NOT_FOUND",
      );
      assert.equal(await stockOf(orderedProduct), before + 4);
    });

    // ── reply metadata ──────────────────────────────────────────────────────
    await t.step("meta has event, node, broker, ms and rows", async (t) => {
      const check = (reply: Reply, broker: string, rows: number) => {
        assert.deepEqual(Object.keys(reply.meta).sort(), ["broker", "event", "ms", "node", "rows"]);
        assert.equal(reply.meta.node, "crud-node");
        assert.equal(reply.meta.broker, broker);
        assert.equal(reply.meta.rows, rows);
        assert.equal(typeof reply.meta.ms, "number");
        assert.ok(reply.meta.ms >= 0 && reply.meta.ms < 10_000, `ms ${reply.meta.ms}`);
        assert.match(reply.meta.event, /^[0-9a-z]{9}-crud_node-[0-9a-z]+-[0-9a-z]+$/);
      };
      await t.step("read", async () => {
        check(await req({ template: "cus", op: "read", where: { id: [1, 2, 3] } }), "rBroker", 3);
      });
      await t.step("write", async () => {
        check(
          await req({ template: "prd", op: "update", key: { id: 1 }, data: { name: "Cable" } }),
          "wBroker",
          1,
        );
      });
      await t.step("call", async () => {
        check(await req({ template: "cus", op: "call", call: "orders", key: { id: 1 } }), "mBroker", 2);
      });
      await t.step("error", async () => {
        const reply = await req({ template: "cus", op: "read", key: { id: 999999 } });
        expectError(reply, "NOT_FOUND");
        check(reply, "rBroker", 0);
      });
      await t.step("events are unique and a parent event prefixes the child's", async () => {
        const a = await req({ template: "cus", op: "read", key: { id: 1 } });
        const b = await req({ template: "cus", op: "read", key: { id: 1 }, event: { parent: a.meta.event } });
        assert.notEqual(a.meta.event, b.meta.event);
        assert.ok(b.meta.event.startsWith(`${a.meta.event}.`), b.meta.event);
      });
    });

    // ── concurrency ─────────────────────────────────────────────────────────
    await t.step("200 requests in flight on one client are each answered correctly", async () => {
      const customers = expectOk<Row[]>(await req({ template: "cus", op: "read", limit: 1000 }));
      const products = expectOk<Row[]>(await req({ template: "prd", op: "read", limit: 1000 }));
      const expected = new Map<string, Row>();
      for (const c of customers) expected.set(`cus:${c.id}`, c);
      for (const p of products) expected.set(`prd:${p.id}`, p);
      const wanted = Array.from({ length: 200 }, (_, i) => {
        const template = i % 3 === 0 ? "prd" : "cus";
        const list = template === "prd" ? products : customers;
        return { template, id: list[(i * 7) % list.length]!.id as number };
      });
      const pending = wanted.map(({ template, id }) => req({ template, op: "read", key: { id } }));
      assert.equal(client.inflight, 200);
      const replies = await Promise.all(pending);
      assert.equal(client.inflight, 0);
      for (const [i, reply] of replies.entries()) {
        const { template, id } = wanted[i]!;
        assert.deepEqual(
          expectOk(reply),
          expected.get(`${template}:${id}`),
          `request ${i}: ${template} ${id}`,
        );
      }
      const events = new Set(replies.map((r) => r.meta.event));
      assert.equal(events.size, 200, "every request got its own event id");
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("a where list holding null matches NULL as well as the other values", async () => {
  const dir = await templatesWith(ROOT, {
    "tir_rec.toml": `[template]
name = "tir"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[fields.tier]
type = "string"
nullable = true

[ops.read]
view = "v_tiers"
key = ["id"]
where = ["tier"]
order = ["id"]
`,
  });
  const env = await createTestEnv({ templatesDir: dir });
  await dbQuery(env, "CREATE TABLE tiers (id INT PRIMARY KEY, tier VARCHAR(10) NULL)");
  await dbQuery(env, "INSERT INTO tiers VALUES (1, 'gold'), (2, NULL), (3, 'silver'), (4, 'gold')");
  await dbQuery(env, "CREATE VIEW v_tiers AS SELECT id, tier FROM tiers");
  const node = await startNode(env);
  try {
    const client = await env.client();
    const ids = async (tier: unknown) =>
      expectOk<Row[]>(await client.request({ template: "tir", op: "read", where: { tier }, order: ["id"] }))
        .map((row) => row.id);
    assert.deepEqual(await ids([null, "gold"]), [1, 2, 4]);
    assert.deepEqual(await ids(["silver", null]), [2, 3]);
    assert.deepEqual(await ids(null), [2]);
    assert.deepEqual(await ids(["gold", "silver"]), [1, 3, 4]);
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a read by key takes where as an extra filter, but not on a key field", async () => {
  const env = await createTestEnv();
  const node = await startNode(env);
  try {
    const client = await env.client();
    for (const ids of [[2, 3], [1, 2]]) {
      const both = await client.request({ template: "cus", op: "read", key: { id: 1 }, where: { id: ids } });
      assert.equal(
        expectError(both, "VALIDATION").message,
        'Field "id" is in the read key and cannot also be in where',
      );
    }
    const active = await client.request({
      template: "cus",
      op: "read",
      key: { id: 1 },
      where: { status: "active" },
    });
    assert.equal(expectOk<Row>(active).id, 1);
    const other = await client.request({
      template: "cus",
      op: "read",
      key: { id: 1 },
      where: { status: "suspended" },
    });
    expectError(other, "NOT_FOUND");
  } finally {
    await node.stop();
    await env.cleanup();
  }
});
