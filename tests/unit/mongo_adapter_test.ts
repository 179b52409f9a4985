/**
 * The MongoDB adapter's pure parts that need no server: client options and
 * time limits, the options each operation passes to the driver, health from
 * the topology, and the log collection's indexes.
 */
import assert from "node:assert/strict";
import { type Collection, Decimal128, type Document, Long, MongoClient, ObjectId } from "mongodb";
import type { BedsError } from "../../src/errors.ts";
import { type DbLike, ensureCollectionIn } from "../../src/adapters/mongodb/ensure_collection.ts";
import { mongoOperations } from "../../src/adapters/mongodb/operations.ts";
import { clientOptions, SOCKET_MARGIN_MS } from "../../src/adapters/mongodb/options.ts";
import { topologyHealth } from "../../src/adapters/mongodb/topology.ts";
import { loadConfig, type MongodbConfig } from "../../src/config/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";

const CONFIG: MongodbConfig = {
  url: "mongodb://m1:27017,m2:27017/beds?replicaSet=rs0&w=majority",
  database: "beds",
  optional: false,
  connect_timeout_ms: 3000,
  query_timeout_ms: 30_000,
  databases: {},
};

Deno.test("[databases.mongodb] query_timeout_ms defaults to 30000, as MariaDB's", async () => {
  const dir = await Deno.makeTempDir({ prefix: "beds_mongo_config_" });
  try {
    await Deno.writeTextFile(
      `${dir}/beds.toml`,
      `[amqp]\nuser = "beds"\npass = ""\n\n[brokers.rBroker]\nops = ["read"]\nbindings = ["read.*"]\n\n` +
        `[nodes.appServer]\nbrokers = ["rBroker"]\n\n[databases.mongodb]\nurl = "mongodb://m1"\n`,
    );
    assert.equal(loadConfig({ dir }).databases.mongodb!.query_timeout_ms, 30_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("clientOptions() bounds sockets a little past query_timeout_ms and write concerns at it", async (t) => {
  await t.step("the options", () => {
    const options = clientOptions(CONFIG);
    assert.equal(options.socketTimeoutMS, 30_000 + SOCKET_MARGIN_MS);
    assert.ok(SOCKET_MARGIN_MS > 0, "the server's maxTimeMS answers first");
    assert.deepEqual(options.writeConcern, { wtimeoutMS: 30_000 });
    assert.equal(options.serverSelectionTimeoutMS, 3000);
    assert.equal(options.connectTimeoutMS, 3000);
  });
  await t.step("as the driver reads them: the URL's w kept, wtimeoutMS from query_timeout_ms", () => {
    // A client that is never connected opens nothing.
    const client = new MongoClient(CONFIG.url, clientOptions(CONFIG));
    assert.equal(client.options.socketTimeoutMS, 35_000);
    assert.equal(client.options.writeConcern?.w, "majority");
    assert.equal(client.options.writeConcern?.wtimeoutMS, 30_000);
    const own = new MongoClient(`${CONFIG.url}&wtimeoutMS=5000`, clientOptions(CONFIG));
    assert.equal(own.options.writeConcern?.wtimeoutMS, 30_000);
  });
});

Deno.test("clientOptions() has the driver send a read once: a silent server holds it one socket timeout", async (t) => {
  await t.step("retryReads off, whatever the URL says", () => {
    assert.equal(clientOptions(CONFIG).retryReads, false);
    assert.equal(new MongoClient(CONFIG.url, clientOptions(CONFIG)).options.retryReads, false);
    assert.equal(
      new MongoClient(`${CONFIG.url}&retryReads=true`, clientOptions(CONFIG)).options.retryReads,
      false,
    );
  });
  await t.step(
    "retryWrites left to the URL: on by default, off where the server has no retryable writes",
    () => {
      assert.equal("retryWrites" in clientOptions(CONFIG), false);
      assert.equal(new MongoClient(CONFIG.url, clientOptions(CONFIG)).options.retryWrites, true);
      assert.equal(
        new MongoClient(`${CONFIG.url}&retryWrites=false`, clientOptions(CONFIG)).options.retryWrites,
        false,
      );
    },
  );
});

const TEMPLATE = compileTemplate(
  "tpl/mtt.toml",
  `[template]
name = "mtt"
store = "mongodb"
database = "lab"
collection = "things"

[fields.id]
type = "string"

[fields.name]
type = "string"

[ops.read]
key = ["id"]
where = ["name"]
order = ["name"]

[ops.create]
params = ["id", "name"]
key = ["id"]

[ops.update]
params = ["id", "name"]
key = ["id"]

[ops.delete]
params = ["id"]
key = ["id"]
`,
);

Deno.test("mongoOperations() reads and finds-and-modifies the template's fields within maxTimeMS", async () => {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  // A document as another writer keeps it: more than the template declares.
  const stored = { _id: "x", id: "a", name: "A", password_hash: "$2b$secret" };
  const collection = {
    find(_filter: unknown, options: Record<string, unknown>) {
      calls.push(["find", options]);
      return { toArray: () => Promise.resolve([stored]) };
    },
    findOne(_filter: unknown, options: Record<string, unknown>) {
      calls.push(["findOne", options]);
      return Promise.resolve(stored);
    },
    findOneAndUpdate(_filter: unknown, _update: unknown, options: Record<string, unknown>) {
      calls.push(["findOneAndUpdate", options]);
      return Promise.resolve(stored);
    },
    findOneAndDelete(_filter: unknown, options: Record<string, unknown>) {
      calls.push(["findOneAndDelete", options]);
      return Promise.resolve(stored);
    },
    insertOne(_doc: unknown, options?: Record<string, unknown>) {
      calls.push(["insertOne", options]);
      return Promise.resolve({ acknowledged: true });
    },
  };
  const ops = mongoOperations(() => collection as unknown as Collection<Document>, { maxTimeMS: 1234 });
  const values = (entries: Record<string, unknown>) => new Map(Object.entries(entries));
  const read = { template: TEMPLATE, where: new Map(), order: [], limit: 10, offset: 0, params: new Map() };
  const replies = [
    (await ops.read(read)).data,
    (await ops.read({ ...read, key: values({ id: "a" }) })).data,
    (await ops.update({ template: TEMPLATE, values: values({ id: "a", name: "B" }) })).data,
    (await ops.update({ template: TEMPLATE, values: values({ id: "a" }) })).data,
    (await ops.delete({ template: TEMPLATE, values: values({ id: "a" }) })).data,
  ];
  await ops.create({ template: TEMPLATE, values: values({ id: "b", name: "B" }) });
  const limited = { projection: { _id: 0, id: 1, name: 1 }, maxTimeMS: 1234 };
  assert.deepEqual(calls.map(([name]) => name), [
    "find",
    "findOne",
    "findOneAndUpdate",
    "findOne",
    "findOneAndDelete",
    "insertOne",
  ]);
  for (const [name, options] of calls.slice(0, 5)) {
    assert.deepEqual(
      { projection: options?.projection, maxTimeMS: options?.maxTimeMS },
      limited,
      `${name} asks for the template's fields within the time limit`,
    );
  }
  assert.deepEqual(replies, [[{ id: "a", name: "A" }], ...Array(4).fill({ id: "a", name: "A" })]);
});

Deno.test("topologyHealth() is healthy only while a writable server is known", async (t) => {
  const server = (type: string) => ({
    type,
    isWritable: ["RSPrimary", "Standalone", "Mongos", "LoadBalancer"].includes(type),
  });
  const topology = (...types: string[]) => ({
    servers: new Map(types.map((type, i) => [`h${i}:27017`, server(type)])),
  });
  await t.step("a replica set with its primary", () => {
    assert.deepEqual(topologyHealth(topology("RSPrimary", "RSSecondary", "Unknown")), {
      healthy: true,
      servers: 2,
    });
  });
  await t.step("secondaries without a primary: every write fails, so not healthy", () => {
    assert.deepEqual(topologyHealth(topology("RSSecondary", "RSSecondary", "Unknown")), {
      healthy: false,
      servers: 2,
    });
  });
  await t.step("a standalone, a mongos, a load balancer", () => {
    for (const type of ["Standalone", "Mongos", "LoadBalancer"]) {
      assert.ok(topologyHealth(topology(type)).healthy);
    }
  });
  await t.step("nothing known yet, or an arbiter alone", () => {
    assert.deepEqual(topologyHealth(topology("Unknown")), { healthy: false, servers: 0 });
    assert.equal(topologyHealth(topology("RSArbiter")).healthy, false);
  });
});

/** A database of one collection that may or may not exist, recording what is asked of it. */
function fakeDb(exists: boolean, createError?: { codeName: string }) {
  const asked: string[] = [];
  const db: DbLike = {
    listCollections: () => ({ toArray: () => Promise.resolve(exists ? [{ name: "msLogs" }] : []) }),
    createCollection(name) {
      asked.push(`createCollection ${name}`);
      return createError ? Promise.reject(createError) : Promise.resolve();
    },
    collection: (name) => ({
      createIndexes(specs) {
        asked.push(`createIndexes ${name} ${JSON.stringify(specs)}`);
        return Promise.resolve();
      },
    }),
  };
  return { db, asked };
}

Deno.test("ensureCollectionIn() asks for the indexes whether it created the collection or found it", async (t) => {
  const indexes = [{ root: 1, at: 1 } as const];
  const createIndexes = 'createIndexes msLogs [{"key":{"root":1,"at":1}}]';
  await t.step("missing: created, then its indexes", async () => {
    const { db, asked } = fakeDb(false);
    await ensureCollectionIn(db, { name: "msLogs", indexes });
    assert.deepEqual(asked, ["createCollection msLogs", createIndexes]);
  });
  await t.step("found (a start that failed before its indexes): the indexes", async () => {
    const { db, asked } = fakeDb(true);
    await ensureCollectionIn(db, { name: "msLogs", indexes });
    assert.deepEqual(asked, [createIndexes]);
  });
  await t.step("created by another node meanwhile: the indexes all the same", async () => {
    const { db, asked } = fakeDb(false, { codeName: "NamespaceExists" });
    await ensureCollectionIn(db, { name: "msLogs", indexes });
    assert.deepEqual(asked, ["createCollection msLogs", createIndexes]);
  });
  await t.step("any other failure is thrown", async () => {
    const { db } = fakeDb(false, { codeName: "Unauthorized" });
    await assert.rejects(() => ensureCollectionIn(db, { name: "msLogs", indexes }), {
      codeName: "Unauthorized",
    });
  });
});

Deno.test("mongoOperations() stores and matches datetimes to the millisecond, so what a reply gives matches again", async () => {
  const template = compileTemplate(
    "tpl/evt.toml",
    `[template]\nname = "evt"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "events"\n\n` +
      `[fields.id]\ntype = "string"\n\n[fields.at]\ntype = "datetime"\n\n` +
      `[ops.read]\nkey = ["id"]\nwhere = ["at"]\n\n[ops.create]\nparams = ["id", "at"]\nkey = ["id"]\n\n` +
      `[ops.update]\nparams = ["id", "at"]\nkey = ["id"]\n`,
  );
  const docs: Record<string, unknown>[] = [];
  const filters: unknown[] = [];
  const collection = {
    insertOne(doc: Record<string, unknown>) {
      docs.push(doc);
      return Promise.resolve({ acknowledged: true });
    },
    find(filter: unknown) {
      filters.push(filter);
      return { toArray: () => Promise.resolve(docs) };
    },
    findOneAndUpdate(filter: unknown, update: { $set: Record<string, unknown> }) {
      filters.push(filter);
      docs.push(update.$set);
      return Promise.resolve(docs[0]);
    },
  };
  const ops = mongoOperations(() => collection as unknown as Collection<Document>, { maxTimeMS: 1000 });
  // As the field check passes them on: UTC, microseconds kept.
  const at = "2024-01-08 09:14:00.123456";
  const created = await ops.create({
    template,
    values: new Map<string, unknown>([["id", "e1"], ["at", at]]),
  });
  assert.equal(docs[0]!.at, "2024-01-08 09:14:00.123", "stored to the millisecond");
  const read = (created.data as { at: Date }).at;
  assert.equal(read.toISOString(), "2024-01-08T09:14:00.123Z");
  // The reply's value, checked again as a client's would be, matches what is stored.
  const where = new Map([["at", ["2024-01-08 09:14:00.123"]]]);
  await ops.read({ template, where, order: [], limit: 10, offset: 0, params: new Map() });
  await ops.read({
    template,
    where: new Map([["at", [at]]]),
    order: [],
    limit: 10,
    offset: 0,
    params: new Map(),
  });
  assert.deepEqual(filters, [{ at: "2024-01-08 09:14:00.123" }, { at: "2024-01-08 09:14:00.123" }]);
  await ops.update({ template, values: new Map<string, unknown>([["id", "e1"], ["at", at]]) });
  assert.equal(docs[1]!.at, "2024-01-08 09:14:00.123");
});

Deno.test("mongoOperations() stores and matches fields that declare a bson type as that type", async () => {
  const template = compileTemplate(
    "tpl/pay.toml",
    `[template]\nname = "pay"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "payments"\n\n` +
      `[fields.id]\ntype = "string"\n\n[fields.customer]\ntype = "string"\nbson = "objectId"\n\n` +
      `[fields.at]\ntype = "datetime"\nbson = "date"\n\n[fields.day]\ntype = "date"\nbson = "date"\n\n` +
      `[fields.amount]\ntype = "decimal"\nbson = "decimal128"\n\n` +
      `[ops.read]\nkey = ["id"]\nwhere = ["customer"]\n\n` +
      `[ops.create]\nparams = ["id", "customer", "at", "day", "amount"]\nkey = ["id"]\n`,
  );
  const docs: Record<string, unknown>[] = [];
  const filters: Record<string, unknown>[] = [];
  const collection = {
    insertOne(doc: Record<string, unknown>) {
      docs.push(doc);
      return Promise.resolve({ acknowledged: true });
    },
    find(filter: Record<string, unknown>) {
      filters.push(filter);
      return { toArray: () => Promise.resolve(docs) };
    },
  };
  const ops = mongoOperations(() => collection as unknown as Collection<Document>, { maxTimeMS: 1000 });
  const hex = "65a1b2c3d4e5f60718293a4b";
  const created = await ops.create({
    template,
    values: new Map<string, unknown>([
      ["id", "p1"],
      ["customer", hex],
      ["at", "2024-01-08 09:14:00.123"],
      ["day", "2024-01-08"],
      ["amount", "9.50"],
    ]),
  });
  const stored = docs[0]!;
  assert.ok(stored.customer instanceof ObjectId && stored.customer.toHexString() === hex);
  assert.deepEqual(stored.at, new Date("2024-01-08T09:14:00.123Z"));
  assert.deepEqual(stored.day, new Date("2024-01-08T00:00:00.000Z"));
  assert.ok(stored.amount instanceof Decimal128 && stored.amount.toString() === "9.50");
  // The reply reads as MariaDB's would: the id as hex, times as Dates, the decimal as text.
  assert.deepEqual(JSON.parse(JSON.stringify(created.data)), {
    id: "p1",
    customer: hex,
    at: "2024-01-08T09:14:00.123Z",
    day: "2024-01-08T00:00:00.000Z",
    amount: "9.50",
  });
  const other = "65a1b2c3d4e5f60718293a4c";
  await ops.read({
    template,
    where: new Map([["customer", [hex, other]]]),
    order: [],
    limit: 10,
    offset: 0,
    params: new Map(),
  });
  const $in = (filters[0]!.customer as { $in: ObjectId[] }).$in;
  assert.deepEqual($in.map((id) => id.toHexString()), [hex, other]);
  await assert.rejects(
    () =>
      ops.read({
        template,
        where: new Map([["customer", ["nothex"]]]),
        order: [],
        limit: 10,
        offset: 0,
        params: new Map(),
      }),
    (error: BedsError) => error.code === "VALIDATION" && /must be an ObjectId/.test(error.message),
  );
  // More digits than a Decimal128 holds: VALIDATION, not an error from deep inside the driver.
  await assert.rejects(
    () =>
      ops.create({
        template,
        values: new Map<string, unknown>([["id", "p9"], ["amount", "1234567890123456789012345678901234.5"]]),
      }),
    (error: BedsError) =>
      error.code === "VALIDATION" && /more digits than a Decimal128 holds/.test(error.message),
  );
});

Deno.test("mongoOperations() stores and matches an int past ±(2^53−1) as a 64-bit integer", async () => {
  const template = compileTemplate(
    "tpl/tik.toml",
    `[template]\nname = "tik"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "tickets"\n\n` +
      `[fields.id]\ntype = "int"\n\n[fields.seq]\ntype = "int"\n\n` +
      `[ops.read]\nkey = ["id"]\nwhere = ["seq"]\n\n[ops.create]\nparams = ["id", "seq"]\nkey = ["id"]\n\n` +
      `[ops.update]\nparams = ["id", "seq"]\nkey = ["id"]\n`,
  );
  const docs: Record<string, unknown>[] = [];
  const filters: Record<string, unknown>[] = [];
  const collection = {
    insertOne(doc: Record<string, unknown>) {
      docs.push(doc);
      return Promise.resolve({ acknowledged: true });
    },
    find(filter: Record<string, unknown>) {
      filters.push(filter);
      return { toArray: () => Promise.resolve([]) };
    },
    findOneAndUpdate(filter: Record<string, unknown>) {
      filters.push(filter);
      return Promise.resolve({ ...docs[0] });
    },
  };
  const ops = mongoOperations(() => collection as unknown as Collection<Document>, { maxTimeMS: 1000 });
  const big = "9007199254740993";
  const created = await ops.create({ template, values: new Map<string, unknown>([["id", big], ["seq", 7]]) });
  assert.ok(docs[0]!.id instanceof Long && docs[0]!.id.toString() === big, String(docs[0]!.id));
  assert.equal(docs[0]!.seq, 7, "an int within the safe range stays a number");
  assert.deepEqual(created.data, { id: big, seq: 7 }, "the reply gives the digits back");
  const where = new Map<string, unknown[]>([["seq", [big, 1]]]);
  await ops.read({ template, where, order: [], limit: 10, offset: 0, params: new Map() });
  const $in = (filters[0]!.seq as { $in: unknown[] }).$in;
  assert.ok($in[0] instanceof Long && $in[0].toString() === big);
  assert.equal($in[1], 1);
  await ops.update({ template, values: new Map<string, unknown>([["id", big], ["seq", 8]]) });
  assert.ok(filters[1]!.id instanceof Long && filters[1]!.id.toString() === big);
  // Past a signed 64-bit integer (a BIGINT UNSIGNED may hold it): VALIDATION, not a BSON error.
  await assert.rejects(
    () => ops.create({ template, values: new Map<string, unknown>([["id", "9223372036854775808"]]) }),
    (error: BedsError) => error.code === "VALIDATION" && /64-bit integer/.test(error.message),
  );
});
