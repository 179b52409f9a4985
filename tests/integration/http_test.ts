/**
 * The HTTP side of a node: /live, /ready and /metrics on every node, and the
 * gateway role that turns HTTP requests into AMQP requests.
 */
import assert from "node:assert/strict";
import {
  cli,
  createTestEnv,
  openRawAmqp,
  type RunningNode,
  startNode,
  waitFor,
} from "../helpers/services.ts";
import { closeAmqpConnections } from "../helpers/faults.ts";
import { httpGet, httpPost, nodeUrls, postWithHost, sample, statusWithHost } from "../helpers/http.ts";

Deno.test("a node serves /live, /ready and /metrics, and is not ready while its AMQP connection is down", async (t) => {
  const env = await createTestEnv();
  const instance = `http-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  try {
    const { http } = await nodeUrls(env, instance);

    await t.step("/live answers 200", async () => {
      const live = await httpGet(`${http}/live`);
      assert.equal(live.status, 200);
      assert.equal(JSON.parse(live.text).live, true);
    });

    await t.step("/ready answers 200 once IPL has finished", async () => {
      await waitFor(async () => (await httpGet(`${http}/ready`)).status === 200, 10_000, "/ready 200");
      assert.deepEqual(JSON.parse((await httpGet(`${http}/ready`)).text), {
        ready: true,
        node: instance,
        role: "appServer",
      });
    });

    await t.step("/metrics counts requests by template, op and result code", async () => {
      const client = await env.client();
      for (const id of [1, 2, 3]) {
        assert.equal((await client.request({ template: "cus", op: "read", key: { id } })).ok, true);
      }
      const missing = await client.request({ template: "cus", op: "read", key: { id: 999999 } });
      assert.equal(missing.ok ? "ok" : missing.error.code, "NOT_FOUND");
      assert.equal((await client.request({ template: "dsh", op: "read" })).ok, true);
      const raw = await openRawAmqp(env);
      try {
        const unknown = await raw.request("read.zzq", { template: "zzq", op: "read" });
        assert.equal(unknown.ok ? "ok" : unknown.error.code, "UNKNOWN_TEMPLATE");
      } finally {
        await raw.close();
      }
      const metrics = await httpGet(`${http}/metrics`);
      assert.equal(metrics.status, 200);
      const text = metrics.text;
      assert.equal(sample(text, 'beds_requests_total{template="cus",op="read",code="ok"}'), 3);
      assert.equal(sample(text, 'beds_requests_total{template="cus",op="read",code="NOT_FOUND"}'), 1);
      // A name that is not a loaded template never becomes a label value of its own.
      assert.equal(
        sample(text, 'beds_requests_total{template="_unknown",op="read",code="UNKNOWN_TEMPLATE"}'),
        1,
      );
      assert.ok(!text.includes('template="zzq"'), "junk template names stay out of the labels");
      assert.equal(sample(text, 'beds_request_duration_seconds_count{template="cus",op="read"}'), 4);
      // A fan-out is one request; its 24 parts are counted apart, by their own templates.
      assert.equal(sample(text, 'beds_requests_total{template="dsh",op="read",code="ok"}'), 1);
      assert.equal(sample(text, 'beds_request_parts_total{template="prd",op="read",code="ok"}'), 12);
      assert.equal(sample(text, 'beds_request_parts_total{template="cus",op="read",code="ok"}'), 6);
      assert.equal(sample(text, 'beds_request_parts_total{template="cus",op="call",code="ok"}'), 3);
      assert.equal(sample(text, 'beds_consumers{broker="rBroker"}'), env.config.brokers.rBroker!.instances);
      assert.equal(sample(text, 'beds_inflight_requests{broker="rBroker"}'), 0);
      assert.equal(sample(text, 'beds_db_pool_size{store="mariadb",server="master"}'), 4);
      assert.equal(sample(text, 'beds_db_up{store="mariadb"}'), 1);
      assert.equal(sample(text, "beds_amqp_connected"), 1);
      assert.ok(sample(text, "beds_process_resident_memory_bytes")! > 0);
      assert.ok(sample(text, "beds_event_loop_lag_seconds")! >= 0);
      for (const name of ["beds_retries_total", "beds_dead_letters_total", "beds_logstore_dropped_total"]) {
        assert.ok(text.includes(`# TYPE ${name} counter`), `${name} is exported`);
      }
    });

    await t.step("/ready answers 503 while the AMQP connection is down, then 200 again", async () => {
      const seen: Array<{ status: number; reasons?: string[] }> = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const ready = await httpGet(`${http}/ready`);
          seen.push({ status: ready.status, reasons: JSON.parse(ready.text).reasons });
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      try {
        await waitFor(() => seen.length > 0, 5_000, "first /ready poll");
        assert.equal(await closeAmqpConnections(`beds appServer ${instance}`), 1);
        await waitFor(() => seen.some((s) => s.status === 503), 10_000, "/ready 503");
        const down = seen.find((s) => s.status === 503)!;
        assert.ok(
          down.reasons?.some((r) => r === "AMQP is not connected" || r.includes("consumers attached")),
          JSON.stringify(down),
        );
        await waitFor(() => seen.at(-1)?.status === 200, 20_000, "/ready 200 after the reconnect");
      } finally {
        polling = false;
        await poller;
      }
      const text = (await httpGet(`${http}/metrics`)).text;
      assert.equal(sample(text, "beds_amqp_disconnects_total"), 1);
      assert.equal(sample(text, "beds_amqp_reconnects_total"), 1);
    });
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("the HTTP gateway answers with the node's reply and a status mapped from its error code", async (t) => {
  const env = await createTestEnv();
  const nodes: RunningNode[] = [];
  try {
    nodes.push(await startNode(env, "appServer", `gwapp-${env.id}`));
    const instance = `gw-${env.id}`;
    nodes.push(await startNode(env, "gateway", instance));
    const urls = await nodeUrls(env, instance, { gateway: true });
    const gateway = urls.gateway!;

    await t.step("a read by key answers 200 with the reply", async () => {
      const { status, json } = await httpPost(`${gateway}/v1/cus/read`, { key: { id: 1 } });
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.ok, true);
      assert.equal((json.data as { id: number }).id, 1);
      assert.equal((json.meta as { node: string }).node, `gwapp-${env.id}`);
    });

    await t.step("a missing key answers 404 NOT_FOUND", async () => {
      const { status, json } = await httpPost(`${gateway}/v1/cus/read`, { key: { id: 999999 } });
      assert.equal(status, 404);
      assert.equal((json.error as { code: string }).code, "NOT_FOUND");
    });

    await t.step("a value of the wrong type answers 400 VALIDATION", async () => {
      const { status, json } = await httpPost(`${gateway}/v1/cus/read`, { key: { id: "one" } });
      assert.equal(status, 400);
      assert.equal((json.error as { code: string }).code, "VALIDATION");
    });

    await t.step("a body that is not JSON answers 400 BAD_REQUEST", async () => {
      const { status, json } = await httpPost(`${gateway}/v1/cus/read`, "{not json");
      assert.equal(status, 400);
      assert.equal((json.error as { code: string }).code, "BAD_REQUEST");
      assert.equal(json.ok, false);
    });

    await t.step("a body not sent as application/json answers 415, and one from a web page 403", async () => {
      const send = async (headers: Record<string, string>) => {
        const response = await fetch(`${gateway}/v1/cus/read`, { method: "POST", headers, body: "{}" });
        return [response.status, (await response.json()).error?.code];
      };
      assert.deepEqual(await send({ "content-type": "text/plain" }), [415, "BAD_REQUEST"]);
      assert.deepEqual(
        await send({ "content-type": "application/json", origin: "https://evil.example" }),
        [403, "FORBIDDEN"],
      );
    });

    await t.step("an unknown template answers 404 UNKNOWN_TEMPLATE", async () => {
      const { status, json } = await httpPost(`${gateway}/v1/zzq/read`, {});
      assert.equal(status, 404);
      assert.equal((json.error as { code: string }).code, "UNKNOWN_TEMPLATE");
    });

    await t.step(
      "a body too large once forwarded answers 413 at the gateway, not as a node's dead letter",
      async () => {
        // Under the gateway's own 64 KiB, but over the node's once the gateway adds template, op and deadline.
        const body = JSON.stringify({ where: { email: `${"a".repeat(65_536 - 60)}@x.io` } });
        assert.ok(body.length < 65_536 && body.length > 65_536 - 100);
        const { status, json } = await httpPost(`${gateway}/v1/cus/read`, body);
        assert.equal(status, 413);
        assert.equal((json.error as { code: string }).code, "TOO_LARGE");
        assert.equal((json.meta as { broker: string }).broker, "gateway");
        const letters = await cli(["dlq", "list", "--json", "--role", "appServer", ...env.cliArgs]);
        assert.equal(letters.code, 0, letters.err);
        assert.deepEqual(JSON.parse(letters.out), []);
      },
    );

    await t.step("the gateway node is ready and counts its answers", async () => {
      assert.equal((await httpGet(`${urls.http}/ready`)).status, 200);
      const text = (await httpGet(`${urls.http}/metrics`)).text;
      assert.equal(sample(text, 'beds_gateway_requests_total{template="cus",op="read",status="200"}'), 1);
      assert.equal(sample(text, 'beds_gateway_requests_total{template="cus",op="read",status="404"}'), 1);
      assert.equal(
        sample(text, 'beds_gateway_requests_total{template="_unknown",op="read",status="404"}'),
        1,
      );
    });

    await t.step("a Host that is no host name answers 400, and cannot route to another path", async () => {
      // Deno builds a request's URL from Host and the path: this Host would make the path /v1/prd/read.
      for (const host of ["127.0.0.1/v1/prd/read?", "127.0.0.1\\v1\\prd\\read?", "x:99999", "[::1", "a%zz"]) {
        const { status, text } = await postWithHost(gateway, "/v1/cus/read", host, '{"key":{"id":1}}');
        assert.equal(status, 400, `${host}: ${text}`);
        assert.match(text, /"code":"BAD_REQUEST"/);
        assert.doesNotMatch(text, /PRD-/);
      }
      const { status, text } = await postWithHost(
        gateway,
        "/v1/cus/read",
        "gw.example:8080",
        '{"key":{"id":1}}',
      );
      assert.equal(status, 200, text);
    });

    await t.step("an op the template does not allow answers 405, with an empty Allow", async () => {
      const response = await fetch(`${gateway}/v1/ord/delete`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"key":{"id":1}}',
      });
      assert.equal(response.status, 405);
      assert.equal((await response.json()).error.code, "OP_NOT_ALLOWED");
      assert.equal(response.headers.get("allow"), "");
    });
  } finally {
    for (const node of nodes.reverse()) assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});

Deno.test("/metrics answers to IP literals and the names in [http] allowed_hosts only", async () => {
  const env = await createTestEnv({ http: { allowed_hosts: ["metrics.internal"] } });
  const instance = `hosts-${env.id}`;
  const node = await startNode(env, "appServer", instance);
  try {
    const { http } = await nodeUrls(env, instance);
    assert.equal(await statusWithHost(http, "/metrics", "metrics.internal:9464"), 200);
    assert.equal(await statusWithHost(http, "/metrics", new URL(http).host), 200);
    assert.equal(await statusWithHost(http, "/metrics", "rebound.evil.example"), 421);
  } finally {
    assert.equal(await node.stop(), 0);
    await env.cleanup();
  }
});
