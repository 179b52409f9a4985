/**
 * A MongoDB adapter whose first connect failed connects again: the
 * driver leaves such a client with a closed topology, on which every
 * operation fails at once, for good. Against a fake MongoDB on a local port
 * (tests/helpers/fake_mongo.ts), and the connector alone against a client
 * that fails as told.
 */
import assert from "node:assert/strict";
import { createMongodbAdapter, type MongodbAdapter } from "../../src/adapters/mod.ts";
import { createConnector } from "../../src/adapters/mongodb/connector.ts";
import type { BedsError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logging/mod.ts";
import { compileTemplate } from "../../src/templates/mod.ts";
import { fakeMongo } from "../helpers/fake_mongo.ts";

const TEMPLATE = compileTemplate(
  "tpl/mrc.toml",
  `
[template]
name = "mrc"
store = "mongodb"
database = "app"
collection = "things"

[fields.id]
type = "string"

[fields.name]
type = "string"

[ops.read]
key = ["id"]

[ops.create]
params = ["id", "name"]
key = ["id"]
`,
);
if (TEMPLATE.kind !== "rec") throw new Error("mrc is a REC template");

function adapterOn(port: number): MongodbAdapter {
  return createMongodbAdapter({
    config: {
      url: `mongodb://127.0.0.1:${port}`,
      database: "app",
      optional: true,
      connect_timeout_ms: 300,
      query_timeout_ms: 5000,
      databases: {},
    },
    logger: silentLogger(),
  });
}

const readOne = (adapter: MongodbAdapter) =>
  adapter.read({
    template: TEMPLATE,
    key: new Map([["id", "a"]]),
    where: new Map(),
    order: [],
    limit: 1,
    offset: 0,
    params: new Map(),
  });

Deno.test("a MongoDB adapter whose open() failed serves once the server is up, with no new adapter", async (t) => {
  const mongo = fakeMongo();
  const adapter = adapterOn(mongo.port);
  try {
    await t.step("open() fails DB_UNAVAILABLE while the server does not answer", async () => {
      await assert.rejects(() => adapter.open(), (e: BedsError) => e.code === "DB_UNAVAILABLE");
    });
    await t.step("an operation waits connect_timeout_ms for it, then fails DB_UNAVAILABLE", async () => {
      const started = performance.now();
      await assert.rejects(() => readOne(adapter), (e: BedsError) => e.code === "DB_UNAVAILABLE");
      assert.ok(performance.now() - started >= 250, "it waited for the server");
    });
    await t.step("once the server answers, operations connect and run", async () => {
      mongo.up();
      await adapter.create({ template: TEMPLATE, values: new Map([["id", "a"], ["name", "A"]]) });
      assert.deepEqual((await readOne(adapter)).data, { id: "a", name: "A" });
      assert.equal(adapter.health().healthy, true);
    });
  } finally {
    await adapter.close();
    mongo.close();
  }
});

Deno.test("keepConnecting() connects in the background, so health says when the server is back", async () => {
  const mongo = fakeMongo();
  const adapter = adapterOn(mongo.port);
  try {
    await assert.rejects(() => adapter.open());
    adapter.keepConnecting();
    mongo.up();
    const end = Date.now() + 10_000;
    while (!adapter.health().healthy && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(adapter.health().healthy, true, "healthy with no operation asking");
  } finally {
    await adapter.close();
    mongo.close();
  }
});

/** Polls `condition` every 5 ms, for up to 5 s. */
async function until(condition: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A client whose connects fail while `down`, counting them and those that succeed. */
function fakeClient() {
  const state = { down: true, connects: 0, connected: 0, closes: 0 };
  const closedListeners: Array<() => void> = [];
  const client = {
    async connect() {
      state.connects++;
      await new Promise((r) => setTimeout(r, 5));
      if (state.down) {
        for (const listener of closedListeners) listener();
        throw new Error("server selection timed out");
      }
      state.connected++;
    },
    close() {
      state.closes++;
      return Promise.resolve();
    },
    on(_event: "topologyClosed", listener: () => void) {
      closedListeners.push(listener);
    },
  };
  return { client, state };
}

Deno.test("createConnector()", async (t) => {
  await t.step(
    "callers waiting at once share one connect; after a failed one, the next tries again",
    async () => {
      const { client, state } = fakeClient();
      const connector = createConnector(client);
      const results = await Promise.allSettled([connector.ready(), connector.ready(), connector.ready()]);
      assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
      assert.equal(state.connects, 1);
      state.down = false;
      await connector.ready();
      assert.equal(state.connects, 2);
      await connector.ready();
      assert.equal(state.connects, 2, "connected: no connect");
      await connector.close();
    },
  );

  await t.step("keepTrying() tries again until a connect succeeds, then stops", async () => {
    const { client, state } = fakeClient();
    const connector = createConnector(client, { retryInitialMs: 20, retryMaxMs: 40 });
    connector.keepTrying();
    await until(() => state.connects >= 3);
    state.down = false;
    await until(() => state.connected === 1);
    const after = state.connects;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(state.connects, after, "no attempt once connected");
    await connector.ready();
    assert.equal(state.connects, after);
    await connector.close();
  });

  await t.step("close() stops the attempts, and ready() then leaves the refusal to the driver", async () => {
    const { client, state } = fakeClient();
    const connector = createConnector(client, { retryInitialMs: 10, retryMaxMs: 10 });
    connector.keepTrying();
    await connector.close();
    const closed = state.connects;
    await new Promise((r) => setTimeout(r, 50));
    await connector.ready();
    assert.equal(state.connects, closed);
    assert.ok(state.closes >= 1);
  });
});
