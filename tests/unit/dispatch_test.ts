import assert from "node:assert/strict";
import { dispatch, type DispatchDeps } from "../../src/dispatch/dispatch.ts";
import type {
  Adapter,
  AdapterHealth,
  AdapterResult,
  CallInput,
  ReadInput,
  VerifyProblem,
  WriteInput,
} from "../../src/adapters/types.ts";
import { selectView } from "../../src/adapters/mariadb/sql.ts";
import type { LimitsConfig, Op } from "../../src/config/mod.ts";
import type { Request } from "../../src/protocol/request.ts";
import { compileTemplate, loadTemplates } from "../../src/templates/loader.ts";
import { createRegistry, type Registry } from "../../src/templates/registry.ts";
import { BedsError, type ErrorCode } from "../../src/errors.ts";

const TEMPLATES_DIR = new URL("../../templates", import.meta.url).pathname;
const REGISTRY = createRegistry(await loadTemplates(TEMPLATES_DIR));
const LIMITS: LimitsConfig = {
  max_body_bytes: 65536,
  max_reply_bytes: 16_777_216,
  default_read_limit: 100,
  max_read_limit: 1000,
};
const ALL_OPS: ReadonlySet<Op> = new Set<Op>(["create", "read", "update", "delete", "call"]);

type Recorded =
  | { method: "read"; input: ReadInput }
  | { method: "create" | "update" | "delete"; input: WriteInput }
  | { method: "call"; input: CallInput };

/** An in-memory adapter that records every input it receives. */
class FakeAdapter implements Adapter {
  readonly store = "mariadb" as const;
  readonly calls: Recorded[] = [];
  result: AdapterResult = { data: [{ ok: 1 }], rows: 1 };

  read(input: ReadInput): Promise<AdapterResult> {
    this.calls.push({ method: "read", input });
    return Promise.resolve(this.result);
  }
  create(input: WriteInput): Promise<AdapterResult> {
    this.calls.push({ method: "create", input });
    return Promise.resolve(this.result);
  }
  update(input: WriteInput): Promise<AdapterResult> {
    this.calls.push({ method: "update", input });
    return Promise.resolve(this.result);
  }
  delete(input: WriteInput): Promise<AdapterResult> {
    this.calls.push({ method: "delete", input });
    return Promise.resolve(this.result);
  }
  call(input: CallInput): Promise<AdapterResult> {
    this.calls.push({ method: "call", input });
    return Promise.resolve(this.result);
  }
  verify(_templates: unknown): Promise<VerifyProblem[]> {
    return Promise.resolve([]);
  }
  health(): AdapterHealth {
    return { healthy: true, detail: {} };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(options: { registry?: Registry; now?: () => number } = {}) {
  const adapter = new FakeAdapter();
  const deps: DispatchDeps = {
    registry: () => options.registry ?? REGISTRY,
    adapters: new Map([["mariadb", adapter]]),
    limits: LIMITS,
    now: options.now ?? (() => 1_000_000),
  };
  return { adapter, deps };
}

/** Dispatches `request` and returns the adapter and its recorded inputs. */
async function run(request: Request, ops: ReadonlySet<Op> = ALL_OPS, options = {}) {
  const { adapter, deps } = setup(options);
  const result = await dispatch(request, ops, deps);
  return { adapter, result };
}

/** Asserts that dispatch rejects with `code` and `message` and never calls the adapter. */
async function assertFails(
  request: Request,
  code: ErrorCode,
  message: string,
  options: { ops?: ReadonlySet<Op>; now?: () => number; registry?: Registry; field?: string } = {},
): Promise<BedsError> {
  const { adapter, deps } = setup(options);
  let caught: unknown;
  try {
    await dispatch(request, options.ops ?? ALL_OPS, deps);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof BedsError, `expected a BedsError, got ${caught}`);
  assert.equal(caught.code, code);
  assert.equal(caught.message, message);
  if (options.field !== undefined) assert.deepEqual(caught.details, { field: options.field });
  assert.equal(adapter.calls.length, 0, "the adapter is not called");
  return caught;
}

Deno.test("dispatch() answers UNKNOWN_TEMPLATE for a template not in the registry", async () => {
  await assertFails({ template: "zzz", op: "read" }, "UNKNOWN_TEMPLATE", 'Unknown template "zzz"');
});

Deno.test("dispatch() answers OP_NOT_ALLOWED", async (t) => {
  await t.step("for an op the broker does not serve", async () => {
    await assertFails(
      { template: "cus", op: "create", data: { email: "a@b.co", name: "A" } },
      "OP_NOT_ALLOWED",
      'Op "create" is not served by this broker',
      { ops: new Set<Op>(["read"]) },
    );
  });
  await t.step("for an op the template lacks (ord has no update)", async () => {
    await assertFails(
      { template: "ord", op: "update", key: { id: 1 }, data: { qty: 2 } },
      "OP_NOT_ALLOWED",
      'Template "ord" does not allow op "update"',
    );
  });
  await t.step("for a delete on ord", async () => {
    await assertFails(
      { template: "ord", op: "delete", key: { id: 1 } },
      "OP_NOT_ALLOWED",
      'Template "ord" does not allow op "delete"',
    );
  });
  await t.step("for an unknown call", async () => {
    await assertFails(
      { template: "cus", op: "call", call: "frobnicate", key: { id: 1 } },
      "OP_NOT_ALLOWED",
      'Template "cus" has no call "frobnicate"',
    );
  });
  await t.step("for a call name inherited from Object.prototype", async () => {
    await assertFails(
      { template: "cus", op: "call", call: "constructor" },
      "OP_NOT_ALLOWED",
      'Template "cus" has no call "constructor"',
    );
  });
});

Deno.test("dispatch() answers DEADLINE_EXCEEDED once the deadline has passed", async (t) => {
  await t.step("deadline equal to now", async () => {
    await assertFails(
      { template: "cus", op: "read", deadline_ms: 5000 },
      "DEADLINE_EXCEEDED",
      "Request deadline passed before it could run",
      { now: () => 5000 },
    );
  });
  await t.step("deadline in the past", async () => {
    await assertFails(
      { template: "cus", op: "read", deadline_ms: 4000 },
      "DEADLINE_EXCEEDED",
      "Request deadline passed before it could run",
      { now: () => 5000 },
    );
  });
  await t.step("deadline in the future runs", async () => {
    const { adapter } = await run({ template: "cus", op: "read", deadline_ms: 5001 }, ALL_OPS, {
      now: () => 5000,
    });
    assert.equal(adapter.calls.length, 1);
  });
});

Deno.test("dispatch() answers DB_UNAVAILABLE when no adapter serves the template's store", async () => {
  const deps: DispatchDeps = { registry: () => REGISTRY, adapters: new Map(), limits: LIMITS };
  await assert.rejects(() => dispatch({ template: "cus", op: "read" }, ALL_OPS, deps), (error: unknown) => {
    assert.ok(error instanceof BedsError);
    assert.equal(error.code, "DB_UNAVAILABLE");
    assert.equal(error.message, "No mariadb adapter is configured on this node");
    return true;
  });
});

Deno.test("dispatch() answers DB_UNAVAILABLE for a transaction when no adapter serves its store", async () => {
  const deps: DispatchDeps = { registry: () => REGISTRY, adapters: new Map(), limits: LIMITS };
  const request: Request = {
    template: "cat",
    op: "create",
    data: { a_sku: "AAA-0001", a_name: "A", b_sku: "BBB-0001", b_name: "B", price: "1.00", stock: 1 },
  };
  await assert.rejects(() => dispatch(request, ALL_OPS, deps), (error: unknown) => {
    assert.ok(error instanceof BedsError);
    assert.equal(error.code, "DB_UNAVAILABLE");
    assert.equal(error.message, "No mariadb adapter is configured on this node");
    return true;
  });
});

Deno.test("dispatch() answers VALIDATION for bad fields and values", async (t) => {
  await t.step("an undeclared field in where", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { nick: "x" } },
      "VALIDATION",
      'Unknown field "nick" for template "cus"',
      { field: "nick" },
    );
  });
  await t.step("an undeclared field in data", async () => {
    await assertFails(
      { template: "cus", op: "create", data: { email: "a@b.co", name: "A", nick: "x" } },
      "VALIDATION",
      'Unknown field "nick" for template "cus"',
      { field: "nick" },
    );
  });
  await t.step("a declared field not allowed in where", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { name: "Ada" } },
      "VALIDATION",
      'Field "name" is not allowed in where',
      { field: "name" },
    );
  });
  await t.step("a field not allowed in order", async () => {
    await assertFails(
      { template: "cus", op: "read", order: ["id", "-email"] },
      "VALIDATION",
      'Field "email" is not allowed in order',
      { field: "email" },
    );
  });
  await t.step("a value of the wrong type", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { id: "1" } },
      "VALIDATION",
      'Field "id" must be an integer, got string',
      { field: "id" },
    );
  });
  await t.step("a wrong value inside a where list", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { status: ["active", "gone"] } },
      "VALIDATION",
      'Field "status" must be one of active, suspended',
      { field: "status" },
    );
  });
  await t.step("an empty where list", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { id: [] } },
      "VALIDATION",
      'Field "id" takes 1 to 1000 values',
      { field: "id" },
    );
  });
  await t.step("a missing required field on create", async () => {
    await assertFails(
      { template: "cus", op: "create", data: { email: "a@b.co" } },
      "VALIDATION",
      'Field "name" is required',
      { field: "name" },
    );
  });
  await t.step("a required field sent as null", async () => {
    await assertFails(
      { template: "ord", op: "create", data: { customer_id: 1, product_id: 2, qty: null } },
      "VALIDATION",
      'Field "qty" must not be null',
      { field: "qty" },
    );
  });
  await t.step("a missing key on update", async () => {
    await assertFails(
      { template: "cus", op: "update", data: { name: "B" } },
      "VALIDATION",
      'Field "id" is required',
      { field: "id" },
    );
  });
  await t.step("a field the op does not take", async () => {
    await assertFails(
      { template: "cus", op: "create", data: { email: "a@b.co", name: "A", status: "active" } },
      "VALIDATION",
      'Field "status" is not accepted by create of "cus"',
      { field: "status" },
    );
  });
  await t.step("key and data that conflict", async () => {
    await assertFails(
      { template: "cus", op: "update", key: { id: 1 }, data: { id: 2, name: "B" } },
      "VALIDATION",
      'Field "id" differs between key and data',
      { field: "id" },
    );
  });
  await t.step("a limit above the maximum", async () => {
    const error = await assertFails(
      { template: "cus", op: "read", limit: 1001 },
      "VALIDATION",
      "Limit 1001 exceeds the maximum of 1000",
    );
    assert.deepEqual(
      error.details,
      { field: "limit" },
      "as docs/protocol.md §2 says: details.field names it",
    );
  });
  await t.step("a read key missing its key field", async () => {
    await assertFails(
      { template: "cus", op: "read", key: { email: "a@b.co" } },
      "VALIDATION",
      'Key field "id" is required',
      { field: "id" },
    );
  });
  await t.step("a read key with a field outside the key", async () => {
    await assertFails(
      { template: "cus", op: "read", key: { id: 1, email: "a@b.co" } },
      "VALIDATION",
      'Field "email" is not part of the key',
      { field: "email" },
    );
  });
  await t.step("a field named like an Object.prototype member in where", async () => {
    await assertFails(
      { template: "cus", op: "read", where: { constructor: 1 } },
      "VALIDATION",
      'Unknown field "constructor" for template "cus"',
      { field: "constructor" },
    );
  });
});

Deno.test("dispatch() answers BAD_REQUEST for request parts the op does not take", async (t) => {
  const cases: Array<[Request, string]> = [
    [
      { template: "cus", op: "create", data: { email: "a@b.co", name: "A" }, where: { id: 1 } },
      'Op "create" does not take "where"',
    ],
    [{ template: "cus", op: "update", key: { id: 1 }, limit: 5 }, 'Op "update" does not take "limit"'],
    [{ template: "cus", op: "delete", key: { id: 1 }, order: ["id"] }, 'Op "delete" does not take "order"'],
    [
      { template: "cus", op: "call", call: "orders", key: { id: 1 }, offset: 1 },
      'Op "call" does not take "offset"',
    ],
    [{ template: "cus", op: "read", data: { id: 1 } }, 'Op "read" does not take "data"'],
    [{ template: "cov", op: "read", key: { id: 1 }, limit: 5000 }, 'Template "cov" does not take "limit"'],
    [{ template: "cov", op: "read", key: { id: 1 }, order: ["id"] }, 'Template "cov" does not take "order"'],
    [
      {
        template: "cat",
        op: "create",
        data: { a_sku: "A", a_name: "A", b_sku: "B", b_name: "B" },
        offset: 1,
      },
      'Template "cat" does not take "offset"',
    ],
  ];
  for (const [request, message] of cases) {
    await t.step(message, async () => {
      await assertFails(request, "BAD_REQUEST", message);
    });
  }
});

Deno.test("dispatch() hands the adapter checked values in a Map", async (t) => {
  await t.step("create: decimal normalised to a string, absent optional fields left out", async () => {
    const { adapter, result } = await run({
      template: "prd",
      op: "create",
      data: { sku: "ABC-1234", name: "Widget", price: 12.5 },
    });
    assert.deepEqual(result, { data: [{ ok: 1 }], rows: 1 });
    assert.equal(adapter.calls.length, 1);
    const call = adapter.calls[0]!;
    assert.equal(call.method, "create");
    assert.equal(call.input.template, REGISTRY.get("prd"));
    assert.ok(call.method === "create" && call.input.values instanceof Map);
    assert.deepEqual(
      call.input.values,
      new Map<string, unknown>([["sku", "ABC-1234"], ["name", "Widget"], ["price", "12.5"]]),
    );
  });
  await t.step("update: key and data merge; an equal value in both is fine", async () => {
    const { adapter } = await run({
      template: "cus",
      op: "update",
      key: { id: 7 },
      data: { id: 7, status: "suspended" },
    });
    const call = adapter.calls[0]!;
    assert.equal(call.method, "update");
    assert.deepEqual(call.input.values, new Map<string, unknown>([["id", 7], ["status", "suspended"]]));
  });
  await t.step(
    "update: a decimal string is kept as written",
    async () => {
      const { adapter } = await run({
        template: "prd",
        op: "update",
        key: { id: 3 },
        data: { price: "12.50" },
      });
      assert.deepEqual(adapter.calls[0]!.input, {
        template: REGISTRY.get("prd"),
        values: new Map<string, unknown>([["price", "12.50"], ["id", 3]]),
      });
    },
  );
  await t.step("delete", async () => {
    const { adapter } = await run({ template: "cus", op: "delete", key: { id: 9 } });
    assert.equal(adapter.calls[0]!.method, "delete");
    assert.deepEqual(adapter.calls[0]!.input.values, new Map([["id", 9]]));
  });
  await t.step("call: the call name and its values", async () => {
    const { adapter } = await run({ template: "cus", op: "call", call: "order_total", key: { id: 4 } });
    const call = adapter.calls[0]!;
    assert.equal(call.method, "call");
    assert.equal(call.method === "call" && call.input.call, "order_total");
    assert.deepEqual(call.input.values, new Map([["id", 4]]));
  });
  await t.step("call: a required param is enforced", async () => {
    await assertFails(
      { template: "ord", op: "call", call: "cancel" },
      "VALIDATION",
      'Field "id" is required',
      {
        field: "id",
      },
    );
  });
});

Deno.test("dispatch() builds reads: where arrays become IN lists, defaults apply", async (t) => {
  await t.step("where values become lists; order and paging pass through", async () => {
    const { adapter } = await run({
      template: "cus",
      op: "read",
      where: { status: ["active", "suspended"], id: 3 },
      order: ["-created_at", "name"],
      limit: 10,
      offset: 20,
    });
    const call = adapter.calls[0]!;
    assert.equal(call.method, "read");
    if (call.method !== "read") return;
    assert.deepEqual(
      call.input.where,
      new Map<string, unknown[]>([["status", ["active", "suspended"]], ["id", [3]]]),
    );
    assert.deepEqual(call.input.order, [{ field: "created_at", desc: true }, { field: "name", desc: false }]);
    assert.equal(call.input.limit, 10);
    assert.equal(call.input.offset, 20);
    assert.equal(call.input.key, undefined);
    assert.deepEqual(call.input.params, new Map());
    const statement = selectView("beds_lab", "v_customers", call.input.where, call.input.order, 10, 20);
    assert.equal(
      statement.sql,
      "SELECT * FROM `beds_lab`.`v_customers` WHERE `status` IN (?, ?) AND `id` = ? " +
        "ORDER BY `created_at` DESC, `name` LIMIT ? OFFSET ?",
    );
    assert.deepEqual(statement.values, ["active", "suspended", 3, 10, 20]);
  });
  await t.step("limit defaults to default_read_limit and offset to 0", async () => {
    const { adapter } = await run({ template: "ord", op: "read" });
    const input = adapter.calls[0]!.input as ReadInput;
    assert.equal(input.limit, 100);
    assert.equal(input.offset, 0);
    assert.deepEqual(input.where, new Map());
    assert.deepEqual(input.order, []);
  });
  await t.step("a read by key passes a checked key Map", async () => {
    const { adapter } = await run({ template: "prd", op: "read", key: { id: 12 } });
    const input = adapter.calls[0]!.input as ReadInput;
    assert.deepEqual(input.key, new Map([["id", 12]]));
  });
});

Deno.test("dispatch() rejects __proto__ and constructor keys in data without polluting prototypes", async (t) => {
  for (const key of ["__proto__", "constructor"]) {
    await t.step(key, async () => {
      const request = JSON.parse(
        `{"template":"cus","op":"create","data":{"email":"a@b.co","name":"A","${key}":{"polluted":true}}}`,
      ) as Request;
      assert.ok(Object.hasOwn(request.data!, key), "JSON.parse keeps the key as an own property");
      await assertFails(request, "VALIDATION", `Unknown field "${key}" for template "cus"`, { field: key });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
    });
  }
});

Deno.test("dispatch() requires a read key field even when it is named like an Object.prototype member", async () => {
  const template = compileTemplate(
    "odd.toml",
    `[template]
name = "odd"
store = "mariadb"
database = "lab"

[fields.constructor]
type = "int"

[fields.label]
type = "string"

[ops.read]
view = "v_odd"
key = ["constructor"]
`,
  );
  const registry = createRegistry([template]);
  await assertFails(
    { template: "odd", op: "read", key: {} },
    "VALIDATION",
    'Key field "constructor" is required',
    {
      registry,
      field: "constructor",
    },
  );
  const { adapter } = await run({ template: "odd", op: "read", key: { constructor: 5 } }, ALL_OPS, {
    registry,
  });
  assert.deepEqual((adapter.calls[0]!.input as ReadInput).key, new Map([["constructor", 5]]));
});

Deno.test("dispatch() passes adapter errors through unchanged", async () => {
  const { adapter, deps } = setup();
  const failure = new BedsError("NOT_FOUND", "No such customer");
  adapter.read = () => Promise.reject(failure);
  await assert.rejects(
    () => dispatch({ template: "cus", op: "read", key: { id: 1 } }, ALL_OPS, deps),
    (error) => {
      assert.equal(error, failure);
      return true;
    },
  );
});

Deno.test("dispatch() refuses a required json field sent as null, though a json field takes null", async () => {
  const template = compileTemplate(
    "jsn.toml",
    `[template]
name = "jsn"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"

[fields.meta]
type = "json"
required = true

[fields.note]
type = "json"

[ops.create]
procedure = "sp_jsn_create"
params = ["meta", "note"]
`,
  );
  const registry = createRegistry([template]);
  await assertFails(
    { template: "jsn", op: "create", data: { meta: null } },
    "VALIDATION",
    'Field "meta" is required',
    { registry, field: "meta" },
  );
  const { adapter } = await run({ template: "jsn", op: "create", data: { meta: {}, note: null } }, ALL_OPS, {
    registry,
  });
  assert.deepEqual(
    (adapter.calls[0]!.input as WriteInput).values,
    new Map([["meta", "{}"], ["note", "null"]]),
  );
});
