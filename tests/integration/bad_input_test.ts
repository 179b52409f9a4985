import assert from "node:assert/strict";
import { BedsClientError, type RequestBody } from "../../src/client/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";
import {
  consumerCount,
  createTestEnv,
  dbQuery,
  openRawAmqp,
  readyCount,
  startNode,
  waitFor,
  workQueues,
} from "../helpers/services.ts";
import { expectError, expectOk, type Row } from "../helpers/replies.ts";

const encoder = new TextEncoder();

Deno.test("every bad input gets an error reply and an ack, and the consumer keeps serving", async (t) => {
  const env = await createTestEnv();
  const node = await startNode(env, "appServer", "bad-node");
  const raw = await openRawAmqp(env);
  try {
    const client = await env.client();
    const req = (body: RequestBody) => client.request(body);
    /** Sends `body` (bytes, or any value as JSON) to the routing key of `route`. */
    const sendRaw = (route: Pick<RequestBody, "template" | "op">, body: unknown): Promise<Reply> =>
      client.request(route, {
        rawBody: body instanceof Uint8Array ? body : encoder.encode(JSON.stringify(body)),
      });
    const customersByEmail = async (email: string) =>
      expectOk<Row[]>(await req({ template: "cus", op: "read", where: { email } }));
    const stillServes = async () => {
      const row = expectOk(await req({ template: "cus", op: "read", key: { id: 1 } }));
      assert.equal(row.email, "ana.garcia@example.com");
    };

    // ── the envelope ────────────────────────────────────────────────────────
    await t.step("a body that is not JSON answers BAD_REQUEST", async () => {
      const error = expectError(
        await sendRaw({ template: "cus", op: "read" }, encoder.encode("{template: cus")),
        "BAD_REQUEST",
      );
      assert.equal(error.message, "Request body is not valid UTF-8 JSON");
      expectError(await sendRaw({ template: "cus", op: "read" }, new Uint8Array()), "BAD_REQUEST");
      await stillServes();
    });

    await t.step("a body that is not UTF-8 answers BAD_REQUEST", async () => {
      // valid JSON in Latin-1: "café" with é as the single byte 0xE9
      const latin1 = Uint8Array.from(
        '{"template":"cus","op":"read","where":{"email":"caf\u00e9@example.com"}}',
        (c) => c.charCodeAt(0),
      );
      const error = expectError(await sendRaw({ template: "cus", op: "read" }, latin1), "BAD_REQUEST");
      assert.equal(error.message, "Request body is not valid UTF-8 JSON");
      expectError(
        await sendRaw({ template: "cus", op: "read" }, new Uint8Array([0xff, 0xfe, 0x00, 0x7b])),
        "BAD_REQUEST",
      );
      await stillServes();
    });

    await t.step("a JSON array or scalar answers BAD_REQUEST", async () => {
      for (const body of [[{ template: "cus", op: "read" }], "read", 42, null]) {
        const error = expectError(await sendRaw({ template: "cus", op: "read" }, body), "BAD_REQUEST");
        assert.equal(error.message, "Request body must be a JSON object");
      }
      await stillServes();
    });

    await t.step("a body of the wrong shape answers BAD_REQUEST", async (t) => {
      const route = { template: "cus", op: "read" } as const;
      await t.step("missing op", async () => {
        const error = expectError(await sendRaw(route, { template: "cus", key: { id: 1 } }), "BAD_REQUEST");
        assert.match(error.message, /^Invalid request: op: /);
      });
      await t.step("unknown top-level key", async () => {
        const error = expectError(
          await sendRaw(route, { template: "cus", op: "read", limt: 5 }),
          "BAD_REQUEST",
        );
        assert.equal(error.message, 'Invalid request: unknown key "limt"');
      });
      await t.step("limit as a string", async () => {
        const error = expectError(
          await sendRaw(route, { template: "cus", op: "read", limit: "5" }),
          "BAD_REQUEST",
        );
        assert.match(error.message, /^Invalid request: limit: /);
      });
      await t.step("negative offset, bad order term, op call without a call name", async () => {
        expectError(await sendRaw(route, { template: "cus", op: "read", offset: -1 }), "BAD_REQUEST");
        expectError(
          await sendRaw(route, { template: "cus", op: "read", order: ["id; DROP"] }),
          "BAD_REQUEST",
        );
        expectError(await sendRaw(route, { template: "cus", op: "read", key: [1] }), "BAD_REQUEST");
        const error = expectError(
          await sendRaw({ template: "cus", op: "call" }, { template: "cus", op: "call", key: { id: 1 } }),
          "BAD_REQUEST",
        );
        assert.match(error.message, /needs a "call" name/);
      });
      await t.step("a field the op does not take", async () => {
        expectError(
          await req({ template: "cus", op: "read", key: { id: 1 }, data: { name: "x" } }),
          "BAD_REQUEST",
        );
        expectError(
          await req({ template: "cus", op: "delete", key: { id: 1 }, where: { id: 1 } }),
          "BAD_REQUEST",
        );
      });
      await stillServes();
    });

    await t.step("a body over limits.max_body_bytes answers TOO_LARGE", async () => {
      const email = `big.${env.id}@example.com`;
      const reply = await req({ template: "cus", op: "create", data: { email, name: "x".repeat(70_000) } });
      const error = expectError(reply, "TOO_LARGE");
      const details = error.details as { limit: number; size: number };
      assert.equal(details.limit, 65536);
      assert.ok(details.size > 65536);
      assert.deepEqual(await customersByEmail(email), []);
      await stillServes();
    });

    // ── routing ─────────────────────────────────────────────────────────────
    await t.step("an unknown template answers UNKNOWN_TEMPLATE", async () => {
      const error = expectError(await req({ template: "zzz", op: "read" }), "UNKNOWN_TEMPLATE");
      assert.equal(error.message, 'Unknown template "zzz"');
      expectError(await req({ template: "zzz", op: "create", data: {} }), "UNKNOWN_TEMPLATE");
      expectError(await req({ template: "zzz", op: "call", call: "x" }), "UNKNOWN_TEMPLATE");
      await stillServes();
    });

    await t.step(
      "a body that does not match its routing key answers BAD_REQUEST and does not run",
      async () => {
        const email = `sneaky.${env.id}@example.com`;
        const create = { template: "cus", op: "create", data: { email, name: "Sneaky" } };
        const error = expectError(await raw.request("read.cus", create), "BAD_REQUEST");
        assert.equal(error.message, 'Routing key "read.cus" does not match the request ("create.cus")');
        expectError(
          await raw.request("call.cus", { template: "cus", op: "delete", key: { id: 2 } }),
          "BAD_REQUEST",
        );
        expectError(
          await raw.request("read.prd", { template: "cus", op: "read", key: { id: 2 } }),
          "BAD_REQUEST",
        );
        assert.deepEqual(await customersByEmail(email), []);
        expectOk(await req({ template: "cus", op: "read", key: { id: 2 } }));
      },
    );

    await t.step("an op the template lacks answers OP_NOT_ALLOWED", async () => {
      const error = expectError(
        await req({ template: "ord", op: "update", key: { id: 1 }, data: { qty: 2 } }),
        "OP_NOT_ALLOWED",
      );
      assert.equal(error.message, 'Template "ord" does not allow op "update"');
      expectError(await req({ template: "ord", op: "delete", key: { id: 1 } }), "OP_NOT_ALLOWED");
    });

    await t.step("an unknown call answers OP_NOT_ALLOWED", async () => {
      const error = expectError(
        await req({ template: "cus", op: "call", call: "drop_everything", key: { id: 1 } }),
        "OP_NOT_ALLOWED",
      );
      assert.equal(error.message, 'Template "cus" has no call "drop_everything"');
      // a call of another template is unknown here too
      expectError(
        await req({ template: "cus", op: "call", call: "cancel", key: { id: 1 } }),
        "OP_NOT_ALLOWED",
      );
    });

    await t.step("a request no queue is bound for fails in the client as UNROUTABLE", async () => {
      // every op is bound as "<op>.*", which matches one-word templates only
      await assert.rejects(
        req({ template: "cus.extra", op: "read" }),
        (error: unknown) => error instanceof BedsClientError && error.kind === "UNROUTABLE",
      );
      await stillServes();
    });

    // ── field validation ────────────────────────────────────────────────────
    await t.step("an undeclared field answers VALIDATION", async (t) => {
      await t.step("in data", async () => {
        const error = expectError(
          await req({
            template: "cus",
            op: "create",
            data: { email: `vip.${env.id}@example.com`, name: "V", vip: true },
          }),
          "VALIDATION",
        );
        assert.deepEqual(error.details, { field: "vip" });
        assert.deepEqual(await customersByEmail(`vip.${env.id}@example.com`), []);
      });
      await t.step("in where", async () => {
        const error = expectError(
          await req({ template: "cus", op: "read", where: { vip: true } }),
          "VALIDATION",
        );
        assert.deepEqual(error.details, { field: "vip" });
      });
      await t.step("in key", async () => {
        expectError(await req({ template: "cus", op: "read", key: { id: 1, vip: true } }), "VALIDATION");
        expectError(
          await req({ template: "cus", op: "read", key: { email: "ana.garcia@example.com" } }),
          "VALIDATION",
        );
      });
      await t.step("declared but not a parameter of the op", async () => {
        const error = expectError(
          await req({ template: "prd", op: "update", key: { id: 1 }, data: { sku: "ABC-0001" } }),
          "VALIDATION",
        );
        assert.deepEqual(error.details, { field: "sku" });
      });
    });

    await t.step("a field not allowed in where or order answers VALIDATION", async () => {
      const error = expectError(
        await req({ template: "cus", op: "read", where: { name: "Ana García" } }),
        "VALIDATION",
      );
      assert.equal(error.message, 'Field "name" is not allowed in where');
      expectError(await req({ template: "cus", op: "read", order: ["email"] }), "VALIDATION");
      expectError(await req({ template: "cus", op: "read", where: { id: [] } }), "VALIDATION");
      expectError(await req({ template: "cus", op: "read", limit: 1001 }), "VALIDATION");
    });

    await t.step("a value of the wrong type answers VALIDATION", async (t) => {
      const cases: Array<[string, RequestBody, string]> = [
        ["string for an int key", { template: "cus", op: "read", key: { id: "1" } }, "id"],
        ["fraction for an int", { template: "cus", op: "read", key: { id: 1.5 } }, "id"],
        ["int below its min", { template: "cus", op: "read", where: { id: 0 } }, "id"],
        ["object in an IN list", { template: "cus", op: "read", where: { id: [1, { id: 2 }] } }, "id"],
        ["value outside its enum", { template: "cus", op: "read", where: { status: "deleted" } }, "status"],
        ["null for a non-nullable field", {
          template: "cus",
          op: "update",
          key: { id: 1 },
          data: { name: null },
        }, "name"],
        [
          "text for a decimal",
          { template: "prd", op: "create", data: { sku: "TST-0101", name: "X", price: "12,50" } },
          "price",
        ],
        [
          "string not matching its pattern",
          { template: "prd", op: "create", data: { sku: "tst-1", name: "X", price: "1.00" } },
          "sku",
        ],
        [
          "qty over its max",
          { template: "ord", op: "create", data: { customer_id: 2, product_id: 1, qty: 10_001 } },
          "qty",
        ],
      ];
      for (const [name, body, field] of cases) {
        await t.step(name, async () => {
          const error = expectError(await req(body), "VALIDATION");
          assert.deepEqual(error.details, { field });
        });
      }
      expectOk(await req({ template: "prd", op: "read", where: { sku: "PRD-0001" } }));
    });

    await t.step("a missing required field answers VALIDATION", async () => {
      const email = `half.${env.id}@example.com`;
      const error = expectError(await req({ template: "cus", op: "create", data: { email } }), "VALIDATION");
      assert.equal(error.message, 'Field "name" is required');
      assert.deepEqual(await customersByEmail(email), []);
      expectError(await req({ template: "cus", op: "update", data: { name: "No Key" } }), "VALIDATION");
      expectError(
        await req({ template: "ord", op: "create", data: { customer_id: 2, product_id: 1 } }),
        "VALIDATION",
      );
      expectError(await req({ template: "cus", op: "call", call: "order_total" }), "VALIDATION");
    });

    await t.step("prototype-pollution keys answer VALIDATION and pollute nothing", async (t) => {
      const email = `proto.${env.id}@example.com`;
      // JSON.parse keeps "__proto__" as an own key; it must never be dropped silently
      const bodies: Array<[string, "read" | "create", string]> = [
        [
          "__proto__ in data",
          "create",
          `{"template":"cus","op":"create","data":{"__proto__":{"x":1},"email":"${email}","name":"Proto"}}`,
        ],
        ["__proto__ in key", "read", `{"template":"cus","op":"read","key":{"__proto__":{"id":1}}}`],
        [
          "__proto__ in where",
          "read",
          `{"template":"cus","op":"read","where":{"__proto__":{"status":"active"}}}`,
        ],
        [
          "constructor in data",
          "create",
          `{"template":"cus","op":"create","data":{"constructor":{"prototype":{"x":1}},"email":"${email}","name":"Proto"}}`,
        ],
        ["constructor in where", "read", `{"template":"cus","op":"read","where":{"constructor":1}}`],
        ["prototype in key", "read", `{"template":"cus","op":"read","key":{"id":1,"prototype":1}}`],
        [
          "toString in data",
          "create",
          `{"template":"cus","op":"create","data":{"toString":1,"email":"${email}","name":"Proto"}}`,
        ],
      ];
      for (const [name, op, text] of bodies) {
        await t.step(name, async () => {
          const error = expectError(
            await sendRaw({ template: "cus", op }, encoder.encode(text)),
            "VALIDATION",
          );
          assert.match(error.message, /^Unknown field "(__proto__|constructor|prototype|toString)"/);
        });
      }
      assert.deepEqual(await customersByEmail(email), []);
      assert.equal(({} as Record<string, unknown>).x, undefined, "Object.prototype is untouched");
      await stillServes();
    });

    // ── SQL stays data ──────────────────────────────────────────────────────
    await t.step("SQL-looking values are bound, not spliced", async () => {
      const name = "Robert'); DROP TABLE customers; --";
      const email = `robert');DROP-TABLE-customers;--.${env.id}@example.com`;
      const created = expectOk(await req({ template: "cus", op: "create", data: { email, name } }));
      assert.equal(created.name, name);
      assert.equal(created.email, email);
      const read = expectOk(await req({ template: "cus", op: "read", key: { id: created.id } }));
      assert.equal(read.name, name);
      assert.equal(read.email, email);
      assert.deepEqual(await customersByEmail(email), [read]);
      const tables = await dbQuery(env, "SHOW TABLES LIKE 'customers'");
      assert.equal(tables.length, 1, "customers still exists");
      const [count] = await dbQuery(env, "SELECT COUNT(*) AS n FROM customers");
      assert.ok((count!.n as number) >= 21);
    });

    await t.step('a where value "1 OR 1=1" for an int field answers VALIDATION', async () => {
      const error = expectError(
        await req({ template: "cus", op: "read", where: { id: "1 OR 1=1" } }),
        "VALIDATION",
      );
      assert.deepEqual(error.details, { field: "id" });
      expectError(await req({ template: "cus", op: "read", key: { id: "1 OR 1=1" } }), "VALIDATION");
      // a string field takes it as a plain value that matches nothing
      assert.deepEqual(await customersByEmail("x'OR'1'='1@example.com"), []);
    });

    // ── failures past validation ────────────────────────────────────────────
    await t.step("a database error answers DB_ERROR while reads keep working", async () => {
      await dbQuery(env, "DROP PROCEDURE sp_prd_delete");
      const error = expectError(await req({ template: "prd", op: "delete", key: { id: 30 } }), "DB_ERROR");
      assert.equal(error.message, "Database error", "no SQL or driver text reaches the client");
      assert.equal((error.details as { errno: number }).errno, 1305);
      const row = expectOk(await req({ template: "prd", op: "read", key: { id: 30 } }));
      assert.equal(row.sku, "PRD-0030");
      expectOk(await req({ template: "prd", op: "update", key: { id: 30 }, data: { stock: 23 } }));
    });

    await t.step("a deadline already passed answers DEADLINE_EXCEEDED and does not run", async () => {
      const deadline_ms = Date.now() - 1000;
      const error = expectError(
        await req({ template: "cus", op: "read", key: { id: 1 }, deadline_ms }),
        "DEADLINE_EXCEEDED",
      );
      assert.match(error.message, /deadline/);
      const email = `late.${env.id}@example.com`;
      expectError(
        await req({ template: "cus", op: "create", data: { email, name: "Late" }, deadline_ms }),
        "DEADLINE_EXCEEDED",
      );
      assert.deepEqual(await customersByEmail(email), []);
    });

    await t.step("a message without reply_to is processed and acked", async () => {
      const email = `fire.forget.${env.id}@example.com`;
      raw.publish("create.cus", { template: "cus", op: "create", data: { email, name: "Fire Forget" } });
      await waitFor(async () => (await customersByEmail(email)).length === 1, 5000, "fire-and-forget create");
    });

    await t.step("a bad message without reply_to is acked too", async () => {
      raw.publish("read.cus", encoder.encode("not json at all"));
      raw.publish("create.cus", { template: "cus", op: "create", data: { email: "no-name@example.com" } });
      raw.publish("call.cus", { template: "cus", op: "call", call: "nope" });
      raw.publish("update.zzz", { template: "zzz", op: "update" });
      raw.publish("delete.prd", { template: "prd", op: "delete", key: { id: 29 } }); // sp_prd_delete is gone
      await waitFor(
        async () => {
          for (const queue of workQueues(env)) if (await readyCount(queue) > 0) return false;
          return true;
        },
        5000,
        "work queues to drain",
      );
      assert.deepEqual(await customersByEmail("no-name@example.com"), []);
    });

    await t.step("afterwards the node still serves and every work queue is empty", async () => {
      await stillServes();
      expectOk(await req({ template: "cus", op: "call", call: "order_total", key: { id: 1 } }));
      expectOk(await req({ template: "prd", op: "update", key: { id: 1 }, data: { stock: 250 } }));
      const queues = workQueues(env);
      assert.equal(queues.length, 3);
      // every consumer is still attached (2 read, 2 write, 1 call instances)
      assert.deepEqual(await Promise.all(queues.map(consumerCount)), [2, 2, 1]);
      await waitFor(
        async () => {
          for (const queue of queues) if (await readyCount(queue) > 0) return false;
          return true;
        },
        5000,
        "work queues to drain",
      );
      // checkQueue counts only ready messages: stopping the node closes its
      // channels, which would put any delivery it never acked back in the
      // queue as ready, so 0 ready after the stop means 0 were left unacked.
      assert.equal(await node.stop(), 0);
      await new Promise((r) => setTimeout(r, 200));
      for (const queue of queues) assert.equal(await readyCount(queue), 0, `${queue} has no message left`);
    });
  } finally {
    await raw.close();
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
