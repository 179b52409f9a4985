import assert from "node:assert/strict";
import {
  type BrokerGauges,
  createNodeMetrics,
  evaluateReadiness,
  type MetricsSources,
  nodeHttpHandler,
} from "../../src/http/mod.ts";
import type { RequestEvent } from "../../src/logstore/mod.ts";
import type { AdapterHealth } from "../../src/adapters/mod.ts";

function request(overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    kind: "request",
    event: "root1",
    at: "2026-01-01T00:00:00.000Z",
    node: "n1",
    broker: "rBroker",
    template: "cus",
    op: "read",
    ms: 2,
    rows: 1,
    attempt: 1,
    action: "reply",
    ...overrides,
  };
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function metricsWith(sources: Partial<MetricsSources> = {}) {
  return createNodeMetrics({
    node: "n1",
    role: "appServer",
    version: "9.9.9",
    sources: {
      brokers: () => [],
      adapters: () => [],
      amqpConnected: () => true,
      knownTemplate: (name) => name === "cus" || name === "dsh",
      ...sources,
    },
  });
}

Deno.test("createNodeMetrics() counts request events by template, op and result code", async (t) => {
  const metrics = metricsWith();
  try {
    const sink = metrics.sink;
    sink.emit(request());
    sink.emit(request({ event: "root2", ms: 30 }));
    sink.emit(request({ event: "root3", code: "NOT_FOUND" }));
    sink.emit(request({ event: "root4", template: "zzz", code: "UNKNOWN_TEMPLATE" }));
    sink.emit(
      request({
        event: "root5",
        template: undefined,
        op: undefined,
        code: "BAD_REQUEST",
        action: "dead_letter",
        reason: "poison",
      }),
    );
    sink.emit(
      request({ event: "root6", broker: "wBroker", op: "create", code: "DB_UNAVAILABLE", action: "retry" }),
    );
    sink.emit(request({
      event: "root7",
      template: "dsh",
      parts: [
        { event: "root7.1", template: "cus", op: "read", ms: 1, rows: 1 },
        { event: "root7.2", template: "cus", op: "read", code: "NOT_FOUND", ms: 1, rows: 0 },
      ],
    }));
    sink.emit(request({ event: "root6.r2", parent: "root6", broker: "wBroker", op: "create", attempt: 2 }));
    // Children emitted as events of their own (a retry above, a request that named its own
    // parent here) are deliveries, not parts.
    sink.emit(request({ event: "app1.0mx1-n1-b-0000", parent: "app1" }));
    const text = await metrics.render();

    await t.step("requests and latency", () => {
      assert.equal(value(text, 'beds_requests_total{template="cus",op="read",code="ok"}'), 3);
      assert.equal(value(text, 'beds_requests_total{template="cus",op="read",code="NOT_FOUND"}'), 1);
      assert.equal(value(text, 'beds_requests_total{template="cus",op="create",code="ok"}'), 1);
      assert.equal(value(text, 'beds_request_duration_seconds_count{template="cus",op="read"}'), 4);
      const bucket = (le: string) =>
        value(text, `beds_request_duration_seconds_bucket{le="${le}",template="cus",op="read"}`);
      assert.deepEqual([bucket("0.001"), bucket("0.0025"), bucket("0.025"), bucket("0.05"), bucket("+Inf")], [
        0,
        3,
        3,
        4,
        4,
      ]);
      const sum = value(text, 'beds_request_duration_seconds_sum{template="cus",op="read"}')!;
      assert.ok(Math.abs(sum - 0.036) < 1e-9, String(sum));
    });

    await t.step("names that are not loaded templates share one label value", () => {
      assert.equal(
        value(text, 'beds_requests_total{template="_unknown",op="read",code="UNKNOWN_TEMPLATE"}'),
        1,
      );
      assert.equal(value(text, 'beds_requests_total{template="_none",op="_none",code="BAD_REQUEST"}'), 1);
      assert.ok(!text.includes('template="zzz"'));
    });

    await t.step("retries and dead letters", () => {
      assert.equal(value(text, 'beds_retries_total{broker="wBroker",template="cus",op="create"}'), 1);
      assert.equal(value(text, 'beds_dead_letters_total{broker="rBroker",reason="poison"}'), 1);
    });

    await t.step("fan-out parts are counted apart from deliveries", () => {
      assert.equal(value(text, 'beds_requests_total{template="dsh",op="read",code="ok"}'), 1);
      assert.equal(value(text, 'beds_request_parts_total{template="cus",op="read",code="ok"}'), 1);
      assert.equal(value(text, 'beds_request_parts_total{template="cus",op="read",code="NOT_FOUND"}'), 1);
    });

    await t.step("node identity", () => {
      assert.equal(value(text, 'beds_info{node="n1",role="appServer",version="9.9.9"}'), 1);
    });
  } finally {
    metrics.close();
  }
});

Deno.test("createNodeMetrics() follows AMQP status events", async () => {
  const metrics = metricsWith();
  try {
    const status = (s: { type: string } & Record<string, unknown>) =>
      metrics.sink.emit({ kind: "status", at: "", node: "n1", status: s });
    status({ type: "connected", attempt: 0 });
    status({ type: "disconnected", reason: "killed" });
    status({ type: "reconnecting", attempt: 1, delayMs: 100 });
    status({ type: "connected", attempt: 1 });
    status({ type: "blocked", reason: "memory" });
    let text = await metrics.render();
    assert.equal(value(text, "beds_amqp_disconnects_total"), 1);
    assert.equal(value(text, "beds_amqp_reconnects_total"), 1);
    assert.equal(value(text, "beds_amqp_blocked"), 1);
    status({ type: "unblocked" });
    text = await metrics.render();
    assert.equal(value(text, "beds_amqp_blocked"), 0);
  } finally {
    metrics.close();
  }
});

Deno.test("createNodeMetrics() reads brokers, databases and the log store at scrape time", async () => {
  let brokers: BrokerGauges[] = [{ broker: "rBroker", consumers: 2, inflight: 5, restarts: 1 }];
  let dropped: number | undefined = 7;
  let healthy = true;
  const metrics = metricsWith({
    brokers: () => brokers,
    adapters: (): Array<[string, AdapterHealth]> => [[
      "mariadb",
      { healthy, detail: { master: { size: 4, alive: healthy ? 4 : 0, inflight: 3 }, note: "x" } },
    ]],
    amqpConnected: () => false,
    logStoreDropped: () => dropped,
  });
  try {
    let text = await metrics.render();
    assert.equal(value(text, 'beds_inflight_requests{broker="rBroker"}'), 5);
    assert.equal(value(text, 'beds_consumers{broker="rBroker"}'), 2);
    assert.equal(value(text, 'beds_consumer_restarts_total{broker="rBroker"}'), 1);
    assert.equal(value(text, 'beds_db_pool_size{store="mariadb",server="master"}'), 4);
    assert.equal(value(text, 'beds_db_pool_alive{store="mariadb",server="master"}'), 4);
    assert.equal(value(text, 'beds_db_pool_inflight{store="mariadb",server="master"}'), 3);
    assert.equal(value(text, 'beds_db_up{store="mariadb"}'), 1);
    assert.equal(value(text, "beds_amqp_connected"), 0);
    assert.equal(value(text, "beds_logstore_dropped_total"), 7);
    assert.ok(value(text, "beds_process_resident_memory_bytes")! > 0);

    brokers = [{ broker: "rBroker", consumers: 0, inflight: 0, restarts: 4 }];
    dropped = 9;
    healthy = false;
    text = await metrics.render();
    assert.equal(value(text, 'beds_consumer_restarts_total{broker="rBroker"}'), 4);
    assert.equal(value(text, 'beds_consumers{broker="rBroker"}'), 0);
    assert.equal(value(text, "beds_logstore_dropped_total"), 9);
    assert.equal(value(text, 'beds_db_up{store="mariadb"}'), 0);
    assert.equal(value(text, 'beds_db_pool_alive{store="mariadb",server="master"}'), 0);
  } finally {
    metrics.close();
  }
});

Deno.test("createNodeMetrics() reports event-loop lag while the loop is blocked", async () => {
  const metrics = createNodeMetrics({
    node: "n1",
    role: "r",
    version: "0",
    lagIntervalMs: 10,
    sources: { brokers: () => [], adapters: () => [], amqpConnected: () => true },
  });
  try {
    await metrics.render(); // starts a fresh window
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // Block the loop on purpose.
    }
    await new Promise((r) => setTimeout(r, 15));
    assert.ok(value(await metrics.render(), "beds_event_loop_lag_seconds")! >= 0.04);
  } finally {
    metrics.close();
  }
});

Deno.test("evaluateReadiness() lists every reason the node is not ready", () => {
  assert.deepEqual(evaluateReadiness([() => undefined]), { ready: true, reasons: [] });
  assert.deepEqual(
    evaluateReadiness([
      () => "AMQP is not connected",
      () => undefined,
      () => {
        throw new Error("no pool");
      },
    ]),
    { ready: false, reasons: ["AMQP is not connected", "readiness check failed: no pool"] },
  );
});

Deno.test("nodeHttpHandler() routes /live, /ready and /metrics", async (t) => {
  const metrics = metricsWith();
  let reason: string | undefined = "IPL running";
  const handle = nodeHttpHandler({ node: "n1", role: "appServer", checks: [() => reason], metrics });
  const get = async (path: string, method = "GET") => {
    const response = await handle(new Request(`http://node${path}`, { method }));
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  try {
    await t.step("/live answers 200 whatever the readiness", async () => {
      const live = await get("/live");
      assert.equal(live.status, 200);
      assert.deepEqual(JSON.parse(live.text), { live: true, node: "n1", role: "appServer" });
    });
    await t.step("/ready answers 503 with the reasons, then 200", async () => {
      const down = await get("/ready");
      assert.equal(down.status, 503);
      assert.deepEqual(JSON.parse(down.text).reasons, ["IPL running"]);
      reason = undefined;
      assert.equal((await get("/ready")).status, 200);
    });
    await t.step("/metrics answers the Prometheus text format", async () => {
      const text = await get("/metrics");
      assert.equal(text.status, 200);
      assert.match(text.type ?? "", /^text\/plain; version=0\.0\.4/);
      assert.match(text.text, /# TYPE beds_requests_total counter/);
    });
    await t.step("other paths answer 404 and other methods 405", async () => {
      assert.equal((await get("/nope")).status, 404);
      assert.equal((await get("/live", "POST")).status, 405);
    });
  } finally {
    metrics.close();
  }
});

Deno.test("nodeHttpHandler() answers 421 to a Host that is not an IP literal, localhost or its bind host", async (t) => {
  const metrics = metricsWith();
  const handle = nodeHttpHandler({
    node: "n1",
    role: "appServer",
    checks: [],
    metrics,
    hosts: ["beds-node-1"],
  });
  const get = async (path: string, host: string) => {
    const response = await handle(new Request(`http://${host}${path}`, { headers: { host } }));
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };
  try {
    await t.step("a page on a rebound DNS name reads neither metrics nor readiness", async () => {
      for (const path of ["/metrics", "/ready", "/live", "/nope"]) {
        const refused = await get(path, "rebind.evil.example:9100");
        assert.equal(refused.status, 421, path);
        assert.match(refused.type ?? "", /^text\/plain/);
        assert.ok(!refused.text.includes("beds_"), "no metrics in the refusal");
      }
    });
    await t.step("IP literals, localhost and the bind host are answered", async () => {
      for (const host of ["127.0.0.1:9100", "[::1]:9100", "localhost:9100", "10.0.0.7", "beds-node-1:9100"]) {
        assert.equal((await get("/metrics", host)).status, 200, host);
      }
    });
  } finally {
    metrics.close();
  }
});

Deno.test("createNodeMetrics() labels a gateway answer for a template it does not know as _unknown", async () => {
  const metrics = metricsWith();
  try {
    metrics.recordGateway("cus", "read", 200, 0.001);
    for (let i = 0; i < 50; i++) metrics.recordGateway(`made_up_${i}`, "read", 403, 0.001);
    metrics.recordGateway("_none", "_none", 404, 0.001);
    const text = await metrics.render();
    assert.equal(value(text, 'beds_gateway_requests_total{template="cus",op="read",status="200"}'), 1);
    assert.equal(value(text, 'beds_gateway_requests_total{template="_unknown",op="read",status="403"}'), 50);
    assert.equal(value(text, 'beds_gateway_requests_total{template="_none",op="_none",status="404"}'), 1);
    assert.doesNotMatch(text, /made_up/);
  } finally {
    metrics.close();
  }
});
