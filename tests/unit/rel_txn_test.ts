import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { BedsError, TemplateError } from "../../src/errors.ts";
import { FanOutError, runFanOut } from "../../src/dispatch/fanout.ts";
import {
  compileRelTemplate,
  compileTemplate,
  compileTxnTemplate,
  linkRelTemplate,
  linkTxnTemplate,
  loadTemplates,
  orderParts,
  parseSource,
  parseValueSource,
  type RecTemplate,
  recTemplates,
} from "../../src/templates/mod.ts";

const recs = new Map<string, RecTemplate>(
  recTemplates(await loadTemplates(`${Deno.cwd()}/templates`)).map((t) => [t.name, t]),
);

function rel(text: string) {
  return compileRelTemplate("x_rel.toml", parse(text));
}

function rejects(fn: () => unknown, message: string) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof TemplateError);
    assert.equal(error.message, message);
    return true;
  });
}

const HEAD = `[template]\nname = "x"\nkind = "rel"\n[fields.id]\ntype = "int"\n[input]\nkey = ["id"]\n`;

Deno.test("parseSource() reads literals, request fields and part results", () => {
  assert.deepEqual(parseSource(5), { from: "literal", value: 5 });
  assert.deepEqual(parseSource("plain"), { from: "literal", value: "plain" });
  assert.deepEqual(parseSource("$key.id"), { from: "key", field: "id" });
  assert.deepEqual(parseSource("$where.status"), { from: "where", field: "status" });
  assert.deepEqual(parseSource("$parts.orders.id"), { from: "result", name: "orders", field: "id" });
  assert.deepEqual(parseSource("$parts.total"), { from: "result", name: "total" });
  assert.equal(parseSource("$nope.x"), undefined);
});

Deno.test("orderParts() puts dependencies first and finds cycles", () => {
  const ok = orderParts(new Map([["c", ["b"]], ["b", ["a"]], ["a", []]]));
  assert.deepEqual(ok, { order: ["a", "b", "c"] });
  const cycle = orderParts(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]]]));
  assert.deepEqual(cycle, { cycle: ["a", "b", "c", "a"] });
});

Deno.test("compileRelTemplate() plans parts after the parts they need", () => {
  const t = rel(`${HEAD}
[parts.late]
template = "ord"
key = { id = "$parts.early.id" }
[parts.early]
template = "ord"
where = { customer_id = "$key.id" }
`);
  assert.deepEqual(t.parts.map((p) => p.name), ["early", "late"]);
  assert.deepEqual(t.parts[1]!.after, ["early"]);
  linkRelTemplate(t, recs);
});

Deno.test("compileRelTemplate() rejects cycles and unknown references naming file and key", async (t) => {
  await t.step("a cycle", () =>
    rejects(
      () =>
        rel(`${HEAD}
[parts.a]
template = "cus"
key = { id = "$parts.b.id" }
[parts.b]
template = "cus"
key = { id = "$parts.a.id" }
`),
      'Invalid template "x_rel.toml": parts: dependency cycle a → b → a',
    ));
  await t.step("an unknown part", () =>
    rejects(
      () => rel(`${HEAD}\n[parts.a]\ntemplate = "cus"\nkey = { id = "$parts.zz.id" }\n`),
      'Invalid template "x_rel.toml": parts.a.key.id: unknown part "zz"',
    ));
  await t.step("a request field not in input", () =>
    rejects(
      () => rel(`${HEAD}\n[parts.a]\ntemplate = "cus"\nkey = { id = "$key.other" }\n`),
      'Invalid template "x_rel.toml": parts.a.key.id: "other" is not in input.key',
    ));
  await t.step("an unknown REC template (at link time)", () =>
    rejects(
      () => linkRelTemplate(rel(`${HEAD}\n[parts.a]\ntemplate = "zzz"\n`), recs),
      'Invalid template "x_rel.toml": parts.a.template: unknown REC template "zzz"',
    ));
  await t.step("an unknown call (at link time)", () =>
    rejects(
      () => linkRelTemplate(rel(`${HEAD}\n[parts.a]\ntemplate = "cus"\nop = "call"\ncall = "nope"\n`), recs),
      'Invalid template "x_rel.toml": parts.a.call: template "cus" has no call "nope"',
    ));
  await t.step("a field the target does not declare (at link time)", () =>
    rejects(
      () => linkRelTemplate(rel(`${HEAD}\n[parts.a]\ntemplate = "cus"\nwhere = { sku = 1 }\n`), recs),
      'Invalid template "x_rel.toml": parts.a.where.sku: "sku" is not a field of "cus"',
    ));
});

const TXN = `[template]\nname = "t"\nkind = "txn"\n[fields.s]\ntype = "string"\n[input]\ndata = ["s"]\n`;

Deno.test("compileTxnTemplate() keeps step order and checks references", async (t) => {
  const txn = compileTxnTemplate(
    "t_txn.toml",
    parse(`${TXN}
[[steps]]
name = "one"
template = "prd"
op = "create"
data = { sku = "$data.s", name = "n", price = "1.00" }
[[steps]]
name = "two"
template = "prd"
op = "update"
key = { id = "$steps.one.id" }
data = { stock = 3 }
`),
  );
  assert.deepEqual(txn.steps.map((s) => s.spec.name), ["one", "two"]);
  linkTxnTemplate(txn, recs);
  await t.step("a reference to a later step", () =>
    rejects(
      () =>
        compileTxnTemplate(
          "t_txn.toml",
          parse(`${TXN}
[[steps]]
name = "one"
template = "prd"
op = "update"
key = { id = "$steps.two.id" }
[[steps]]
name = "two"
template = "prd"
op = "create"
`),
        ),
      'Invalid template "t_txn.toml": steps.0.key.id: "two" is not an earlier step',
    ));
  await t.step("an op the REC template lacks (at link time)", () =>
    rejects(
      () =>
        linkTxnTemplate(
          compileTxnTemplate(
            "t_txn.toml",
            parse(`${TXN}\n[[steps]]\nname = "a"\ntemplate = "ord"\nop = "update"\n`),
          ),
          recs,
        ),
      'Invalid template "t_txn.toml": steps.0.op: template "ord" has no update',
    ));
});

Deno.test("parseValueSource(): each kind of template names its own sections and results", () => {
  const txn = (v: string | number | null) => parseValueSource(v, ["key", "data"], "steps");
  assert.deepEqual(txn("$steps.order.id"), { from: "result", name: "order", field: "id" });
  assert.deepEqual(txn("$data.qty"), { from: "data", field: "qty" });
  assert.deepEqual(txn(7), { from: "literal", value: 7 });
  assert.deepEqual(txn(null), { from: "literal", value: null });
  assert.equal(txn("$where.status"), undefined, "a TXN takes no where");
  assert.equal(txn("$parts.order.id"), undefined, "a TXN has steps, not parts");
  assert.equal(txn("$steps.Order"), undefined, "names are lower case");
  assert.equal(parseSource("$steps.order"), undefined, "a REL has parts, not steps");
});

Deno.test("runFanOut() keeps at most `concurrency` parts running and frees a slot on failure", async (t) => {
  const parts = Array.from(
    { length: 6 },
    (_, i) => `[parts.p${i}]\ntemplate = "cus"\nkey = { id = ${i + 1} }\n`,
  );
  const template = rel(`${HEAD.replace('kind = "rel"', 'kind = "rel"\nconcurrency = 2')}${parts.join("")}`);
  linkRelTemplate(template, recs);
  for (const failing of [[], [1, 2]]) {
    await t.step(failing.length ? "failed parts give their slots back" : "all parts succeed", async () => {
      let running = 0;
      let most = 0;
      const started: number[] = [];
      const result = await runFanOut(
        template,
        { template: "x", op: "read", key: { id: 1 } },
        async (part) => {
          const id = (part.key as { id: number }).id;
          started.push(id);
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running--;
          if (failing.includes(id)) throw new BedsError("NOT_FOUND", "gone");
          return { data: { id }, rows: 1 };
        },
        (i) => `e.${i}`,
      ).catch((error: unknown) => error);
      assert.equal(most, 2, "never more than two at once");
      if (failing.length) {
        // The request has failed once the first part holding a slot failed: the parts still
        // waiting for a slot never start, and the records of those that ran come once none runs.
        assert.ok(result instanceof FanOutError, String(result));
        assert.equal(result.code, "NOT_FOUND");
        assert.match(result.message, /^Part "p0" failed: gone$/);
        assert.deepEqual(started, [1, 2]);
        assert.deepEqual((await result.settled).map((r) => [r.part, r.code]), [["p0", "NOT_FOUND"], [
          "p1",
          "NOT_FOUND",
        ]]);
        assert.equal(running, 0, "no part still running once the records are complete");
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.deepEqual(started, [1, 2], "none started later");
        return;
      }
      if (result instanceof Error || !result || typeof result !== "object") throw result;
      const { data, parts: records } = result as Awaited<ReturnType<typeof runFanOut>>;
      assert.deepEqual(started, [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(data, Object.fromEntries(parts.map((_, i) => [`p${i}`, { id: i + 1 }])));
      assert.deepEqual(records.map((p) => p.event), ["e.1", "e.2", "e.3", "e.4", "e.5", "e.6"]);
    });
  }
});

Deno.test("runFanOut() answers as soon as a required part fails, and records the parts still running once they end", async () => {
  const template = rel(
    `${HEAD.replace('kind = "rel"', 'kind = "rel"\nconcurrency = 2')}` +
      `[parts.fails]\ntemplate = "cus"\nkey = { id = 1 }\n` +
      `[parts.slow]\ntemplate = "cus"\nkey = { id = 2 }\n` +
      `[parts.later]\ntemplate = "cus"\nkey = { id = 3 }\n`,
  );
  linkRelTemplate(template, recs);
  const SLOW_MS = 1500;
  const started: number[] = [];
  let slowEnded = false;
  const t0 = performance.now();
  const result = await runFanOut(
    template,
    { template: "x", op: "read", key: { id: 1 } },
    async (part) => {
      const id = (part.key as { id: number }).id;
      started.push(id);
      if (id === 1) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw new BedsError("NOT_FOUND", "gone");
      }
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      slowEnded = true;
      return { data: { id }, rows: 1 };
    },
    (i) => `e.${i}`,
  ).catch((error: unknown) => error);
  const answeredMs = performance.now() - t0;
  assert.ok(result instanceof FanOutError, String(result));
  assert.match(result.message, /^Part "fails" failed: gone$/);
  assert.ok(answeredMs < SLOW_MS / 3, `answered after ${answeredMs} ms, not when the slow part ended`);
  assert.equal(slowEnded, false);
  assert.deepEqual(result.parts.map((r) => [r.part, r.code]), [["fails", "NOT_FOUND"]]);
  // The slow part runs on, unused; its record comes once it ends, as it would have in the answer.
  const records = await result.settled;
  assert.equal(slowEnded, true);
  assert.deepEqual(records.map((r) => [r.part, r.event, r.code, r.rows]), [
    ["fails", "e.1", "NOT_FOUND", 0],
    ["slow", "e.2", undefined, 1],
  ]);
  assert.ok(records[1]!.ms >= SLOW_MS - 50, `slow part's ms: ${records[1]!.ms}`);
  // The part that waited for the failed one's slot never started.
  assert.deepEqual(started, [1, 2]);
});

Deno.test("runFanOut() never runs a part whose value from an earlier part is missing", async (t) => {
  // "The orders of the customer found": with no customer found, a dropped filter would read everyone's.
  const template = rel(`[template]
name = "x"
kind = "rel"
[fields.email]
type = "string"
[input]
where = ["email"]
[parts.customer]
template = "cus"
where = { email = "$where.email", status = "active" }
[parts.orders]
template = "ord"
where = { customer_id = "$parts.customer.id" }
optional = true
`);
  linkRelTemplate(template, recs);
  const run = async (customers: unknown[], where: Record<string, unknown>) => {
    const sent: Array<{ template: string; where?: Record<string, unknown> }> = [];
    const result = await runFanOut(template, { template: "x", op: "read", where }, (part) => {
      sent.push({ template: part.template, where: part.where });
      return Promise.resolve(
        part.template === "cus"
          ? { data: customers, rows: customers.length }
          : { data: [{ id: 9 }], rows: 1 },
      );
    }, (i) => `e.${i}`);
    return { sent, result };
  };
  await t.step("a customer found: its id filters the orders", async () => {
    const { sent, result } = await run([{ id: 7 }], { email: "a@b.co" });
    assert.deepEqual(sent[1], { template: "ord", where: { customer_id: 7 } });
    assert.deepEqual(result.errors, []);
  });
  await t.step("none found: the orders part fails as NOT_FOUND and reads nothing", async () => {
    const { sent, result } = await run([], { email: "nobody@b.co" });
    assert.deepEqual(sent.map((s) => s.template), ["cus"]);
    assert.equal(result.data.orders, null);
    assert.deepEqual(result.errors, [{
      part: "orders",
      code: "NOT_FOUND",
      message: 'Field "customer_id" takes "customer.id", which has no value (no row)',
    }]);
  });
  await t.step("a NULL found is a value in where: it filters by NULL", async () => {
    const { sent } = await run([{ id: null }], { email: "a@b.co" });
    assert.deepEqual(sent[1], { template: "ord", where: { customer_id: null } });
  });
  await t.step("as a key, a NULL found is no value: NOT_FOUND, not VALIDATION", async () => {
    const byKey = rel(`[template]
name = "y"
kind = "rel"
[fields.email]
type = "string"
[input]
where = ["email"]
[parts.customer]
template = "cus"
where = { email = "$where.email" }
[parts.again]
template = "cus"
key = { id = "$parts.customer.id" }
optional = true
`);
    linkRelTemplate(byKey, recs);
    const sent: string[] = [];
    const result = await runFanOut(
      byKey,
      { template: "y", op: "read", where: { email: "a@b.co" } },
      (part) => {
        sent.push(part.template);
        return Promise.resolve({ data: [{ id: null }], rows: 1 });
      },
      (i) => `e.${i}`,
    );
    assert.deepEqual(sent, ["cus"]);
    assert.deepEqual(result.errors, [{
      part: "again",
      code: "NOT_FOUND",
      message: 'Field "id" takes "customer.id", which has no value (no row, or NULL)',
    }]);
  });
  await t.step("a request field left out is an optional filter, left out", async () => {
    const { sent } = await run([{ id: 7 }], {});
    assert.deepEqual(sent[0], { template: "cus", where: { status: "active" } });
  });
});

Deno.test("linkRelTemplate() refuses a part its target op would refuse on every request", async (t) => {
  const link = (part: string) => () =>
    linkRelTemplate(rel(`${HEAD}\n[parts.a]\ntemplate = "cus"\n${part}`), recs);
  const cases: Array<[string, string, string]> = [
    [
      "a where field the read does not allow",
      'where = { name = "x" }',
      'parts.a.where.name: "name" is not allowed in where by "cus"',
    ],
    [
      "a key that is not the read key",
      'key = { email = "x@y.z" }',
      'parts.a.key.email: "email" is not in the read key of "cus"',
    ],
    [
      "an order field the read does not allow",
      'order = ["-email"]',
      'parts.a.order: "email" is not allowed in order by "cus"',
    ],
    ["data on a read", 'data = { name = "x" }', "parts.a.data: a read takes no data"],
    [
      "a limit on a call",
      'op = "call"\ncall = "order_total"\nkey = { id = "$key.id" }\nlimit = 5',
      "parts.a.limit: a call takes no limit",
    ],
    [
      "a call param the call does not take",
      'op = "call"\ncall = "order_total"\nkey = { email = "x@y.z" }',
      'parts.a.key.email: "email" is not a param of call "order_total"',
    ],
  ];
  for (const [what, part, message] of cases) {
    await t.step(what, () => rejects(link(part), `Invalid template "x_rel.toml": ${message}`));
  }
  await t.step("the repository's REL templates link", async () => {
    const all = await loadTemplates(`${Deno.cwd()}/templates`);
    assert.ok(all.some((x) => x.kind === "rel"));
  });
});

Deno.test("linkTxnTemplate() refuses a step field its op does not take, and a required field not in input", async (t) => {
  await t.step("a data field outside the op's params", () =>
    rejects(
      () =>
        linkTxnTemplate(
          compileTxnTemplate(
            "t_txn.toml",
            parse(
              `${TXN}\n[[steps]]\nname = "a"\ntemplate = "cus"\nop = "create"\ndata = { email = "$data.s", name = "n", status = "active" }\n`,
            ),
          ),
          recs,
        ),
      'Invalid template "t_txn.toml": steps.0.data.status: "status" is not a param of that create',
    ));
  await t.step("a required field in neither input.key nor input.data", () =>
    rejects(
      () =>
        compileTxnTemplate(
          "t_txn.toml",
          parse(
            TXN.replace('data = ["s"]', 'data = ["s"]\nrequired = ["s", "t"]').replace(
              "[input]",
              '[fields.t]\ntype = "int"\n[input]',
            ) + '[[steps]]\nname = "a"\ntemplate = "prd"\nop = "create"\n',
          ),
        ),
      'Invalid template "t_txn.toml": input.required.1: "t" is in neither input.key nor input.data',
    ));
});

Deno.test("linkTxnTemplate() refuses a step that leaves out what its op requires or gives a literal it refuses", async (t) => {
  const link = (steps: string) => () =>
    linkTxnTemplate(compileTxnTemplate("t_txn.toml", parse(`${TXN}${steps}`)), recs);
  const cases: Array<[string, string, string]> = [
    [
      "a create without a field its op requires",
      'template = "ord"\nop = "create"\ndata = { customer_id = 1, product_id = 2 }',
      'steps.0: "ord"\'s create requires "qty", which is not given',
    ],
    [
      "a create without a field declared required",
      'template = "prd"\nop = "create"\ndata = { sku = "$data.s", price = "1.00" }',
      'steps.0: "prd"\'s create requires "name", which is not given',
    ],
    [
      "an update without its key",
      'template = "prd"\nop = "update"\ndata = { stock = 1 }',
      'steps.0: "prd"\'s update requires "id", which is not given',
    ],
    [
      "a call without its required param",
      'template = "ord"\nop = "call"\ncall = "cancel"',
      'steps.0: call "cancel" of "ord" requires "id", which is not given',
    ],
    [
      "a literal of the wrong type",
      'template = "ord"\nop = "create"\ndata = { customer_id = 1, product_id = 2, qty = "abc" }',
      'steps.0.data.qty: "abc" is refused: Field "qty" must be an integer, got string',
    ],
    [
      "a literal outside the field's range",
      'template = "ord"\nop = "create"\ndata = { customer_id = 1, product_id = 2, qty = 0 }',
      'steps.0.data.qty: 0 is refused: Field "qty" must be at least 1',
    ],
  ];
  for (const [what, step, message] of cases) {
    await t.step(
      what,
      () => rejects(link(`[[steps]]\nname = "a"\n${step}\n`), `Invalid template "t_txn.toml": ${message}`),
    );
  }
  await t.step("a required field given as null (which a template read from JSON can hold)", () => {
    const raw = parse(TXN) as Record<string, unknown>;
    raw.steps = [{ name: "a", template: "ord", op: "call", call: "cancel", key: { id: null } }];
    rejects(
      () => linkTxnTemplate(compileTxnTemplate("t_txn.toml", raw), recs),
      'Invalid template "t_txn.toml": steps.0: call "cancel" of "ord" requires "id", which is given as null',
    );
  });
  await t.step("a step that gives all, from the request, a literal or an earlier step, links", () =>
    link(
      '[[steps]]\nname = "a"\ntemplate = "ord"\nop = "create"\ndata = { customer_id = 1, product_id = 2, qty = 3 }\n' +
        '[[steps]]\nname = "b"\ntemplate = "ord"\nop = "call"\ncall = "cancel"\nkey = { id = "$steps.a.id" }\n',
    )());
});

Deno.test("linkRelTemplate() refuses a call or procedure-read part that leaves out what its op requires", async (t) => {
  const withSearch = new Map(recs);
  withSearch.set(
    "srh",
    compileTemplate(
      "srh_rec.toml",
      `[template]\nname = "srh"\nstore = "mariadb"\ndatabase = "lab"\n` +
        `[fields.q]\ntype = "string"\n[fields.n]\ntype = "int"\n` +
        `[ops.read]\nprocedure = "sp_srh"\nparams = ["q", "n"]\nrequired = ["q"]\n`,
    ),
  );
  const head = HEAD.replace('key = ["id"]', 'key = ["id", "q"]');
  const link = (part: string) => () =>
    linkRelTemplate(rel(`${head}\n[fields.q]\ntype = "string"\n[parts.a]\n${part}`), withSearch);
  const cases: Array<[string, string, string]> = [
    [
      "a call part without the call's required param",
      'template = "cus"\nop = "call"\ncall = "orders"',
      'parts.a: call "orders" of "cus" requires "id", which is not given',
    ],
    [
      "a procedure read without its required param",
      'template = "srh"\nwhere = { n = 5 }',
      'parts.a: "srh"\'s read requires "q", which is not given',
    ],
    [
      "a key literal of the wrong type",
      'template = "cus"\nkey = { id = "abc" }',
      'parts.a.key.id: "abc" is refused: Field "id" must be an integer, got string',
    ],
    [
      "a where literal outside the field's enum",
      'template = "cus"\nwhere = { status = "gone" }',
      'parts.a.where.status: "gone" is refused: Field "status" must be one of active, suspended',
    ],
    [
      "a call literal of the wrong type",
      'template = "cus"\nop = "call"\ncall = "order_total"\nkey = { id = 1.5 }',
      'parts.a.key.id: 1.5 is refused: Field "id" must be an integer, got number',
    ],
  ];
  for (const [what, part, message] of cases) {
    await t.step(what, () => rejects(link(part), `Invalid template "x_rel.toml": ${message}`));
  }
  await t.step("parts that give what their op requires link", () => {
    link('template = "srh"\nkey = { q = "$key.q" }\nwhere = { n = 5 }')();
    link('template = "cus"\nop = "call"\ncall = "orders"\ndata = { id = "$key.id" }')();
    link('template = "cus"\nkey = { id = 7 }')();
  });
});
