import assert from "node:assert/strict";
import { BedsClientError, type RequestBody } from "../../src/client/mod.ts";
import { ERROR_CODES } from "../../src/errors.ts";
import { gatewayHandler, type GatewaySend, httpStatusOf } from "../../src/http/mod.ts";
import { type Logger, silentLogger } from "../../src/logging/mod.ts";
import type { Reply } from "../../src/protocol/mod.ts";

const META = { event: "e1", node: "n1", broker: "rBroker", ms: 1, rows: 1 };

function handler(send: GatewaySend, maxBodyBytes = 1024) {
  const answers: Array<[string, string, number]> = [];
  const handle = gatewayHandler({
    send,
    timeoutMs: 250,
    maxBodyBytes,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: silentLogger(),
    onAnswer: (template, op, status) => answers.push([template, op, status]),
  });
  return { handle, answers };
}

/** What a JSON client sends; a test overrides or removes (`null`) a header to play a browser. */
const JSON_HEADERS = { "content-type": "application/json" };

async function post(
  handle: (r: Request) => Promise<Response>,
  path: string,
  body?: string,
  method = "POST",
  headers: Record<string, string | null> = {},
) {
  const sent = new Headers(JSON_HEADERS);
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) sent.delete(name);
    else sent.set(name, value);
  }
  // A string body without a content-type header would get text/plain from the Request constructor.
  const response = await handle(new Request(`http://gw${path}`, { method, body, headers: sent }));
  return { status: response.status, headers: response.headers, json: await response.json() };
}

Deno.test("httpStatusOf() maps every wire error code to the documented HTTP status", () => {
  const expected: Record<string, number> = {
    BAD_REQUEST: 400,
    TOO_LARGE: 413,
    UNKNOWN_TEMPLATE: 404,
    OP_NOT_ALLOWED: 405,
    VALIDATION: 400,
    NOT_FOUND: 404,
    CONFLICT: 409,
    FORBIDDEN: 403,
    DB_UNAVAILABLE: 503,
    DB_ERROR: 500,
    DEADLINE_EXCEEDED: 504,
    OVERLOADED: 503,
    INTERNAL: 500,
  };
  assert.deepEqual(Object.keys(expected).sort(), [...ERROR_CODES].sort());
  for (const code of ERROR_CODES) assert.equal(httpStatusOf(code), expected[code], code);
  assert.equal(httpStatusOf(undefined), 200);
  assert.equal(httpStatusOf("NO_SUCH_CODE"), 500);
  assert.equal(httpStatusOf("toString"), 500);
});

Deno.test("gatewayHandler() sends the path's template and op with the body's fields", async (t) => {
  const sent: Array<[RequestBody, number]> = [];
  const { handle, answers } = handler((body, timeoutMs) => {
    sent.push([body, timeoutMs]);
    return Promise.resolve({ ok: true, data: { id: 1 }, meta: META });
  });

  await t.step("a read with key, where, order, limit and offset", async () => {
    const body = { key: { id: 1 }, where: { status: "active" }, order: ["-id"], limit: 5, offset: 10 };
    const { status, json } = await post(handle, "/v1/cus/read", JSON.stringify(body));
    assert.equal(status, 200);
    assert.deepEqual(json, { ok: true, data: { id: 1 }, meta: META });
    assert.deepEqual(sent.at(-1), [{ ...body, template: "cus", op: "read" }, 250]);
  });

  await t.step("an empty body is a request with no fields", async () => {
    assert.equal((await post(handle, "/v1/cus/read")).status, 200);
    assert.deepEqual(sent.at(-1)?.[0], { template: "cus", op: "read" });
  });

  await t.step("a named call with its event parent", async () => {
    const body = { call: "deactivate", data: { id: 3 }, event: { parent: "abc" } };
    assert.equal((await post(handle, "/v1/cus/call/", JSON.stringify(body))).status, 200);
    assert.deepEqual(sent.at(-1)?.[0], { ...body, template: "cus", op: "call" });
  });

  assert.deepEqual(answers, [["cus", "read", 200], ["cus", "read", 200], ["cus", "call", 200]]);
});

Deno.test("gatewayHandler() answers the reply's error with the mapped status", async () => {
  const reply: Reply = { ok: false, error: { code: "CONFLICT", message: "Duplicate" }, meta: META };
  const { handle } = handler(() => Promise.resolve(reply));
  const { status, json } = await post(handle, "/v1/cus/create", '{"data":{"email":"a@b.c"}}');
  assert.equal(status, 409);
  assert.deepEqual(json, reply);
});

Deno.test("gatewayHandler() rejects bad input before anything is sent", async (t) => {
  let sends = 0;
  const { handle } = handler(() => {
    sends++;
    return Promise.resolve({ ok: true, data: null, meta: META });
  }, 300);
  const cases: Array<[string, string, string | undefined, string, number, string]> = [
    ["a body that is not JSON", "/v1/cus/read", "{oops", "POST", 400, "BAD_REQUEST"],
    ["a JSON array", "/v1/cus/read", "[1]", "POST", 400, "BAD_REQUEST"],
    ["an unknown body key", "/v1/cus/read", '{"colour":1}', "POST", 400, "BAD_REQUEST"],
    ["a template key in the body", "/v1/cus/read", '{"template":"ord"}', "POST", 400, "BAD_REQUEST"],
    ["a deadline in the body", "/v1/cus/read", '{"deadline_ms":1}', "POST", 400, "BAD_REQUEST"],
    ["an unknown op", "/v1/cus/frob", "{}", "POST", 400, "BAD_REQUEST"],
    ["a template name that is not one", "/v1/C%2AS/read", "{}", "POST", 400, "BAD_REQUEST"],
    ["a call without a call name", "/v1/cus/call", "{}", "POST", 400, "BAD_REQUEST"],
    [
      "a body over the limit",
      "/v1/cus/read",
      `{"key":{"id":"${"x".repeat(400)}"}}`,
      "POST",
      413,
      "TOO_LARGE",
    ],
    ["a path outside /v1", "/v2/cus/read", "{}", "POST", 404, "NOT_FOUND"],
    ["a GET", "/v1/cus/read", undefined, "GET", 405, "BAD_REQUEST"],
  ];
  for (const [what, path, body, method, status, code] of cases) {
    await t.step(`${what} answers ${status} ${code}`, async () => {
      const answer = await post(handle, path, body, method);
      assert.equal(answer.status, status, JSON.stringify(answer.json));
      assert.equal(answer.json.ok, false);
      assert.equal(answer.json.error.code, code);
      assert.equal(answer.json.meta.broker, "gateway");
      assert.equal(answer.json.meta.node, "gw");
      if (method === "GET") assert.equal(answer.headers.get("allow"), "POST");
    });
  }
  await t.step("the gateway's own answers time themselves to 3 decimals, as a node's meta.ms", async () => {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) times.push((await post(handle, "/v2/x", "{}", "POST")).json.meta.ms);
    for (const ms of times) assert.equal(Math.round(ms * 1000) / 1000, ms);
    // A tenth of a millisecond (the old rounding) would make every one of them a multiple of 0.1.
    assert.ok(times.some((ms) => Math.abs(ms * 10 - Math.round(ms * 10)) > 1e-9), JSON.stringify(times));
  });
  await t.step("invalid UTF-8 bytes answer 400 BAD_REQUEST", async () => {
    const response = await handle(
      new Request("http://gw/v1/cus/read", {
        method: "POST",
        headers: JSON_HEADERS,
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      }),
    );
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, "BAD_REQUEST");
  });
  await t.step("a streamed body over the limit answers 413 without a content-length", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(200));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await handle(
      new Request("http://gw/v1/cus/read", { method: "POST", headers: JSON_HEADERS, body: stream }),
    );
    assert.equal(response.status, 413);
    assert.deepEqual((await response.json()).error.details, { limit: 300, size: 400 });
  });
  assert.equal(sends, 0);
});

Deno.test("gatewayHandler() refuses what a web page can send, before reading the body", async (t) => {
  let sends = 0;
  const { handle, answers } = handler(() => {
    sends++;
    return Promise.resolve({ ok: true, data: null, meta: META });
  }, 300);
  const update = '{"key":{"id":1},"data":{"status":"closed"}}';
  const EVIL = "https://evil.example";
  const cases: Array<[string, string, string, Record<string, string | null>, number, string]> = [
    // What a page may POST cross-site without a preflight: its request runs before any answer is read.
    [
      "a no-cors text/plain POST",
      "/v1/cus/update",
      "POST",
      { "content-type": "text/plain" },
      415,
      "BAD_REQUEST",
    ],
    [
      "a form post",
      "/v1/cus/update",
      "POST",
      { "content-type": "application/x-www-form-urlencoded" },
      415,
      "BAD_REQUEST",
    ],
    [
      "a multipart form",
      "/v1/cus/update",
      "POST",
      { "content-type": "multipart/form-data" },
      415,
      "BAD_REQUEST",
    ],
    ["no content type", "/v1/cus/update", "POST", { "content-type": null }, 415, "BAD_REQUEST"],
    [
      "a type that only starts like JSON",
      "/v1/cus/update",
      "POST",
      { "content-type": "application/jsonx" },
      415,
      "BAD_REQUEST",
    ],
    ["any Origin, even with a JSON body", "/v1/cus/update", "POST", { origin: EVIL }, 403, "FORBIDDEN"],
    ["an opaque Origin (null)", "/v1/cus/update", "POST", { origin: "null" }, 403, "FORBIDDEN"],
    // A page reached by DNS rebinding is same-origin with the gateway, and still sends its Origin.
    ["a same-origin page", "/v1/cus/update", "POST", { origin: "http://gw" }, 403, "FORBIDDEN"],
    [
      "an Origin with a text/plain body",
      "/v1/cus/update",
      "POST",
      { origin: EVIL, "content-type": "text/plain" },
      403,
      "FORBIDDEN",
    ],
    [
      "a CORS preflight",
      "/v1/cus/update",
      "OPTIONS",
      { origin: EVIL, "access-control-request-method": "POST" },
      405,
      "BAD_REQUEST",
    ],
    ["a path outside /v1 from a page", "/v2/cus/read", "POST", { origin: EVIL }, 404, "NOT_FOUND"],
  ];
  for (const [what, path, method, headers, status, code] of cases) {
    await t.step(`${what} answers ${status} ${code}`, async () => {
      const answer = await post(handle, path, method === "OPTIONS" ? undefined : update, method, headers);
      assert.equal(answer.status, status, JSON.stringify(answer.json));
      assert.equal(answer.json.error.code, code);
      assert.equal(answer.headers.get("access-control-allow-origin"), null, "no CORS grant");
      if (status === 405) assert.equal(answer.headers.get("allow"), "POST");
    });
  }
  await t.step("a refused body is not read: one that never ends is not waited for", async () => {
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => controller.enqueue(new TextEncoder().encode("{")),
    });
    const response = await handle(
      new Request(
        "http://gw/v1/cus/update",
        { method: "POST", headers: { "content-type": "text/plain" }, body, duplex: "half" } as RequestInit,
      ),
    );
    assert.equal(response.status, 415);
    await response.body?.cancel();
  });
  await t.step("a content type refused before a body over the limit is measured", async () => {
    const big = `{"key":{"id":"${"x".repeat(400)}"}}`;
    const answer = await post(handle, "/v1/cus/read", big, "POST", { "content-type": "text/plain" });
    assert.equal(answer.status, 415);
  });
  assert.equal(sends, 0, "nothing refused was sent");
  await t.step("application/json with parameters, in any case, is a JSON body", async () => {
    for (
      const type of ["application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"]
    ) {
      const answer = await post(handle, "/v1/cus/update", update, "POST", { "content-type": type });
      assert.equal(answer.status, 200, type);
    }
    assert.equal(sends, 3);
  });
  assert.ok(answers.slice(0, cases.length).every(([template, op]) => template === "_none" && op === "_none"));
});

Deno.test("gatewayHandler() answers requests that got no reply", async (t) => {
  const cases: Array<[string, Error, number, string]> = [
    ["a timeout", new BedsClientError("TIMEOUT", "late"), 504, "DEADLINE_EXCEEDED"],
    [
      "an unroutable request",
      new BedsClientError("UNROUTABLE", 'No queue is bound for "read.zzz"'),
      404,
      "UNKNOWN_TEMPLATE",
    ],
    ["a connection lost mid-request", new BedsClientError("CLOSED", "Connection closed"), 502, "INTERNAL"],
    ["no connection at all", new BedsClientError("DISCONNECTED", "No AMQP connection"), 503, "OVERLOADED"],
    ["an unexpected failure", new TypeError("boom"), 500, "INTERNAL"],
  ];
  for (const [what, error, status, code] of cases) {
    await t.step(`${what} answers ${status} ${code}`, async () => {
      const { handle, answers } = handler(() => Promise.reject(error));
      const answer = await post(handle, "/v1/zzz/read", "{}");
      assert.equal(answer.status, status);
      assert.equal(answer.json.error.code, code);
      if (code === "OVERLOADED") assert.equal(answer.headers.get("retry-after"), "1");
      if (error instanceof TypeError) assert.equal(answer.json.error.message, "Internal error");
      assert.deepEqual(answers, [[code === "UNKNOWN_TEMPLATE" ? "_unknown" : "zzz", "read", status]]);
    });
  }
});

Deno.test("gatewayHandler() answers 408 to a body that does not come within the timeout", async () => {
  let sent = 0;
  const { handle, answers } = handler(() => {
    sent++;
    return Promise.reject(new Error("must not be sent"));
  });
  let cancelled = false;
  // A client that sends the start of its body and then nothing more.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"key":{"id":'));
    },
    cancel() {
      cancelled = true;
    },
  });
  const started = performance.now();
  const response = await handle(
    new Request(
      "http://gw/v1/cus/read",
      { method: "POST", headers: JSON_HEADERS, body, duplex: "half" } as RequestInit,
    ),
  );
  const waited = performance.now() - started;
  const json = await response.json();
  assert.equal(response.status, 408);
  assert.equal(json.error.code, "BAD_REQUEST");
  assert.match(json.error.message, /not received within 250 ms/);
  assert.ok(waited >= 240 && waited < 5_000, `answered after ${waited} ms`);
  assert.equal(cancelled, true, "the body stream is cancelled");
  assert.equal(sent, 0);
  assert.deepEqual(answers, [["_none", "_none", 408]]);
});

Deno.test("gatewayHandler() answers 400, and logs no error, when the client breaks its body off", async () => {
  const errors: unknown[] = [];
  const answers: Array<[string, string, number]> = [];
  const handle = gatewayHandler({
    send: () => Promise.reject(new Error("must not be sent")),
    timeoutMs: 5_000,
    maxBodyBytes: 1024,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: { ...silentLogger(), error: (...args: unknown[]) => void errors.push(args) } as Logger,
    onAnswer: (template, op, status) => answers.push([template, op, status]),
  });
  // What the server's body stream does when the client closes its connection mid-body.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"key":{"id":'));
      controller.error(
        new Deno.errors.BadResource("Cannot read request body as underlying resource unavailable"),
      );
    },
  });
  const response = await handle(
    new Request(
      "http://gw/v1/cus/read",
      { method: "POST", headers: JSON_HEADERS, body, duplex: "half" } as RequestInit,
    ),
  );
  const json = await response.json();
  assert.equal(response.status, 400);
  assert.equal(json.error.code, "BAD_REQUEST");
  assert.match(json.error.message, /broken off/);
  assert.deepEqual(answers, [["_none", "_none", 400]]);
  assert.deepEqual(errors, []);
});

Deno.test("gatewayHandler() answers TOO_LARGE itself for a body that grows past the nodes' limit when sent", async () => {
  let sent = 0;
  const handle = gatewayHandler({
    send: () => {
      sent++;
      return Promise.resolve({ ok: true, data: null, meta: META } as Reply);
    },
    timeoutMs: 250,
    maxBodyBytes: 1024,
    maxForwardBytes: 600,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: silentLogger(),
  });
  // 400 bytes as written, about 1,100 once each 1e9 is re-encoded as 1000000000.
  const ids = Array.from({ length: 100 }, () => "1e9").join(",");
  const big = await post(handle, "/v1/cus/read", `{"where":{"id":[${ids}]}}`);
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, "TOO_LARGE");
  assert.match(big.json.error.message, /as sent to the nodes exceeds their limit of 600/);
  assert.equal(sent, 0);
  const small = await post(handle, "/v1/cus/read", '{"where":{"id":[1e9]}}');
  assert.equal(small.status, 200);
  assert.equal(sent, 1);
});

Deno.test("gatewayHandler() encodes a request once: the bytes it checks against the nodes' limit are the bytes sent", async () => {
  const payloads: Uint8Array[] = [];
  const gateway = (maxForwardBytes: number) =>
    gatewayHandler({
      send: (_body, _timeoutMs, payload) => {
        payloads.push(payload);
        return Promise.resolve({ ok: true, data: null, meta: META } as Reply);
      },
      timeoutMs: 250,
      maxBodyBytes: 1024,
      maxForwardBytes,
      node: "gw",
      nextEvent: () => "gw-event",
      logger: silentLogger(),
    });
  const before = Date.now();
  assert.equal((await post(gateway(1024), "/v1/cus/read", '{"key":{"id":1e3}}')).status, 200);
  const sent = JSON.parse(new TextDecoder().decode(payloads[0]));
  assert.deepEqual({ ...sent, deadline_ms: 0 }, {
    deadline_ms: 0,
    key: { id: 1000 },
    template: "cus",
    op: "read",
  });
  assert.ok(
    sent.deadline_ms >= before + 250 && sent.deadline_ms <= Date.now() + 250,
    String(sent.deadline_ms),
  );
  // A limit of exactly those bytes lets the same request through; one byte less does not.
  const size = payloads[0]!.byteLength;
  assert.equal((await post(gateway(size), "/v1/cus/read", '{"key":{"id":1e3}}')).status, 200);
  const refused = await post(gateway(size - 1), "/v1/cus/read", '{"key":{"id":1e3}}');
  assert.equal(refused.status, 413);
  assert.equal(refused.json.error.details.size, size);
  assert.equal(payloads.length, 2);
});

Deno.test("gatewayHandler() sends a field value's number as the client wrote it, even one a double would change", async () => {
  const payloads: string[] = [];
  const { handle } = handler((_body, _timeoutMs, payload) => {
    payloads.push(new TextDecoder().decode(payload));
    return Promise.resolve({ ok: true, data: null, meta: META });
  });
  const data = '{"stock":1e400,"doc":{"order_id":9007199254740993,"amount":1234567890.123456789012},"n":0.5}';
  assert.equal((await post(handle, "/v1/prd/create", `{"data":${data}}`)).status, 200);
  assert.ok(payloads[0]!.includes(`"data":${data}`), payloads[0]!);
  // Elsewhere a number is the double it always was, judged by the same rules.
  const limit = await post(handle, "/v1/cus/read", '{"limit":1e400}');
  assert.equal(limit.status, 400);
  assert.equal(
    limit.json.error.message,
    "Invalid request: limit: Invalid input: expected number, received Infinity",
  );
  assert.equal(payloads.length, 1);
});

Deno.test("gatewayHandler() answers 503 OVERLOADED at once past max_inflight, and takes requests again after", async () => {
  const waiting: Array<() => void> = [];
  let sends = 0;
  const handle = gatewayHandler({
    send: () => {
      sends++;
      return new Promise((resolve) => waiting.push(() => resolve({ ok: true, data: null, meta: META })));
    },
    timeoutMs: 5_000,
    maxBodyBytes: 1024,
    maxInflight: 2,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: silentLogger(),
  });
  const held = [post(handle, "/v1/cus/read", "{}"), post(handle, "/v1/cus/read", "{}")];
  const refused = await post(handle, "/v1/cus/read", "{}");
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, "OVERLOADED");
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.equal(sends, 2, "the refused request was not sent");
  for (const release of waiting.splice(0)) release();
  assert.deepEqual((await Promise.all(held)).map((answer) => answer.status), [200, 200]);
  const again = post(handle, "/v1/cus/read", "{}");
  while (!waiting.length) await new Promise((resolve) => setTimeout(resolve, 1));
  for (const release of waiting.splice(0)) release();
  assert.equal((await again).status, 200);
});

Deno.test("gatewayHandler() refuses the admin role's templates 403, nothing sent: it publishes as the nodes' user", async () => {
  let sent = 0;
  const handle = gatewayHandler({
    send: () => {
      sent++;
      return Promise.resolve({ ok: true, data: null, meta: META } as Reply);
    },
    adminTemplates: new Set(["slg", "nst", "grf", "mst"]),
    timeoutMs: 250,
    maxBodyBytes: 1024,
    node: "gw",
    nextEvent: () => "gw-event",
    logger: silentLogger(),
  });
  const bodies: Array<[string, unknown]> = [
    ["/v1/slg/call", { call: "log_batch", data: {} }],
    ["/v1/nst/create", { data: { node: "forged" } }],
    ["/v1/mst/call", { call: "log_rows", data: {} }],
  ];
  for (const [path, body] of bodies) {
    const { status, json } = await post(handle, path, JSON.stringify(body));
    assert.equal(status, 403, path);
    assert.equal((json.error as { code: string }).code, "FORBIDDEN");
  }
  assert.equal(sent, 0);
  assert.equal((await post(handle, "/v1/cus/read", JSON.stringify({ key: { id: 1 } }))).status, 200);
  assert.equal(sent, 1);
});
