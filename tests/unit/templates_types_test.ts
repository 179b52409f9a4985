/**
 * Types the loader holds templates to: a REL part's or TXN step's request field feeds a REC field
 * of a type that takes it (else every request would fail VALIDATION, blaming the client), and a
 * decimal field's `enum` loads and is the only values accepted.
 */
import assert from "node:assert/strict";
import { TemplateError } from "../../src/errors.ts";
import { readInput, writeValues } from "../../src/dispatch/inputs.ts";
import type { LimitsConfig } from "../../src/config/mod.ts";
import {
  compileAnyTemplate,
  FIELD_TYPES,
  fieldCheck,
  linkRelTemplate,
  linkTxnTemplate,
  loadTemplates,
  type RecTemplate,
  type RelTemplate,
  type Template,
  type TxnTemplate,
} from "../../src/templates/mod.ts";
import { templatesWith } from "../helpers/files.ts";

const ROOT = Deno.cwd();

/** Loads the repository's templates plus `files` from a temp directory, which it removes. */
async function loadWith(files: Record<string, string>): Promise<Template[]> {
  const dir = await templatesWith(ROOT, files);
  try {
    return await loadTemplates(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The TemplateError `fn` rejects with, its file's directory cut off. */
async function refusal(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${error}`);
    return error.message.replace(/"[^"]*\/([^/"]+\.toml)"/, '"$1"');
  }
  assert.fail("expected a TemplateError");
}

const CST_REL = `[template]
name = "cst"
kind = "rel"
[fields.id]
type = "string"
max_length = 10
[fields.who]
type = "boolean"
[input]
key = ["id"]
where = ["who"]
[parts.customer]
template = "cus"
key = { id = "$key.id" }
`;

const CUT_TXN = `[template]
name = "cut"
kind = "txn"
[fields.stock]
type = "string"
[fields.pid]
type = "int"
[input]
key = ["pid"]
data = ["stock"]
[[steps]]
name = "s"
template = "prd"
op = "update"
key = { id = "$key.pid" }
data = { stock = "$data.stock" }
`;

Deno.test("loadTemplates() refuses a REL part fed a request field of a type its REC field does not take", async (t) => {
  await t.step("a string $key into an int key", async () => {
    assert.equal(
      await refusal(() => loadWith({ "cst_rel.toml": CST_REL })),
      'Invalid template "cst_rel.toml": parts.customer.key.id: "$key.id" is of type string, which "cus"\'s field "id" (type int) does not take',
    );
  });
  await t.step("a boolean $where into a string where", async () => {
    const text = CST_REL.replace('type = "string"\nmax_length = 10', 'type = "int"') +
      '[parts.orders]\ntemplate = "ord"\nwhere = { status = "$where.who" }\n';
    assert.equal(
      await refusal(() => loadWith({ "cst_rel.toml": text })),
      'Invalid template "cst_rel.toml": parts.orders.where.status: "$where.who" is of type boolean, which "ord"\'s field "status" (type string) does not take',
    );
  });
});

Deno.test("loadTemplates() refuses a TXN step fed a request field of a type its REC field does not take", async (t) => {
  await t.step("a string $data into an int", async () => {
    assert.equal(
      await refusal(() => loadWith({ "cut_txn.toml": CUT_TXN })),
      'Invalid template "cut_txn.toml": steps.0.data.stock: "$data.stock" is of type string, which "prd"\'s field "stock" (type int) does not take',
    );
  });
  await t.step("a number $key into an int key", async () => {
    const text = CUT_TXN.replace('type = "string"', 'type = "int"').replace(
      '[fields.pid]\ntype = "int"',
      '[fields.pid]\ntype = "number"',
    );
    assert.equal(
      await refusal(() => loadWith({ "cut_txn.toml": text })),
      'Invalid template "cut_txn.toml": steps.0.key.id: "$key.pid" is of type number, which "prd"\'s field "id" (type int) does not take',
    );
  });
});

Deno.test("loadTemplates() loads composites whose request fields feed fields that take their type", async () => {
  // An int into an int and a decimal; a step's result ($steps.S.F) is not compared (see source_types.ts).
  const txn = CUT_TXN.replace(
    '[fields.stock]\ntype = "string"',
    '[fields.stock]\ntype = "int"\n[fields.price]\ntype = "int"',
  )
    .replace('data = ["stock"]', 'data = ["stock", "price"]')
    .replace(
      'data = { stock = "$data.stock" }',
      'data = { stock = "$data.stock", price = "$data.price" }',
    ) +
    '[[steps]]\nname = "t"\ntemplate = "prd"\nop = "update"\nkey = { id = "$steps.s.id" }\n';
  const all = await loadWith({
    "cut_txn.toml": txn,
    "cst_rel.toml": CST_REL.replace('type = "string"\nmax_length = 10', 'type = "int"'),
  });
  assert.ok(all.some((x) => x.name === "cut") && all.some((x) => x.name === "cst"));
});

/** A REC template with one field of each type, each allowed in its view read's where and in its update. */
const ALL_TYPES = `[template]
name = "all"
store = "mariadb"
database = "lab"
${FIELD_TYPES.map((type) => `[fields.f_${type}]\ntype = "${type}"\n`).join("")}
[fields.id]
type = "int"
[ops.read]
view = "v_all"
where = [${FIELD_TYPES.filter((type) => type !== "json").map((type) => `"f_${type}"`).join(", ")}]
[ops.update]
procedure = "sp_all_update"
key = ["id"]
params = ["id", ${FIELD_TYPES.map((type) => `"f_${type}"`).join(", ")}]
`;

/** Which composite field types each REC field type takes: all of their request values. */
const TAKES: Record<string, readonly string[]> = {
  string: ["string", "date", "datetime"],
  int: ["int"],
  number: ["number", "int"],
  decimal: ["decimal", "int", "number"],
  boolean: ["boolean"],
  date: ["date"],
  datetime: ["datetime"],
  json: FIELD_TYPES,
};

Deno.test("linkRelTemplate() and linkTxnTemplate() compare each type with each: only what the REC field takes links", async (t) => {
  const all = compileAnyTemplate("all_rec.toml", ALL_TYPES) as RecTemplate;
  const recs = new Map([["all", all]]);
  const relText = (from: string, to: string) =>
    `[template]\nname = "r"\nkind = "rel"\n[fields.v]\ntype = "${from}"\n[input]\nwhere = ["v"]\n` +
    `[parts.p]\ntemplate = "all"\nwhere = { f_${to} = "$where.v" }\n`;
  const txnText = (from: string, to: string) =>
    `[template]\nname = "x"\nkind = "txn"\n[fields.v]\ntype = "${from}"\n[input]\ndata = ["v"]\n` +
    `[[steps]]\nname = "s"\ntemplate = "all"\nop = "update"\nkey = { id = 1 }\ndata = { f_${to} = "$data.v" }\n`;
  for (const to of FIELD_TYPES) {
    for (const from of FIELD_TYPES) {
      const takes = TAKES[to]!.includes(from);
      await t.step(`${from} into ${to}: ${takes ? "links" : "refused"}`, () => {
        const txn = compileAnyTemplate("x_txn.toml", txnText(from, to)) as TxnTemplate;
        const linkTxn = () => linkTxnTemplate(txn, recs);
        const message =
          `"$data.v" is of type ${from}, which "all"'s field "f_${to}" (type ${to}) does not take`;
        if (takes) linkTxn();
        else {assert.throws(linkTxn, {
            message: `Invalid template "x_txn.toml": steps.0.data.f_${to}: ${message}`,
          });}
        if (to === "json") return; // a view read takes no json field in where
        const rel = compileAnyTemplate("r_rel.toml", relText(from, to)) as RelTemplate;
        const linkRel = () => linkRelTemplate(rel, recs);
        if (takes) linkRel();
        else assert.throws(linkRel, { message: /parts\.p\.where\./ });
      });
    }
  }
});

/** Values a client may send to a field of each type: each accepted by that type's own check. */
const SAMPLES: Record<string, readonly unknown[]> = {
  string: ["abc", ""],
  int: [0, 5, -3],
  number: [1.5, 0.1, 3],
  decimal: ["19.90", 1.5, "3"],
  boolean: [true, false, 1, 0],
  date: ["2024-01-08", "2024-01-08T00:00:00.000Z"],
  datetime: ["2024-01-08T10:00:00Z", "2024-01-08 10:00"],
  json: [{ a: 1 }, [1], "x", 1, true],
};

Deno.test("the types a REC field takes are those whose values its check accepts, as fields.ts decides", () => {
  for (const to of FIELD_TYPES) {
    const accepts = (value: unknown) => {
      try {
        fieldCheck("f", { type: to, required: false, nullable: false })(value);
        return true;
      } catch {
        return false;
      }
    };
    for (const from of FIELD_TYPES) {
      for (const value of SAMPLES[from]!) {
        fieldCheck("f", { type: from, required: false, nullable: false })(value);
      }
      const taken = SAMPLES[from]!.filter(accepts);
      if (TAKES[to]!.includes(from)) assert.deepEqual(taken, SAMPLES[from], `${from} into ${to}`);
      else assert.notDeepEqual(taken, SAMPLES[from], `${from} into ${to}`);
    }
  }
});

const LIMITS = { default_read_limit: 100, max_read_limit: 1000 } as LimitsConfig;

/** A REC template with a decimal `rate` declared by `lines`, filtered on by its read and set by its create. */
const rateTemplate = (lines: string) =>
  `[template]
name = "rte"
store = "mariadb"
database = "lab"
[fields.rate]
type = "decimal"
${lines}
[ops.read]
view = "v_rte"
where = ["rate"]
[ops.create]
procedure = "sp_rte_create"
params = ["rate"]
`;

Deno.test("loadTemplates() loads a decimal enum of decimal texts or numbers, and only its values are accepted", async (t) => {
  const cases: Array<[string, string]> = [
    ["decimal texts", 'precision = 4\nscale = 2\nenum = ["1.50", "2.00"]'],
    ["numbers", "enum = [1.5, 2]"],
    ["numbers that fit the digits", "precision = 4\nscale = 2\nenum = [1.5, 2]"],
  ];
  for (const [what, lines] of cases) {
    await t.step(what, async () => {
      const rte = (await loadWith({ "rte_rec.toml": rateTemplate(lines) })).find((x) => x.name === "rte");
      assert.ok(rte?.kind === "rec");
      const read = (rate: unknown) =>
        readInput(rte, { template: "rte", op: "read", where: { rate } }, LIMITS);
      const create = (rate: unknown) =>
        writeValues(rte, { template: "rte", op: "create", data: { rate } }, rte.ops.create!);
      for (const rate of ["1.5", "1.50", 1.5, "2", 2, "2.0"]) {
        read(rate);
        create(rate);
      }
      for (const rate of ["1.25", 3, "0"]) {
        assert.throws(() => read(rate), { code: "VALIDATION", message: /must be one of/ });
        assert.throws(() => create(rate), { code: "VALIDATION", message: /must be one of/ });
      }
    });
  }
});

Deno.test("loadTemplates() refuses a decimal enum value no request could give", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["no decimal", 'enum = ["1.5", "abc"]', 'fields.rate.enum.1: "abc" is not a decimal value'],
    [
      "more digits than its scale",
      'precision = 4\nscale = 2\nenum = ["1.505"]',
      'fields.rate.enum.0: "1.505" is refused: Field "rate" must have at most 2 digits after the decimal point',
    ],
    [
      "more digits than its precision",
      "precision = 3\nscale = 2\nenum = [12.5]",
      'fields.rate.enum.0: 12.5 is refused: Field "rate" must have at most 1 digits before the decimal point',
    ],
    [
      "below its min",
      'min = 1\nenum = ["0.5"]',
      'fields.rate.enum.0: "0.5" is refused: Field "rate" must be at least 1',
    ],
  ];
  for (const [what, lines, message] of cases) {
    await t.step(what, async () => {
      assert.equal(
        await refusal(() => loadWith({ "rte_rec.toml": rateTemplate(lines) })),
        `Invalid template "rte_rec.toml": ${message}`,
      );
    });
  }
});
