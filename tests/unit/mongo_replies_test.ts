import assert from "node:assert/strict";
import { plainDecimal, plainDocument, projectionOf, storedTime } from "../../src/adapters/mongodb/replies.ts";
import { Binary, BSON, BSONRegExp, Decimal128, UUID } from "mongodb";
import { compileTemplate } from "../../src/templates/mod.ts";

const TEMPLATE = compileTemplate(
  "tpl/mtm.toml",
  `[template]
name = "mtm"
store = "mongodb"
database = "lab"
collection = "members"

[fields.id]
type = "string"

[fields.email]
type = "string"

[fields.seen_at]
type = "datetime"
nullable = true

[fields.born]
type = "date"
nullable = true

[fields.price]
type = "decimal"

[ops.read]
key = ["id"]
where = ["email"]
order = ["email"]
`,
);

/** What a client receives: the reply's JSON. */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

Deno.test("projectionOf() asks for the template's fields and never _id", () => {
  assert.deepEqual(projectionOf(TEMPLATE), { _id: 0, id: 1, email: 1, seen_at: 1, born: 1, price: 1 });
});

Deno.test("plainDocument() keeps only the template's fields: what other writers store does not leak", () => {
  const reply = plainDocument(
    {
      _id: { _bsontype: "ObjectId", toHexString: () => "65a1b2c3d4e5f60718293a4b" },
      id: "m1",
      email: "a@b.c",
      password_hash: "$2b$12$secret",
      role: "admin",
    },
    TEMPLATE,
  );
  assert.deepEqual(reply, { id: "m1", email: "a@b.c" });
});

Deno.test("plainDocument() renders datetime and date fields as the MariaDB adapter replies", async (t) => {
  const render = (doc: Record<string, unknown>) => wire(plainDocument({ id: "m1", ...doc }, TEMPLATE));
  await t.step("a datetime as stored: ISO 8601 in UTC with milliseconds and Z", () => {
    assert.deepEqual(render({ seen_at: "2024-01-08 09:14:00.000" }), {
      id: "m1",
      seen_at: "2024-01-08T09:14:00.000Z",
    });
    assert.equal(render({ seen_at: "2024-01-08 09:14:22.125" }).seen_at, "2024-01-08T09:14:22.125Z");
  });
  await t.step("microseconds dropped, as the MariaDB driver's Date drops them", () => {
    assert.equal(render({ seen_at: "2024-01-08 09:14:22.125999" }).seen_at, "2024-01-08T09:14:22.125Z");
  });
  await t.step("a date at midnight UTC", () => {
    assert.equal(render({ born: "2024-01-08" }).born, "2024-01-08T00:00:00.000Z");
  });
  await t.step("as a Date, the value MariaDB's driver gives a fan-out's next part", () => {
    const reply = plainDocument({ seen_at: "2024-01-08 09:14:00.000", born: "2024-01-08" }, TEMPLATE);
    assert.ok(reply.seen_at instanceof Date && reply.born instanceof Date);
    // Fed back through the field checks, it is the text stored and matched: nothing changes there.
    assert.equal(TEMPLATE.checks.get("seen_at")!(reply.seen_at), "2024-01-08 09:14:00.000");
    assert.equal(TEMPLATE.checks.get("born")!(reply.born), "2024-01-08");
  });
  await t.step("older stored forms: T, no seconds, a zone", () => {
    assert.equal(render({ seen_at: "2024-01-08T09:14" }).seen_at, "2024-01-08T09:14:00.000Z");
    assert.equal(render({ seen_at: "2024-01-08 09:14:05" }).seen_at, "2024-01-08T09:14:05.000Z");
    assert.equal(render({ seen_at: "2024-01-08T11:14:00+02:00" }).seen_at, "2024-01-08T09:14:00.000Z");
  });
  await t.step("a BSON date another tool wrote, and null, as MariaDB's", () => {
    assert.equal(render({ seen_at: new Date("2024-01-08T09:14:00Z") }).seen_at, "2024-01-08T09:14:00.000Z");
    assert.equal(render({ seen_at: null, born: null }).seen_at, null);
  });
  await t.step("text that names no time is left as it is", () => {
    assert.equal(render({ born: "2024-02-30" }).born, "2024-02-30");
    assert.equal(render({ seen_at: "yesterday" }).seen_at, "yesterday");
  });
  await t.step("other fields are untouched: a decimal stays its text", () => {
    assert.equal(render({ price: "19.90" }).price, "19.90");
  });
});

Deno.test("plainDocument() gives bytes and regular expressions other programs store as text that keeps them", async (t) => {
  const template = compileTemplate(
    "tpl/mbt.toml",
    `[template]\nname = "mbt"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "c"\n` +
      `[fields.id]\ntype = "string"\n[fields.v]\ntype = "string"\n[fields.j]\ntype = "json"\n` +
      `[ops.read]\nkey = ["id"]\n`,
  );
  /** What a reply gives for a value stored in `v`, read back as the driver reads it (its BSON defaults). */
  const read = (v: unknown) => wire(plainDocument(BSON.deserialize(BSON.serialize({ v })), template)).v;
  await t.step("bytes (BSON Binary) as base64, not as UTF-8 text", () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x41, 0x80]);
    assert.equal(read(new Binary(bytes)), "/wBBgA==");
    assert.equal(
      read(new Binary(bytes, 3)),
      "/wBBgA==",
      "a legacy UUID (subtype 3): its byte order is the writer's",
    );
    assert.deepEqual(Uint8Array.from(atob(read(new Binary(bytes)) as string), (c) => c.charCodeAt(0)), bytes);
  });
  await t.step("a UUID (subtype 4) as its text", () => {
    assert.equal(
      read(new UUID("3b241101-e2bb-4255-8caf-4136c566a962")),
      "3b241101-e2bb-4255-8caf-4136c566a962",
    );
  });
  await t.step("a regular expression as its literal, not {}", () => {
    assert.equal(read(/ab+c/i), "/ab+c/i");
    assert.equal(read(new BSONRegExp("^a.b$", "im")), "/^a.b$/im");
  });
  await t.step("inside a json field too", () => {
    const doc = BSON.deserialize(
      BSON.serialize({ j: { b: new Binary(new Uint8Array([1, 2, 3])), r: [/x/] } }),
    );
    assert.deepEqual(wire(plainDocument(doc, template)).j, { b: "AQID", r: ["/x/"] });
  });
});

Deno.test("storedTime() reads stored dates and date-times, and refuses what names no time", () => {
  assert.equal(storedTime("2024-02-29")?.toISOString(), "2024-02-29T00:00:00.000Z");
  assert.equal(storedTime("2024-01-08 23:59:59.999")?.toISOString(), "2024-01-08T23:59:59.999Z");
  for (const text of ["2023-02-29", "2024-01-08 24:00:00.000", "2024-01-08 09:60", "2024-1-8", ""]) {
    assert.equal(storedTime(text), undefined, text);
  }
});

Deno.test("plainDecimal() writes a Decimal128 as MariaDB writes a DECIMAL, so the decimal check takes it back", () => {
  const cases: Array<[string, string]> = [
    ["9.50", "9.50"],
    ["1E-7", "0.0000001"],
    ["-1.5E-7", "-0.00000015"],
    ["1.000000000000000000000000000000000E+35", "100000000000000000000000000000000000"],
    ["1E+3", "1000"],
    ["-0", "0"],
    ["-0.00", "0.00"],
    ["NaN", "NaN"],
  ];
  for (const [text, plain] of cases) assert.equal(plainDecimal(text), plain, text);
  const template = compileTemplate(
    "tpl/amt.toml",
    `[template]\nname = "amt"\nstore = "mongodb"\ndatabase = "lab"\ncollection = "c"\n` +
      `[fields.amount]\ntype = "decimal"\nbson = "decimal128"\n[ops.read]\nwhere = ["amount"]\n`,
  );
  assert.deepEqual(plainDocument({ amount: Decimal128.fromString("0.0000001") }, template), {
    amount: "0.0000001",
  });
});
