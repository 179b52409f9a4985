// Integration test: needs a MariaDB server (BEDS_MARIADB_HOST/PORT/USER/PASSWORD,
// default root@127.0.0.1:3306). Loads lab/sql into a throw-away schema.
import assert from "node:assert/strict";
import mariadb from "mariadb";
import { dropSchema, type LabDbOptions, loadLabSchema } from "../../lab/db.ts";

const env = (name: string, fallback: string) => Deno.env.get(`BEDS_MARIADB_${name}`) || fallback;

const server = {
  host: env("HOST", "127.0.0.1"),
  port: Number(env("PORT", "3306")),
  user: env("USER", "root"),
  password: Deno.env.get("BEDS_MARIADB_PASSWORD") ?? "",
};

/** Asserts that `promise` rejects with a driver error carrying these fields. */
async function rejectsWith(
  promise: Promise<unknown>,
  expected: { errno?: number; sqlState?: string; text?: string },
): Promise<void> {
  await assert.rejects(promise, (err: Record<string, unknown>) => {
    if (expected.errno !== undefined) assert.equal(err.errno, expected.errno);
    if (expected.sqlState !== undefined) {
      assert.equal(err.sqlState, expected.sqlState);
    }
    if (expected.text !== undefined) assert.equal(err.text, expected.text);
    return true;
  });
}

Deno.test("lab schema loads idempotently and its routines enforce the rules", async (t) => {
  const schema = `beds_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const opts: LabDbOptions = { ...server, schema };
  try {
    const first = await loadLabSchema(opts);
    const second = await loadLabSchema(opts);
    assert.ok(first.statements > 0);
    assert.equal(second.statements, first.statements);

    const conn = await mariadb.createConnection({
      ...server,
      database: schema,
    });
    try {
      const one = async (sql: string, values: unknown[] = []) => {
        const rows = await conn.query(sql, values);
        return rows[0] as Record<string, unknown>;
      };
      // CALL answers [rows, okPacket]; a named call returns exactly one set.
      const call = async (sql: string, values: unknown[]) => {
        const res = await conn.query(sql, values);
        assert.equal(res.length, 2, "one result set plus the OK packet");
        return res[0] as Record<string, unknown>[];
      };
      const stockOf = async (id: number) =>
        (await one("SELECT stock FROM v_products WHERE id = ?", [id])).stock;

      await t.step(
        "seed is loaded once even though the scripts ran twice",
        async () => {
          const counts = await one(
            `SELECT (SELECT COUNT(*) FROM customers) AS customers,
                  (SELECT COUNT(*) FROM customers WHERE status = 'suspended') AS suspended,
                  (SELECT COUNT(*) FROM products) AS products,
                  (SELECT COUNT(*) FROM orders) AS orders`,
          );
          assert.deepEqual(
            { ...counts },
            { customers: 20n, suspended: 2n, products: 30n, orders: 10n },
          );
          const bad = await conn.query(
            `SELECT o.id FROM orders AS o JOIN order_items AS oi ON oi.order_id = o.id
            GROUP BY o.id, o.total HAVING o.total <> SUM(oi.qty * oi.price)`,
          );
          assert.equal(bad.length, 0, "order totals match their items");
        },
      );

      let customerId = 0;
      await t.step(
        "sp_cus_create() returns the new v_customers row",
        async () => {
          const rows = await call("CALL sp_cus_create(?, ?)", [
            "test.buyer@example.com",
            "Test Buyer",
          ]);
          assert.equal(rows.length, 1);
          const row = rows[0]!;
          assert.equal(row.email, "test.buyer@example.com");
          assert.equal(row.name, "Test Buyer");
          assert.equal(row.status, "active");
          assert.ok(row.created_at instanceof Date);
          customerId = Number(row.id);
          assert.ok(customerId > 20);
        },
      );

      await t.step(
        "sp_cus_create() with a duplicate email raises errno 1062",
        async () => {
          await rejectsWith(
            conn.query("CALL sp_cus_create(?, ?)", [
              "ana.garcia@example.com",
              "Dup",
            ]),
            { errno: 1062, sqlState: "23000" },
          );
        },
      );

      await t.step(
        "sp_cus_update() of a missing id raises SQLSTATE 45404",
        async () => {
          await rejectsWith(
            conn.query("CALL sp_cus_update(?, ?, ?, ?)", [
              999999,
              null,
              "X",
              null,
            ]),
            { errno: 1644, sqlState: "45404", text: "customer not found" },
          );
        },
      );

      await t.step(
        "sp_cus_update() leaves NULL parameters unchanged",
        async () => {
          const [row] = await call("CALL sp_cus_update(?, ?, ?, ?)", [
            customerId,
            null,
            "Test Buyer Renamed",
            null,
          ]);
          assert.equal(row!.email, "test.buyer@example.com");
          assert.equal(row!.name, "Test Buyer Renamed");
          assert.equal(row!.status, "active");
        },
      );

      await t.step(
        "sp_ord_create() with insufficient stock raises 45000 and keeps stock",
        async () => {
          const before = await stockOf(3);
          await rejectsWith(
            conn.query("CALL sp_ord_create(?, ?, ?)", [
              customerId,
              3,
              Number(before) + 1,
            ]),
            { errno: 1644, sqlState: "45000", text: "insufficient stock" },
          );
          assert.equal(await stockOf(3), before);
          const orders = await conn.query(
            "SELECT id FROM orders WHERE customer_id = ?",
            [customerId],
          );
          assert.equal(orders.length, 0, "the failed order was rolled back");
        },
      );

      await t.step(
        "sp_ord_create() for a suspended customer raises 45000",
        async () => {
          await rejectsWith(
            conn.query("CALL sp_ord_create(?, ?, ?)", [17, 1, 1]),
            { sqlState: "45000", text: "customer is not active" },
          );
        },
      );

      let orderId = 0;
      await t.step(
        "sp_ord_create() decrements stock and the order shows in v_orders",
        async () => {
          const before = Number(await stockOf(3)); // PRD-0003, 24.50
          const [row] = await call("CALL sp_ord_create(?, ?, ?)", [
            customerId,
            3,
            2,
          ]);
          orderId = Number(row!.id);
          assert.equal(row!.customer_id, customerId);
          assert.equal(row!.customer_name, "Test Buyer Renamed");
          assert.equal(row!.status, "placed");
          assert.equal(row!.total, "49.00");
          assert.equal(Number(row!.item_count), 1);
          assert.equal(await stockOf(3), before - 2);
          const view = await one("SELECT * FROM v_orders WHERE id = ?", [
            orderId,
          ]);
          assert.deepEqual({ ...view }, { ...row });
          const items = await conn.query(
            "SELECT sku, qty, price FROM v_order_items WHERE order_id = ?",
            [orderId],
          );
          assert.deepEqual(items.map((r: object) => ({ ...r })), [
            { sku: "PRD-0003", qty: 2, price: "24.50" },
          ]);
        },
      );

      await t.step(
        "fn_cus_order_total() sums the customer's placed orders",
        async () => {
          await call("CALL sp_ord_create(?, ?, ?)", [customerId, 9, 3]); // 3 x 8.50
          const cancelled = await call("CALL sp_ord_create(?, ?, ?)", [
            customerId,
            1,
            1,
          ]);
          await call("CALL sp_ord_cancel(?)", [cancelled[0]!.id]);
          const total = async (id: number) =>
            (await one("SELECT fn_cus_order_total(?) AS total", [id])).total;
          assert.equal(await total(customerId), "74.50"); // 49.00 + 25.50
          assert.equal(await total(1), "158.20"); // seeded: 39.40 + 118.80
          assert.equal(await total(10), "0.00"); // only a cancelled order
          const listed = await call("CALL sp_cus_orders(?)", [customerId]);
          assert.equal(listed.length, 3);
        },
      );

      await t.step(
        "sp_cus_delete() refuses a customer with orders (45409)",
        async () => {
          await rejectsWith(conn.query("CALL sp_cus_delete(?)", [customerId]), {
            sqlState: "45409",
            text: "customer has orders",
          });
        },
      );
    } finally {
      await conn.end();
    }
  } finally {
    await dropSchema(opts);
  }
});
