/**
 * One contract suite for every store adapter: the same behaviour checks run
 * against MariaDB (the lab's `cus` template on a fresh test schema) and,
 * when BEDS_TEST_MONGO_URL is set, against MongoDB (the `mcu` template of
 * tests/testdata/mongo_templates on a fresh database, dropped afterwards).
 */
import assert from "node:assert/strict";
import { Decimal128, MongoClient, ObjectId } from "mongodb";
import {
  type Adapter,
  createMariadbAdapter,
  createMongodbAdapter,
  type MongodbAdapter,
  type ReadInput,
  type WriteInput,
} from "../../src/adapters/mod.ts";
import { BedsError, type ErrorCode } from "../../src/errors.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { loadLogStoreTemplate, LOGSTORE_COLLECTION, LOGSTORE_INDEXES } from "../../src/logstore/mod.ts";
import { compileTemplate, loadTemplates, type RecTemplate, recTemplates } from "../../src/templates/mod.ts";
import { createTestEnv, dbQuery, ROOT, uniqueId } from "../helpers/services.ts";

type Doc = Record<string, unknown>;

/** One adapter under test, with what the suite needs to know about it. */
interface Subject {
  adapter: Adapter;
  /** A template with read by key and where, create, update and delete, and a unique `email`. */
  template: RecTemplate;
  /** The same template naming a database object that does not exist. */
  missing: RecTemplate;
  /**
   * Whether the adapter itself must refuse operator-shaped values: a query
   * language made of documents (MongoDB) must; bound SQL parameters cannot
   * carry an operator, so MariaDB has nothing to refuse.
   */
  refusesOperators: boolean;
}

async function templateNamed(dir: string, name: string): Promise<RecTemplate> {
  const found = recTemplates(await loadTemplates(dir)).find((t) => t.name === name);
  assert.ok(found, `template "${name}" in ${dir}`);
  return found;
}

async function rejects(work: () => Promise<unknown>, code: ErrorCode): Promise<BedsError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof BedsError, `expected a BedsError ${code}, got ${error}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

/** The behaviour every adapter shares, as steps of one test. */
async function contract(t: Deno.TestContext, s: Subject): Promise<void> {
  const { adapter, template } = s;
  const tag = uniqueId();
  const email = (n: number) => `contract.${tag}.${n}@example.com`;
  const values = (entries: Record<string, unknown>) => new Map(Object.entries(entries));
  const write = (entries: Record<string, unknown>): WriteInput => ({ template, values: values(entries) });
  const read = (input: Partial<ReadInput>): ReadInput => ({
    template,
    where: new Map(),
    order: [],
    limit: 100,
    offset: 0,
    params: new Map(),
    ...input,
  });
  const byKey = (id: unknown) => read({ key: values({ id }) });
  let first: Doc = {};
  let second: Doc = {};

  await t.step("create returns the new record with its key", async () => {
    const created = await adapter.create(write({ email: email(1), name: "Ada Contract" }));
    first = created.data as Doc;
    assert.equal(created.rows, 1);
    assert.ok(first.id !== undefined && first.id !== null, `a key in ${JSON.stringify(first)}`);
    assert.equal(first.email, email(1));
    assert.equal(first.name, "Ada Contract");
    second = (await adapter.create(write({ email: email(2), name: "Bob Contract" }))).data as Doc;
    assert.notEqual(second.id, first.id);
  });

  await t.step("read by key returns that one record", async () => {
    const result = await adapter.read(byKey(first.id));
    assert.equal(result.rows, 1);
    assert.ok(!Array.isArray(result.data));
    assert.equal((result.data as Doc).id, first.id);
    assert.equal((result.data as Doc).email, email(1));
  });

  await t.step("read by where filters on equality and any-of, with order, limit and offset", async () => {
    const only = await adapter.read(read({ where: new Map([["email", [email(2)]]]) }));
    assert.deepEqual((only.data as Doc[]).map((d) => d.email), [email(2)]);
    const both = await adapter.read(read({
      where: new Map([["email", [email(1), email(2), email(99)]]]),
      order: [{ field: "name", desc: true }],
    }));
    assert.deepEqual((both.data as Doc[]).map((d) => d.name), ["Bob Contract", "Ada Contract"]);
    assert.equal(both.rows, 2);
    const page = await adapter.read(read({
      where: new Map([["email", [email(1), email(2)]]]),
      order: [{ field: "name", desc: false }],
      limit: 1,
      offset: 1,
    }));
    assert.deepEqual((page.data as Doc[]).map((d) => d.name), ["Bob Contract"]);
  });

  await t.step("update changes only the given fields and returns the record", async () => {
    const updated = await adapter.update(write({ id: first.id, status: "suspended" }));
    assert.equal((updated.data as Doc).status, "suspended");
    assert.equal((updated.data as Doc).name, "Ada Contract", "a field not sent is left as it was");
    const again = (await adapter.read(byKey(first.id))).data as Doc;
    assert.equal(again.status, "suspended");
    assert.equal(again.email, email(1));
  });

  await t.step("operator-looking text is stored and read back as plain data", async () => {
    for (const name of ["$where", '{"$gt": ""}', "a.b"]) {
      await adapter.update(write({ id: second.id, name }));
      assert.equal(((await adapter.read(byKey(second.id))).data as Doc).name, name);
    }
    const none = await adapter.read(read({ where: new Map([["email", ['{"$gt": ""}']]]) }));
    assert.deepEqual(none.data, [], "a filter value is compared, never interpreted");
  });

  await t.step("a duplicate unique value is CONFLICT", async () => {
    await rejects(() => adapter.create(write({ email: email(2), name: "Copy" })), "CONFLICT");
  });

  await t.step("delete returns the record as it was; then it is NOT_FOUND", async () => {
    const deleted = await adapter.delete(write({ id: first.id }));
    assert.equal((deleted.data as Doc).email, email(1));
    const error = await rejects(() => adapter.read(byKey(first.id)), "NOT_FOUND");
    assert.deepEqual(error.details, { key: { id: first.id } });
    await rejects(() => adapter.update(write({ id: first.id, name: "Ghost" })), "NOT_FOUND");
    await rejects(() => adapter.delete(write({ id: first.id })), "NOT_FOUND");
  });

  if (s.refusesOperators) {
    await t.step("operator-shaped values are VALIDATION", async () => {
      await rejects(() => adapter.read(read({ where: new Map([["email", [{ $gt: "" }]]]) })), "VALIDATION");
      await rejects(() => adapter.read(byKey({ $ne: null })), "VALIDATION");
      await rejects(() => adapter.read(read({ where: new Map([["$where", ["1"]]]) })), "VALIDATION");
      await rejects(() => adapter.update(write({ id: second.id, name: { $gt: "" } })), "VALIDATION");
      await rejects(() => adapter.delete(write({ id: { $exists: true } })), "VALIDATION");
      assert.equal(((await adapter.read(byKey(second.id))).data as Doc).email, email(2), "nothing changed");
    });
  }

  await t.step("verify() finds the template's object, and reports a missing one", async () => {
    assert.deepEqual(await adapter.verify([template]), []);
    const problems = await adapter.verify([s.missing]);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.equal(problems[0]!.severity, "error");
    assert.equal(problems[0]!.template, template.name);
    assert.match(problems[0]!.message, /does not exist/);
  });
}

Deno.test("adapter contract: mariadb", async (t) => {
  const env = await createTestEnv();
  const adapter = createMariadbAdapter({ config: env.config.databases.mariadb!, logger: silentLogger() });
  try {
    await adapter.open();
    const template = await templateNamed(`${ROOT}/templates`, "cus");
    const missing = {
      ...template,
      ops: { ...template.ops, read: { ...template.ops.read!, view: "v_no_such" } },
    };
    await contract(t, { adapter, template, missing, refusesOperators: false });
    await t.step(
      "a key that matches more than one row of the view is DB_ERROR, not one of them",
      async () => {
        await dbQuery(
          env,
          "CREATE VIEW v_cus_twice AS SELECT * FROM v_customers UNION ALL SELECT * FROM v_customers",
        );
        const twice = {
          ...template,
          ops: { ...template.ops, read: { ...template.ops.read!, view: "v_cus_twice" } },
        };
        const id = (await dbQuery<Array<{ id: number }>>(env, "SELECT MIN(id) AS id FROM customers"))[0]!.id;
        const input = {
          template: twice,
          key: new Map([["id", id]]),
          where: new Map(),
          order: [],
          limit: 1,
          offset: 0,
        };
        const error = await rejects(() => adapter.read({ ...input, params: new Map() }), "DB_ERROR");
        assert.match(error.message, /matches more than one row of view "v_cus_twice"/);
        assert.deepEqual(error.details, { key: { id } });
      },
    );
  } finally {
    await adapter.close();
    await env.cleanup();
  }
});

const MONGO_URL = Deno.env.get("BEDS_TEST_MONGO_URL") || undefined;
const MONGO_SKIPPED = "adapter contract: mongodb — skipped: BEDS_TEST_MONGO_URL is not set";

if (!MONGO_URL) console.log(MONGO_SKIPPED);

/**
 * A database of its own on the test server, a driver client connected to it and an adapter whose
 * logical database `logical` is it (not opened: tests open it when their collections are ready);
 * all three removed afterwards.
 */
async function withMongo(
  logical: string,
  fn: (mongo: { database: string; direct: MongoClient; adapter: MongodbAdapter }) => Promise<void>,
): Promise<void> {
  const database = `beds_t_${uniqueId()}`;
  const direct = new MongoClient(MONGO_URL!, { serverSelectionTimeoutMS: 5000 });
  const adapter = createMongodbAdapter({
    config: {
      url: MONGO_URL!,
      database,
      optional: false,
      connect_timeout_ms: 5000,
      query_timeout_ms: 30_000,
      databases: { [logical]: database },
    },
    logger: silentLogger(),
  });
  try {
    await direct.connect();
    await fn({ database, direct, adapter });
  } finally {
    await adapter.close();
    await direct.db(database).dropDatabase().catch(() => {});
    await direct.close();
  }
}

Deno.test({
  name: MONGO_URL ? "adapter contract: mongodb" : MONGO_SKIPPED,
  ignore: !MONGO_URL,
  // The driver's monitors end in close(), but on their own schedule.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    await withMongo("lab", async ({ database, direct, adapter }) => {
      const template = await templateNamed(`${ROOT}/tests/testdata/mongo_templates`, "mcu");
      // Collections and their unique indexes belong to the DBA: here, to the test.
      const customers = await direct.db(database).createCollection(template.collection!);
      await customers.createIndex({ id: 1 }, { unique: true });
      await customers.createIndex({ email: 1 }, { unique: true });
      await adapter.open();
      const missing = { ...template, collection: "no_such" };
      await contract(t, { adapter, template, missing, refusesOperators: true });
    });
  },
});

Deno.test({
  name: MONGO_URL
    ? "mongodb: the log collection is created with its indexes when missing, and given them when it exists"
    : "mongodb log collection — skipped: BEDS_TEST_MONGO_URL is not set",
  ignore: !MONGO_URL,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withMongo("logs", async ({ database, direct, adapter }) => {
      await adapter.open();
      const template = await loadLogStoreTemplate({
        dir: `${ROOT}/templates/logstore`,
        store: "mongodb",
        database: "logs",
      });
      await adapter.ensureCollection(template, LOGSTORE_INDEXES);
      await adapter.ensureCollection(template, LOGSTORE_INDEXES); // a second node starting
      const keys = (await direct.db(database).collection(LOGSTORE_COLLECTION).listIndexes().toArray())
        .map((index) => JSON.stringify(index.key));
      assert.deepEqual(keys.sort(), ['{"_id":1}', '{"at":-1,"event":-1}', '{"root":1,"at":1}'].sort());
      assert.deepEqual(await adapter.verify([template]), []);
      // A collection without its indexes (a start that failed after creating it) gets them next time.
      await direct.db(database).createCollection("bareLogs");
      await adapter.ensureCollection({ ...template, collection: "bareLogs" }, LOGSTORE_INDEXES);
      const bare = (await direct.db(database).collection("bareLogs").listIndexes().toArray())
        .map((index) => JSON.stringify(index.key));
      assert.deepEqual(bare.sort(), keys.sort());
    });
  },
});

Deno.test({
  name: MONGO_URL
    ? "mongodb: fields that declare a bson type match what another program stored, and are stored alike"
    : "mongodb bson types — skipped: BEDS_TEST_MONGO_URL is not set",
  ignore: !MONGO_URL,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const template = compileTemplate(
      "pay_rec.toml",
      `[template]\nname = "pay"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "payments"\n\n` +
        `[fields.id]\ntype = "string"\n\n[fields.customer]\ntype = "string"\nbson = "objectId"\n\n` +
        `[fields.at]\ntype = "datetime"\nbson = "date"\n\n[fields.amount]\ntype = "decimal"\nbson = "decimal128"\n\n` +
        `[ops.read]\nkey = ["id"]\nwhere = ["customer"]\n\n` +
        `[ops.create]\nparams = ["id", "customer", "at", "amount"]\nkey = ["id"]\n`,
    ) as RecTemplate;
    await withMongo("lab", async ({ database, direct, adapter }) => {
      const customer = new ObjectId();
      await direct.db(database).collection("payments").insertOne({
        id: "p1",
        customer,
        at: new Date("2024-01-08T09:14:00.123Z"),
        amount: Decimal128.fromString("9.50"),
      });
      await adapter.open();
      const where = new Map([["customer", [customer.toHexString()]]]);
      const found = await adapter.read({
        template,
        where,
        order: [],
        limit: 10,
        offset: 0,
        params: new Map(),
      });
      assert.deepEqual(JSON.parse(JSON.stringify(found.data)), [{
        id: "p1",
        customer: customer.toHexString(),
        at: "2024-01-08T09:14:00.123Z",
        amount: "9.50",
      }]);
      await adapter.create({
        template,
        values: new Map<string, unknown>([
          ["id", "p2"],
          ["customer", customer.toHexString()],
          ["at", "2024-01-09 10:00:00.000"],
          ["amount", "1.25"],
        ]),
      });
      const stored = await direct.db(database).collection("payments").findOne({ id: "p2" });
      assert.ok(stored!.customer instanceof ObjectId && stored!.customer.equals(customer));
      assert.ok(stored!.at instanceof Date);
      assert.ok(stored!.amount instanceof Decimal128);
    });
  },
});
