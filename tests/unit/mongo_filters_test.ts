import assert from "node:assert/strict";
import { documentOf, identityOf, keyFilter, readFilter, sortOf } from "../../src/adapters/mongodb/filters.ts";
import type { Collection, Document } from "mongodb";
import { mongoOperations } from "../../src/adapters/mongodb/operations.ts";
import { plainDocument } from "../../src/adapters/mongodb/replies.ts";
import { BedsError } from "../../src/errors.ts";
import { compileTemplate, type RecTemplate } from "../../src/templates/mod.ts";

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

[fields.n]
type = "int"
nullable = true

[fields.doc]
type = "json"

[ops.read]
key = ["id"]
where = ["id", "name", "n"]
order = ["name", "n"]

[ops.update]
params = ["id", "name", "n", "doc"]
key = ["id"]
`,
);

function assertValidation(fn: () => unknown, message: RegExp, field?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof BedsError, `expected a BedsError, got ${error}`);
    assert.equal(error.code, "VALIDATION");
    assert.match(error.message, message);
    if (field !== undefined) assert.deepEqual(error.details, { field });
    return true;
  });
}

const where = (entries: Array<[string, unknown[]]>) => new Map(entries);
const values = (entries: Array<[string, unknown]>) => new Map(entries);

Deno.test("readFilter() turns where into equality and $in, and adds the key", async (t) => {
  await t.step("one value is equality, several are $in", () => {
    assert.deepEqual(
      readFilter({ where: where([["name", ["a"]], ["n", [1, 2, null]]]), whereFields: ["name", "n"] }),
      { name: "a", n: { $in: [1, 2, null] } },
    );
  });
  await t.step("a read by key filters on every key field", () => {
    assert.deepEqual(
      readFilter({ where: new Map(), whereFields: [], key: values([["id", "x1"]]), keyFields: ["id"] }),
      { id: "x1" },
    );
  });
  await t.step("no where, no key: every document", () => {
    assert.deepEqual(readFilter({ where: new Map(), whereFields: ["name"] }), {});
  });
});

Deno.test("readFilter() answers VALIDATION for operator injection and undeclared fields", async (t) => {
  const whereFields = ["name", "n"];
  await t.step("an object where a scalar is declared ({$gt: ''})", () => {
    assertValidation(
      () => readFilter({ where: where([["name", [{ $gt: "" }]]]), whereFields }),
      /^Field "name" takes a single value, not an object$/,
      "name",
    );
  });
  await t.step("a nested array", () => {
    assertValidation(() => readFilter({ where: where([["n", [[1, 2]]]]), whereFields }), /not an array/, "n");
  });
  await t.step("a $where key", () => {
    assertValidation(
      () => readFilter({ where: where([["$where", ["sleep(1000)"]]]), whereFields }),
      /^Field name "\$where" is not allowed/,
      "$where",
    );
  });
  await t.step("a dotted key", () => {
    assertValidation(
      () => readFilter({ where: where([["a.b", [1]]]), whereFields: ["a.b"] }),
      /^Field name "a\.b" is not allowed/,
      "a.b",
    );
  });
  await t.step("a field not declared in where", () => {
    assertValidation(
      () => readFilter({ where: where([["id", ["x"]]]), whereFields }),
      /^Field "id" is not allowed in where$/,
      "id",
    );
  });
  await t.step("a key with an operator value", () => {
    assertValidation(
      () => keyFilter(values([["id", { $ne: null }]]), ["id"]),
      /^Field "id" takes a single value/,
      "id",
    );
  });
  await t.step("a key without its field, or with an extra one", () => {
    assertValidation(() => keyFilter(values([]), ["id"]), /^Key field "id" is required$/, "id");
    assertValidation(
      () => keyFilter(values([["id", "x"], ["name", "y"]]), ["id"]),
      /^Field "name" is not allowed in the key$/,
      "name",
    );
  });
  await t.step("a value that is not finite", () => {
    assertValidation(() => keyFilter(values([["id", Number.NaN]]), ["id"]), /not a number/, "id");
  });
});

Deno.test("sortOf() keeps the order terms and allows only declared fields", () => {
  assert.deepEqual(sortOf([{ field: "name", desc: false }, { field: "n", desc: true }], ["name", "n"]), [
    ["name", 1],
    ["n", -1],
  ]);
  assertValidation(() => sortOf([{ field: "id", desc: false }], ["name"]), /not allowed in order/, "id");
  assertValidation(
    () => sortOf([{ field: "$natural", desc: false }], ["$natural"]),
    /not allowed/,
    "$natural",
  );
});

Deno.test("documentOf() builds a write from declared fields, parsing json fields", async (t) => {
  await t.step("scalars as they are, json text as the value it encodes, the key skipped", () => {
    assert.deepEqual(
      documentOf({
        template: TEMPLATE,
        values: values([["id", "x"], ["name", "a"], ["n", null], ["doc", '{"tags":["t"],"deep":{"k":1}}']]),
        fields: ["id", "name", "n", "doc"],
        skip: ["id"],
      }),
      { name: "a", n: null, doc: { tags: ["t"], deep: { k: 1 } } },
    );
  });
  await t.step("json with an operator key at any depth is VALIDATION", () => {
    for (const text of ['{"$set":{"a":1}}', '{"deep":[{"$where":"1"}]}', '{"a.b":1}']) {
      assertValidation(
        () => documentOf({ template: TEMPLATE, values: values([["doc", text]]), fields: ["doc"] }),
        /^Field "doc" holds the key "/,
        "doc",
      );
    }
  });
  await t.step(
    "json nested deeper than MongoDB takes is VALIDATION, however deep (no stack overflow)",
    () => {
      for (const depth of [101, 20_000]) {
        assertValidation(
          () =>
            documentOf({
              template: TEMPLATE,
              values: values([["doc", `${"[".repeat(depth)}${"]".repeat(depth)}`]]),
              fields: ["doc"],
            }),
          /^Field "doc" nests deeper than 100 levels$/,
          "doc",
        );
      }
      const hundred = `${"[".repeat(100)}${"]".repeat(100)}`;
      documentOf({ template: TEMPLATE, values: values([["doc", hundred]]), fields: ["doc"] });
    },
  );
  await t.step("an object in a scalar field is VALIDATION", () => {
    assertValidation(
      () => documentOf({ template: TEMPLATE, values: values([["name", { $gt: "" }]]), fields: ["name"] }),
      /^Field "name" takes a single value, not an object$/,
      "name",
    );
  });
  await t.step("a field the op does not write is VALIDATION", () => {
    assertValidation(
      () => documentOf({ template: TEMPLATE, values: values([["name", "a"]]), fields: ["id"] }),
      /^Field "name" is not allowed in this write$/,
      "name",
    );
  });
  await t.step("operator-looking strings are plain data", () => {
    assert.deepEqual(
      documentOf({ template: TEMPLATE, values: values([["name", "$where"]]), fields: ["name"] }),
      { name: "$where" },
    );
  });
});

Deno.test("identityOf() is the create key, else the first key declared", () => {
  assert.deepEqual(identityOf(TEMPLATE), ["id"]);
  const noCreate = { ...TEMPLATE, ops: { update: { params: ["n"], key: ["n"] } } };
  assert.deepEqual(identityOf(noCreate), ["n"]);
  assert.deepEqual(identityOf({ ...TEMPLATE, ops: {} }), []);
});

Deno.test("plainDocument() drops _id and turns BSON values of the template's fields into JSON values", () => {
  const objectId = { _bsontype: "ObjectId", toHexString: () => "65a1b2c3d4e5f60718293a4b" };
  const long = { _bsontype: "Long", toString: () => "42" };
  const bigLong = { _bsontype: "Long", toString: () => "9223372036854775807" };
  const decimal = { _bsontype: "Decimal128", toString: () => "12.50" };
  const fields = Object.fromEntries(
    ["id", "ref", "at", "count", "big", "price", "nested"].map((name) => [name, { type: "string" }]),
  );
  assert.deepEqual(
    plainDocument({
      _id: objectId,
      id: "a",
      ref: objectId,
      at: new Date("2025-01-02T03:04:05.000Z"),
      count: long,
      big: bigLong,
      price: decimal,
      nested: { _id: 1, list: [objectId, 2] },
    }, { fields } as unknown as RecTemplate),
    {
      id: "a",
      ref: "65a1b2c3d4e5f60718293a4b",
      at: "2025-01-02T03:04:05.000Z",
      count: 42,
      big: "9223372036854775807",
      price: "12.50",
      nested: { _id: 1, list: ["65a1b2c3d4e5f60718293a4b", 2] },
    },
  );
});

Deno.test("mongoOperations() read with limit 0 answers no rows, never the driver's 'no limit'", async () => {
  const finds: Array<Record<string, unknown>> = [];
  const collection = {
    find(_filter: unknown, options: Record<string, unknown>) {
      finds.push(options);
      return { toArray: () => Promise.resolve([{ id: "a", name: "A" }, { id: "b", name: "B" }]) };
    },
  };
  const ops = mongoOperations(() => collection as unknown as Collection<Document>, { maxTimeMS: 30_000 });
  const read = (limit: number) =>
    ops.read({ template: TEMPLATE, where: new Map(), order: [], limit, offset: 0, params: new Map() });
  assert.deepEqual(await read(0), { data: [], rows: 0 });
  assert.equal(finds.length, 0, "nothing is asked of the database");
  assert.equal((await read(2)).rows, 2);
  assert.equal(finds[0]!.limit, 2);
});
