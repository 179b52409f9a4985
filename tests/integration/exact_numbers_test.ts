/**
 * A number a double would change reaches MariaDB as the client wrote it: in a
 * `json` document (9007199254740993, 1234567890.123456789012) and as a
 * `decimal` sent as a JSON number. And a nullable `json` field sent `null` is
 * SQL NULL (a client can clear the column), while one that is not nullable
 * stores the JSON document `null`. Read back, such a number keeps its digits for
 * a client that asks for it, through the HTTP gateway and in `beds call`.
 */
import assert from "node:assert/strict";
import { BedsClient, type RequestBody } from "../../src/client/mod.ts";
import { templatesWith } from "../helpers/files.ts";
import { expectOk } from "../helpers/replies.ts";
import { cli, createTestEnv, dbQuery, ROOT, startNode } from "../helpers/services.ts";
import { nodeUrls } from "../helpers/http.ts";

const JDOC_TEMPLATE = `[template]
name = "jdoc"
store = "mariadb"
database = "lab"

[fields.id]
type = "int"
required = true

[fields.doc]
type = "json"

[fields.note]
type = "json"
nullable = true

[fields.amount]
type = "decimal"
nullable = true

[ops.create]
procedure = "sp_jdoc_create"
params = ["id", "doc", "note", "amount"]

[ops.read]
view = "v_jdocs"
key = ["id"]

[ops.update]
procedure = "sp_jdoc_update"
params = ["id", "note"]
key = ["id"]
`;

const JDOC_SQL = [
  "CREATE TABLE jdocs (id INT PRIMARY KEY, doc JSON NULL, note JSON NULL, amount DECIMAL(40,20) NULL)",
  `CREATE PROCEDURE sp_jdoc_create(IN p_id INT, IN p_doc JSON, IN p_note JSON, IN p_amount DECIMAL(40,20))
   BEGIN INSERT INTO jdocs VALUES (p_id, p_doc, p_note, p_amount); SELECT p_id AS id; END`,
  "CREATE VIEW v_jdocs AS SELECT id, doc, note, amount FROM jdocs",
  `CREATE PROCEDURE sp_jdoc_update(IN p_id INT, IN p_note JSON)
   BEGIN UPDATE jdocs SET note = p_note WHERE id = p_id; SELECT p_id AS id; END`,
];

/** A number as its literal: JSON.stringify (the client's encoding) writes it as it is. */
const literal = (text: string) => (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(text);

interface Stored {
  doc: string | null;
  note: string | null;
  amount: string | null;
}

Deno.test("numbers a double would change are stored exactly; a nullable json null is SQL NULL", async (t) => {
  const dir = await templatesWith(ROOT, { "jdoc_rec.toml": JDOC_TEMPLATE });
  const env = await createTestEnv({ templatesDir: dir });
  for (const statement of JDOC_SQL) await dbQuery(env, statement);
  const node = await startNode(env);
  try {
    const client = await env.client();
    const request = (body: Omit<RequestBody, "template">) => client.request({ template: "jdoc", ...body });
    // As text: the test's driver would parse a JSON column into doubles.
    const stored = async (id: number) =>
      (await dbQuery<Stored[]>(
        env,
        "SELECT CAST(doc AS CHAR) AS doc, CAST(note AS CHAR) AS note, CAST(amount AS CHAR) AS amount " +
          "FROM jdocs WHERE id = ?",
        [id],
      ))[0]!;

    await t.step("a json document keeps 9007199254740993 and 1234567890.123456789012", async () => {
      const doc = {
        order_id: literal("9007199254740993"),
        amount: literal("1234567890.123456789012"),
        n: 0.5,
      };
      expectOk(await request({ op: "create", data: { id: 1, doc, note: { tags: ["a"] } } }));
      const row = await stored(1);
      assert.deepEqual(JSON.parse(row.note!), { tags: ["a"] });
      assert.match(row.doc!, /"order_id": ?9007199254740993\b/);
      assert.match(row.doc!, /"amount": ?1234567890\.123456789012\b/);
    });

    await t.step("a decimal sent as a long JSON number keeps its digits", async () => {
      expectOk(
        await request({ op: "create", data: { id: 2, doc: [], amount: literal("1234567890.123456789012") } }),
      );
      assert.equal((await stored(2)).amount, "1234567890.12345678901200000000");
    });

    await t.step(
      "a nullable json field sent null is SQL NULL; one that is not nullable the document null",
      async () => {
        expectOk(await request({ op: "create", data: { id: 3, doc: null, note: null } }));
        assert.deepEqual(await stored(3), { doc: "null", note: null, amount: null });
        // And an update clears a json column that held a document.
        expectOk(await request({ op: "update", key: { id: 1 }, data: { note: null } }));
        assert.equal((await stored(1)).note, null);
      },
    );

    await t.step(
      "replies keep the digits: a client with exactNumbers, the HTTP gateway, beds call",
      async () => {
        const exact = await BedsClient.connect({ amqp: env.config.amqp, exactNumbers: true });
        try {
          const reply = await exact.request({ template: "jdoc", op: "read", key: { id: 1 } });
          assert.match(JSON.stringify(reply), /"order_id":9007199254740993\b/);
        } finally {
          await exact.close();
        }
        // Without it, a double: what JSON.parse makes of a reply.
        const plain = expectOk(await request({ op: "read", key: { id: 1 } })) as {
          doc: { order_id: number };
        };
        assert.equal(plain.doc.order_id, 9007199254740992);

        const instance = `gwexact-${env.id}`;
        const gateway = await startNode(env, "gateway", instance);
        try {
          const urls = await nodeUrls(env, instance, { gateway: true });
          const answer = await fetch(`${urls.gateway}/v1/jdoc/read`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"key":{"id":1}}',
          });
          const text = await answer.text();
          assert.equal(answer.status, 200, text);
          assert.match(text, /"order_id":9007199254740993\b/);
          assert.match(text, /"amount":1234567890\.123456789012\b/);
        } finally {
          assert.equal(await gateway.stop(), 0);
        }

        const read = await cli(["call", "jdoc", "read", "--key", '{"id":1}', ...env.cliArgs]);
        assert.equal(read.code, 0, read.err);
        assert.match(read.out, /"order_id": 9007199254740993\b/);
        const created = await cli([
          "call",
          "jdoc",
          "create",
          "--data",
          '{"id":4,"doc":{"big":12345678901234567890},"amount":1234567890.123456789012}',
          ...env.cliArgs,
        ]);
        assert.equal(created.code, 0, created.err);
        const row = await stored(4);
        assert.match(row.doc!, /"big": ?12345678901234567890\b/);
        assert.equal(row.amount, "1234567890.12345678901200000000");
      },
    );
  } finally {
    await node.stop();
    await env.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
});
