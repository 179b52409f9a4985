import assert from "node:assert/strict";
import { checkRequest, decodeRequest, routingKey } from "../../src/protocol/request.ts";
import { BedsError, type ErrorCode } from "../../src/errors.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => encode(JSON.stringify(value));

function bedsError(fn: () => unknown): BedsError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof BedsError, `expected a BedsError, got ${error}`);
    return error;
  }
  assert.fail("expected a BedsError to be thrown");
}

function assertRejects(fn: () => unknown, code: ErrorCode, message: string): BedsError {
  const error = bedsError(fn);
  assert.equal(error.code, code);
  assert.equal(error.message, message);
  return error;
}

Deno.test("decodeRequest() rejects a body over the limit with TOO_LARGE and its sizes", async (t) => {
  await t.step("one byte over", () => {
    const body = json({ template: "cus", op: "read", where: { email: "x".repeat(300) } });
    const error = assertRejects(
      () => decodeRequest(body, body.byteLength - 1),
      "TOO_LARGE",
      `Request body of ${body.byteLength} bytes exceeds the limit of ${body.byteLength - 1}`,
    );
    assert.deepEqual(error.details, { limit: body.byteLength - 1, size: body.byteLength });
  });
  await t.step("exactly at the limit is accepted", () => {
    const body = json({ template: "cus", op: "read" });
    assert.deepEqual(decodeRequest(body, body.byteLength), { template: "cus", op: "read" });
  });
  await t.step("the size counts bytes, not characters", () => {
    const body = json({ template: "cus", op: "read", where: { name: "😀😀😀😀" } });
    const chars = JSON.stringify({ template: "cus", op: "read", where: { name: "😀😀😀😀" } }).length;
    assert.ok(body.byteLength > chars);
    const error = bedsError(() => decodeRequest(body, body.byteLength - 1));
    assert.equal(error.code, "TOO_LARGE");
  });
});

Deno.test("decodeRequest() rejects a body that is not UTF-8 with BAD_REQUEST", () => {
  const body = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff\xfe":1}
  const error = assertRejects(
    () => decodeRequest(body, 1000),
    "BAD_REQUEST",
    "Request body is not valid UTF-8 JSON",
  );
  assert.ok(error.cause instanceof TypeError, "the decoder error is kept as cause");
});

Deno.test("decodeRequest() rejects a body that is not JSON with BAD_REQUEST", async (t) => {
  for (const text of ["", "{", "template=cus", "{'template':'cus'}", '{"template":"cus",}']) {
    await t.step(JSON.stringify(text), () => {
      const error = assertRejects(
        () => decodeRequest(encode(text), 1000),
        "BAD_REQUEST",
        "Request body is not valid UTF-8 JSON",
      );
      assert.ok(error.cause instanceof SyntaxError);
    });
  }
});

Deno.test("decodeRequest() rejects JSON that is not an object", async (t) => {
  for (const text of ["[]", '[{"template":"cus","op":"read"}]', "42", "null", '"read.cus"', "true"]) {
    await t.step(text, () => {
      assertRejects(
        () => decodeRequest(encode(text), 1000),
        "BAD_REQUEST",
        "Request body must be a JSON object",
      );
    });
  }
});

Deno.test("checkRequest() rejects an unknown top-level key", async (t) => {
  await t.step("a misspelt key", () => {
    const error = assertRejects(
      () => checkRequest({ template: "cus", op: "read", wehre: { id: 1 } }),
      "BAD_REQUEST",
      'Invalid request: unknown key "wehre"',
    );
    assert.deepEqual(error.details, { issues: ['unknown key "wehre"'] });
  });
  await t.step("a top-level __proto__ from JSON text", () => {
    assertRejects(
      () => decodeRequest(encode('{"template":"cus","op":"read","__proto__":{"x":1}}'), 1000),
      "BAD_REQUEST",
      'Invalid request: unknown key "__proto__"',
    );
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

Deno.test("checkRequest() rejects a bad template name", async (t) => {
  for (const template of ["Cus", "cus!", "1cus", "", "a".repeat(33), "read.cus"]) {
    await t.step(JSON.stringify(template), () => {
      const error = assertRejects(
        () => checkRequest({ template, op: "read" }),
        "BAD_REQUEST",
        "Invalid request: template: expected a template name",
      );
      assert.deepEqual(error.details, { issues: ["template: expected a template name"] });
    });
  }
  await t.step("missing", () => {
    const error = bedsError(() => checkRequest({ op: "read" }));
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /^Invalid request: template: /);
  });
});

Deno.test("checkRequest() rejects an unknown op", () => {
  assertRejects(
    () => checkRequest({ template: "cus", op: "upsert" }),
    "BAD_REQUEST",
    'Invalid request: op: Invalid option: expected one of "create"|"read"|"update"|"delete"|"call"',
  );
});

Deno.test("checkRequest() requires a call name for op call", async (t) => {
  await t.step("missing", () => {
    assertRejects(
      () => checkRequest({ template: "cus", op: "call" }),
      "BAD_REQUEST",
      'Invalid request: op "call" needs a "call" name',
    );
  });
  await t.step("empty", () => {
    const error = bedsError(() => checkRequest({ template: "cus", op: "call", call: "" }));
    assert.equal(error.code, "BAD_REQUEST");
    assert.equal(error.message, "Invalid request: call: expected a call name");
  });
  await t.step("present", () => {
    assert.equal(checkRequest({ template: "cus", op: "call", call: "orders" }).call, "orders");
  });
});

Deno.test("checkRequest() refuses a call name on any op but call (it would be ignored)", () => {
  for (const op of ["read", "create", "update", "delete"]) {
    assertRejects(
      () => checkRequest({ template: "cus", op, key: { id: 1 }, call: "orders" }),
      "BAD_REQUEST",
      `Invalid request: op "${op}" does not take "call"`,
    );
  }
});

Deno.test("checkRequest() rejects a negative or fractional limit and offset", async (t) => {
  await t.step("limit -1", () => {
    assertRejects(
      () => checkRequest({ template: "cus", op: "read", limit: -1 }),
      "BAD_REQUEST",
      "Invalid request: limit: Too small: expected number to be >=0",
    );
  });
  await t.step("offset -5", () => {
    assertRejects(
      () => checkRequest({ template: "cus", op: "read", offset: -5 }),
      "BAD_REQUEST",
      "Invalid request: offset: Too small: expected number to be >=0",
    );
  });
  await t.step("limit 1.5", () => {
    const error = bedsError(() => checkRequest({ template: "cus", op: "read", limit: 1.5 }));
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /^Invalid request: limit: /);
  });
});

Deno.test("checkRequest() rejects a bad order term", async (t) => {
  for (
    const [order, index] of [[["+name"], 0], [["id", "na me"], 1], [["--id"], 0], [["Name"], 0]] as const
  ) {
    await t.step(JSON.stringify(order), () => {
      assertRejects(
        () => checkRequest({ template: "cus", op: "read", order: [...order] }),
        "BAD_REQUEST",
        `Invalid request: order.${index}: expected "field" or "-field"`,
      );
    });
  }
  await t.step("more than 8 terms", () => {
    const error = bedsError(() => checkRequest({ template: "cus", op: "read", order: Array(9).fill("id") }));
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /^Invalid request: order: /);
  });
});

Deno.test("checkRequest() rejects a non-object key, data or where", () => {
  const error = bedsError(() => checkRequest({ template: "cus", op: "read", where: [1, 2] }));
  assert.equal(error.code, "BAD_REQUEST");
  assert.match(error.message, /^Invalid request: where: /);
});

Deno.test("decodeRequest() accepts a valid request and returns its fields", () => {
  const request = {
    v: 1,
    template: "cus",
    op: "read",
    where: { status: ["active", "suspended"], email: "a@b.c" },
    limit: 10,
    offset: 20,
    order: ["-created_at", "id"],
    event: { parent: "abc-node-boot-0" },
    deadline_ms: 1_700_000_000_000,
  };
  assert.deepEqual(decodeRequest(json(request), 65536), request);
});

Deno.test("decodeRequest() rejects a __proto__ key inside key, data or where without polluting prototypes", async (t) => {
  for (const part of ["key", "data", "where"]) {
    await t.step(part, () => {
      const body = encode(
        `{"template":"cus","op":"update","${part}":{"__proto__":{"polluted":true},"id":1}}`,
      );
      const error = assertRejects(
        () => decodeRequest(body, 65536),
        "VALIDATION",
        'Unknown field "__proto__"',
      );
      assert.deepEqual(error.details, { field: "__proto__" });
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  }
});

Deno.test("routingKey() is <op>.<template>", () => {
  assert.equal(routingKey("read", "cus"), "read.cus");
  assert.equal(routingKey("call", "ord"), "call.ord");
});

Deno.test("checkRequest() takes an event.parent of at most 32 words", () => {
  const request = (parts: number) => ({
    template: "cus",
    op: "read",
    event: { parent: Array.from({ length: parts }, (_, i) => `w${i}`).join(".") },
  });
  assert.equal(checkRequest(request(32)).event?.parent.split(".").length, 32);
  assert.throws(() => checkRequest(request(33)), (error: BedsError) => {
    assert.equal(error.code, "BAD_REQUEST");
    assert.match(error.message, /event\.parent.*at most 32 dot-separated words/);
    return true;
  });
});
