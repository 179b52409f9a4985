/**
 * The configuration's connections: RabbitMQ, MariaDB and MongoDB, each with its TLS files. Their
 * messages never repeat a URL's value: the credentials are in it.
 *
 * @module
 */
import { z } from "zod";
import { MAX_TIMEOUT_MS } from "../client/types.ts";

const port = z.number().int().min(1).max(65535);

/**
 * A delay in ms that ends up in a timer, from `min`. A longer one than a timer holds fires at once
 * (after 1 ms) or throws, so it is refused here and not met as every request timing out.
 */
export const timerMs = (min: number) =>
  z.number().int().min(min).max(MAX_TIMEOUT_MS, {
    message: `must be at most ${MAX_TIMEOUT_MS} ms (about 24.8 days), the longest delay a timer holds`,
  });
/**
 * A TLS table: file paths (checked at load, see checkTlsFiles, and read at each connect), the name to
 * verify, and whether to verify the server at all (refused as false in prod, at load).
 */
export const tlsSchema = z.strictObject({
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  servername: z.string().optional(),
  reject_unauthorized: z.boolean().default(true),
});

/**
 * A URL that parses. Its message never repeats the value: the credentials are in it, and a parse
 * error's own text (Deno's quotes the whole input) would print them.
 */
const urlText = (example: string, parses: (text: string) => boolean = (text) => URL.canParse(text)) =>
  z.string().refine(parses, {
    message: `expected a URL such as ${example}; in the user and password, write reserved characters ` +
      "(# / ? @ : %) as %XX",
  });

/** `mongodb[+srv]://[user[:pass]@]hosts[/…]`, with no raw `@ / ? # :` in the user or password. */
const MONGODB_URL = /^mongodb(\+srv)?:\/\/([^:@/?#\s]+(:[^@/?#\s]*)?@)?[^\s/?#@]+([/?].*)?$/;

export const amqpSchema = z.strictObject({
  url: urlText("amqp://user:pass@host:5672/vhost").optional(),
  host: z.string().default("127.0.0.1"),
  port: port.default(5672),
  user: z.string().default("guest"),
  pass: z.string().default("guest"),
  vhost: z.string().default("/"),
  heartbeat: z.number().int().min(0).max(600).default(30),
  exchange: z.string().regex(/^[A-Za-z0-9_.:-]{1,127}$/, {
    message: "expected an exchange name of letters, digits, '_', '.', ':' or '-'",
  }).default("beds"),
  queue_prefix: z.string().regex(/^[A-Za-z0-9_.-]{0,64}$/).default(""),
  connect_timeout_ms: timerMs(1).default(5000),
  /** First reconnect delay after the connection is lost; doubles per failed attempt, with jitter. */
  reconnect_initial_ms: z.number().int().min(10).max(60_000).default(200),
  /** Longest wait between reconnect attempts: bounds how long a node stays away after RabbitMQ is back. */
  reconnect_max_ms: z.number().int().min(100).max(300_000).default(5000),
  tls: tlsSchema.optional(),
}).superRefine((amqp, ctx) => {
  if (amqp.url === undefined || !URL.canParse(amqp.url)) return;
  const { protocol } = new URL(amqp.url);
  if (protocol !== "amqp:" && protocol !== "amqps:") {
    ctx.addIssue({
      code: "custom",
      path: ["url"],
      message: `expected amqp:// or amqps://, got ${protocol}//`,
    });
  } else if (amqp.tls && protocol === "amqp:") {
    // The URL decides the protocol: with amqp:// the TLS files would be ignored, and the
    // credentials sent in the clear.
    ctx.addIssue({
      code: "custom",
      path: ["url"],
      message: "is amqp:// but [amqp.tls] is set: use an amqps:// URL, or remove [amqp.tls]",
    });
  }
});

const mariadbServerSchema = z.strictObject({
  host: z.string().default("127.0.0.1"),
  port: port.default(3306),
  user: z.string().default("root"),
  password: z.string().default(""),
  connections: z.number().int().min(1).max(256).default(4),
  max_queue: z.number().int().min(1).default(10000),
  /** Exclusive connections for multi-procedure transactions (opened on first use). */
  transaction_connections: z.number().int().min(1).max(64).default(2),
  connect_timeout_ms: timerMs(1).default(3000),
  /**
   * Longest wait for a statement's answer. Past it the connection is closed (the only way to
   * cancel a pipelined statement; the server rolls back what it had not committed) and the
   * statement fails DB_UNAVAILABLE: a lock held elsewhere or a server that stopped answering
   * must not hold a node's requests for ever.
   */
  query_timeout_ms: z.number().int().min(100).max(86_400_000).default(30_000),
  tls: tlsSchema.optional(),
});

export const mariadbSchema = z.strictObject({
  master: mariadbServerSchema,
  secondary: mariadbServerSchema.optional(),
  /** Logical database name (used by templates) → physical schema. */
  schemas: z.record(z.string(), z.string().regex(/^[A-Za-z0-9_]{1,64}$/))
    .default({}),
});

export const mongodbSchema = z.strictObject({
  // A seed list (`h1:27017,h2:27017`) is no WHATWG URL: only the scheme and a host part are checked.
  url: urlText("mongodb://user:pass@host:27017", (text) => MONGODB_URL.test(text))
    .default("mongodb://127.0.0.1:27017"),
  database: z.string().default("beds"),
  optional: z.boolean().default(true),
  /** Server selection and connect timeout: how long a request waits for a server that is down. */
  connect_timeout_ms: timerMs(1).default(3000),
  /**
   * Longest a read, update or delete may run on the server (its `maxTimeMS`; past it the request
   * fails DB_UNAVAILABLE, as a MariaDB statement past its own `query_timeout_ms` does), and a write
   * may wait for its write concern (`wtimeoutMS`; past it DB_ERROR: the write was applied on the
   * primary, its replication unconfirmed). A socket with no answer a little after it is closed, for
   * a server that stopped answering altogether.
   */
  query_timeout_ms: z.number().int().min(100).max(86_400_000).default(30_000),
  /** TLS to MongoDB (CA, client certificate and key files); the URL's own tls options also work. */
  tls: tlsSchema.optional(),
  /** Logical database name (used by templates) → physical MongoDB database; unlisted names are used as-is. */
  databases: z.record(z.string(), z.string().regex(/^[A-Za-z0-9_-]{1,63}$/)).default({}),
});
