/**
 * Lab database loader: runs the DBA-owned `lab/sql/*.sql` scripts into a
 * MariaDB schema. Usage: `deno run -A lab/db.ts [--schema beds_lab]`.
 * @module
 */
import mariadb, { type Connection } from "mariadb";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

/** Connection settings plus the target schema for the lab loader. */
export interface LabDbOptions {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  schema: string;
  dir?: string;
}

const SCHEMA_NAME = /^[A-Za-z0-9_]{1,64}$/;
/** A client `DELIMITER xx` command; only recognised at the start of a statement. */
const DELIMITER_CMD = /delimiter[ \t]+(\S+)[^\n]*/iy;
/** One lexical token: quoted string/identifier, comment, blank run or any single char. */
const TOKEN =
  /'(?:\\[\s\S]|[^'\\])*'?|"(?:\\[\s\S]|[^"\\])*"?|`[^`]*`?|(?:#|--(?=\s|$))[^\n]*|\/\*[\s\S]*?(?:\*\/|$)|\s+|[\s\S]/y;
/** Tokens that are not code: blanks and comments, except executable comments. */
const NOT_CODE = /^(?:\s|#|--|\/\*(?!!))/;

/** Splits a mariadb-client style SQL script into statements, honouring `DELIMITER` lines, quotes and comments. */
export function splitSqlScript(text: string): string[] {
  const statements: string[] = [];
  let delimiter = ";";
  let current = ""; // starts at the first code token; comments before it are dropped
  const flush = () => {
    if (current) statements.push(current.trim());
    current = "";
  };
  let i = 0;
  while (i < text.length) {
    if (text.startsWith(delimiter, i)) {
      flush();
      i += delimiter.length;
      continue;
    }
    DELIMITER_CMD.lastIndex = i;
    const cmd = current ? null : DELIMITER_CMD.exec(text);
    if (cmd) {
      delimiter = cmd[1]!;
      i = DELIMITER_CMD.lastIndex;
      continue;
    }
    TOKEN.lastIndex = i;
    const token = TOKEN.exec(text)![0];
    if (current || !NOT_CODE.test(token)) current += token;
    i += token.length;
  }
  flush();
  return statements;
}

function checkSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  }
  return schema;
}

/** A root connection to the lab schema `opts.schema` (the bench's setup statements, its admin queries). */
export function connectLabSchema(opts: LabDbOptions): Promise<Connection> {
  return connect(opts, checkSchema(opts.schema));
}

function connect(opts: LabDbOptions, database?: string) {
  return mariadb.createConnection({
    host: opts.host ?? "127.0.0.1",
    port: opts.port ?? 3306,
    user: opts.user ?? "root",
    password: opts.password ?? "",
    ...(database ? { database } : {}),
  });
}

async function sqlFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".sql")) names.push(e.name);
  }
  return names.sort().map((name) => join(dir, name));
}

/** Creates `opts.schema` if missing and runs every `*.sql` file of `opts.dir` (default `lab/sql` under the cwd) in name order. */
export async function loadLabSchema(
  opts: LabDbOptions,
): Promise<{ statements: number }> {
  const schema = checkSchema(opts.schema);
  const admin = await connect(opts);
  try {
    await admin.query(
      `CREATE DATABASE IF NOT EXISTS \`${schema}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await admin.end();
  }
  const files = await sqlFiles(opts.dir ?? resolve(Deno.cwd(), "lab/sql"));
  let statements = 0;
  const conn = await connect(opts, schema);
  try {
    for (const file of files) {
      const parts = splitSqlScript(await Deno.readTextFile(file));
      for (const [n, sql] of parts.entries()) {
        try {
          await conn.query(sql);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new Error(`${file}: statement ${n + 1} failed: ${msg}`, {
            cause: err,
          });
        }
        statements++;
      }
    }
  } finally {
    await conn.end();
  }
  return { statements };
}

/** Drops `opts.schema` if it exists (DROP DATABASE IF EXISTS). */
export async function dropSchema(opts: LabDbOptions): Promise<void> {
  const schema = checkSchema(opts.schema);
  const conn = await connect(opts);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${schema}\``);
  } finally {
    await conn.end();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { schema: { type: "string", default: "beds_lab" } },
  });
  const env = (name: string, fallback: string) => Deno.env.get(`BEDS_MARIADB_${name}`) || fallback;
  const opts: LabDbOptions = {
    schema: values.schema,
    host: env("HOST", "127.0.0.1"),
    port: Number(env("PORT", "3306")),
    user: env("USER", "root"),
    password: Deno.env.get("BEDS_MARIADB_PASSWORD") ?? "",
  };
  const dir = resolve(Deno.cwd(), "lab/sql");
  try {
    const { statements } = await loadLabSchema({ ...opts, dir });
    const files = (await sqlFiles(dir)).length;
    console.log(
      `lab schema "${opts.schema}": ${statements} statements from ${files} files`,
    );
  } catch (error) {
    // One line a user can act on (wrong password, server down, a bad SQL file), not a stack trace.
    console.error(`lab:db: ${opts.user}@${opts.host}:${opts.port}: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
