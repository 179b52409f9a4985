/**
 * The zod schema of the merged configuration. Every object is strict, so an
 * unknown key is an error that names its path.
 *
 * @module
 */
import { z } from "zod";
import { INSTANCE_NAME } from "../amqp/names.ts";
import { amqpSchema, mariadbSchema, mongodbSchema, timerMs, type tlsSchema } from "./schema_connections.ts";

/** The five request operations of the wire protocol. */
export const OPS = ["create", "read", "update", "delete", "call"] as const;

/** A request operation. */
export type Op = typeof OPS[number];

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
  message: "expected a name of letters, digits, '_' or '-'",
});

/** A topic binding for `<op>.<template>`: each word literal, `*` or `#`. */
const bindingKey = z.string().regex(
  /^(\*|#|create|read|update|delete|call)\.(\*|#|[a-z][a-z0-9_]{0,31})$/,
  { message: 'expected "<op|*>.<template|*>", e.g. "read.*" or "*.whs"' },
);

/** An access grant "<op|*>.<template|*>": `*` stands for any op or any template. */
const grantKey = z.string().regex(
  /^(\*|create|read|update|delete|call)\.(\*|[a-z][a-z0-9_]{0,31})$/,
  { message: 'expected "<op|*>.<template|*>", e.g. "read.*", "*.cus" or "call.cus"' },
);

const accessSchema = z.strictObject({
  /** Off: every request and admin command is accepted (user_id is not required). */
  enabled: z.boolean().default(false),
  /** AMQP users allowed to send admin commands (status, shutdown, …). */
  admin_users: z.array(z.string().min(1)).default([]),
  /** Per AMQP user, the `<op>.<template>` patterns it may run. */
  users: z.record(z.string().min(1), z.strictObject({ allow: z.array(grantKey) })).default({}),
});

const brokerSchema = z.strictObject({
  description: z.string().optional(),
  ops: z.array(z.enum(OPS)).min(1),
  bindings: z.array(bindingKey),
  /**
   * Exchange the bindings are made on: "data" (the [amqp] exchange clients send requests to)
   * or "admin" (its admin exchange: the admin role's brokers, apart from any data wildcard).
   */
  exchange: z.enum(["data", "admin"]).default("data"),
  instances: z.number().int().min(1).max(256).default(1),
  prefetch: z.number().int().min(1).max(65535).default(50),
  queue_type: z.enum(["classic", "quorum"]).default("classic"),
  /** Delay of each retry tier; a transient write failure waits in tier n before attempt n+1. */
  retry_delays_ms: z.array(z.number().int().min(1)).max(10).default([1000, 5000, 30000]),
  /** Attempts before a transiently failing write is dead-lettered (1 = no retry). */
  max_attempts: z.number().int().min(1).max(50).default(4),
  /** Quorum queues: deliveries of one message (e.g. one that kills its consumer) before it is dead-lettered. */
  delivery_limit: z.number().int().min(1).default(10),
});

const nodeRoleSchema = z.strictObject({
  description: z.string().optional(),
  brokers: z.array(name),
  /** Run the HTTP gateway on nodes of this role (when `[gateway] enabled`). */
  gateway: z.boolean().default(false),
});

/** Host and port of a local HTTP listener; port 0 takes any free port (tests). */
const listenPort = z.number().int().min(0).max(65535);

const httpSchema = z.strictObject({
  /** Serve /live, /ready and /metrics. */
  enabled: z.boolean().default(true),
  host: z.string().default("127.0.0.1"),
  port: listenPort.default(9464),
  /**
   * DNS names requests may carry as `Host` besides IP literals, `localhost` and `host` (e.g. the
   * name Prometheus scrapes by): any other is answered 421, against DNS rebinding.
   */
  allowed_hosts: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,253}$/)).default([]),
});

const gatewaySchema = z.strictObject({
  /** Master switch; the gateway runs only on roles with `gateway = true`. */
  enabled: z.boolean().default(true),
  host: z.string().default("127.0.0.1"),
  port: listenPort.default(8080),
  /** How long to wait for a node's reply; also the request's deadline. */
  timeout_ms: timerMs(1).default(10000),
  max_body_bytes: z.number().int().min(256).default(65536),
  /** Requests taken at once; past it the gateway answers 503 OVERLOADED at once. */
  max_inflight: z.number().int().min(1).default(1000),
});

const LOGSTORE_DEFAULTS = {
  store: "mongodb",
  database: "logs",
  templates_dir: "../templates/logstore",
  batch_size: 200,
  flush_ms: 100,
  buffer_size: 10000,
  max_retries: 3,
  outage_ms: 60_000,
  sample_rate: 1,
  fold_parts: true,
} as const;

/** The log store: where node events go, and how they are batched. */
const logstoreSchema = z.strictObject({
  /**
   * Store of the `mst` template; "admin" sends the events over AMQP to the admin role's
   * adminLogsBroker (which writes them to its own store); "off" records nothing.
   */
  store: z.enum(["mongodb", "mariadb", "admin", "off"]).default(LOGSTORE_DEFAULTS.store),
  /** Logical database (MariaDB: a key of databases.mariadb.schemas; MongoDB: the database). */
  database: z.string().regex(/^[A-Za-z0-9_]{1,64}$/).default(LOGSTORE_DEFAULTS.database),
  /** Directory of the log store template, kept apart from the templates the brokers serve. */
  templates_dir: z.string().default(LOGSTORE_DEFAULTS.templates_dir),
  /** Records per write (a fan-out with folded parts is one record). */
  batch_size: z.number().int().min(1).max(5000).default(LOGSTORE_DEFAULTS.batch_size),
  /** Longest an event waits in the buffer before it is written. */
  flush_ms: timerMs(1).default(LOGSTORE_DEFAULTS.flush_ms),
  /** Events held in memory at most (a folded part is one); past that new events are dropped and counted. */
  buffer_size: z.number().int().min(1).default(LOGSTORE_DEFAULTS.buffer_size),
  /** Further attempts at a failed batch before it is dropped and counted. */
  max_retries: z.number().int().min(0).max(10).default(LOGSTORE_DEFAULTS.max_retries),
  /**
   * How long a batch is kept and tried again while the store is unreachable (down, connection lost,
   * the admin node's link gone), past `max_retries`; new events wait behind it up to `buffer_size`.
   * Past it the batch is dropped and counted. 0: only `max_retries`.
   */
  outage_ms: z.number().int().min(0).max(3_600_000).default(LOGSTORE_DEFAULTS.outage_ms),
  /** Share of successful requests recorded (0–1); errors, retries and dead letters always are. */
  sample_rate: z.number().min(0).max(1).default(LOGSTORE_DEFAULTS.sample_rate),
  /**
   * Record a fan-out's successful parts inside their parent's record (one record instead of one
   * per part); readers unfold them. A store-side filter on a part's own template then finds it
   * only through its parent's.
   */
  fold_parts: z.boolean().default(LOGSTORE_DEFAULTS.fold_parts),
});

const ADMIN_DEFAULTS = { templates_dir: "../templates/admin", report_ms: 0, syslog: false } as const;

/** What a node sends to the admin role, and what the admin role serves. */
const adminSchema = z.strictObject({
  /** Templates served by brokers bound on the admin exchange (with the log store's `mst`). */
  templates_dir: z.string().default(ADMIN_DEFAULTS.templates_dir),
  /** Every node reports its status to `create.nst` on the admin exchange this often; 0 = never. */
  report_ms: timerMs(0).default(ADMIN_DEFAULTS.report_ms),
  /** Ship this node's warn, error and fatal log lines to `call.slg` on the admin exchange. */
  syslog: z.boolean().default(ADMIN_DEFAULTS.syslog),
});

/** The whole configuration after layers and environment are merged. */
export const configSchema = z.strictObject({
  node: z.strictObject({
    name: name.default("appServer"),
    /** The instance name (default `<hostname>-<pid>`): dot-separated words, as a host name. */
    instance: z.string().regex(INSTANCE_NAME, {
      message: "expected a name of letters, digits, '_' or '-' (dot-separated words, as a host name)",
    }).optional(),
    /** How long shutdown waits for in-flight requests before closing. */
    drain_ms: timerMs(0).default(10000),
  }).default({ name: "appServer", drain_ms: 10000 }),
  log: z.strictObject({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
      .default("info"),
  }).default({ level: "info" }),
  amqp: amqpSchema,
  access: accessSchema.default({ enabled: false, admin_users: [], users: {} }),
  brokers: z.record(name, brokerSchema),
  nodes: z.record(name, nodeRoleSchema),
  databases: z.strictObject({
    mariadb: mariadbSchema.optional(),
    mongodb: mongodbSchema.optional(),
  }),
  templates: z.strictObject({
    dir: z.string().default("../templates"),
  }).default({ dir: "../templates" }),
  logstore: logstoreSchema.default(LOGSTORE_DEFAULTS),
  admin: adminSchema.default(ADMIN_DEFAULTS),
  http: httpSchema.default({ enabled: true, host: "127.0.0.1", port: 9464, allowed_hosts: [] }),
  gateway: gatewaySchema.default({
    enabled: true,
    host: "127.0.0.1",
    port: 8080,
    timeout_ms: 10000,
    max_body_bytes: 65536,
    max_inflight: 1000,
  }),
  limits: z.strictObject({
    max_body_bytes: z.number().int().min(256).default(65536),
    /**
     * Largest reply a node sends; a larger one is replaced by a TOO_LARGE error. It must stay at or
     * below RabbitMQ's max_message_size (128 MiB on 3.x, 16 MiB from 4.0), which refuses a larger
     * message by closing the consumer's channel: the request would go back to its queue and run
     * again, for ever. At most 512 MiB, the largest max_message_size RabbitMQ takes.
     */
    max_reply_bytes: z.number().int().min(1024).max(536_870_912).default(16_777_216),
    default_read_limit: z.number().int().min(1).default(100),
    max_read_limit: z.number().int().min(1).default(1000),
  }).superRefine((limits, ctx) => {
    // A read that names no limit is given the default, and one above the maximum is refused: every
    // such read would fail VALIDATION while the node looked healthy.
    if (limits.default_read_limit > limits.max_read_limit) {
      ctx.addIssue({
        code: "custom",
        path: ["default_read_limit"],
        message: `${limits.default_read_limit} is greater than limits.max_read_limit ` +
          `(${limits.max_read_limit}): every read without a limit would be refused`,
      });
    }
  }).default({
    max_body_bytes: 65536,
    max_reply_bytes: 16_777_216,
    default_read_limit: 100,
    max_read_limit: 1000,
  }),
});

/** The parsed configuration as written in the files. */
export type ConfigInput = z.input<typeof configSchema>;
/** The validated configuration slices. */
export type ParsedConfig = z.output<typeof configSchema>;
/** One broker's settings. */
export type BrokerConfig = ParsedConfig["brokers"][string];
/** AMQP connection settings. */
export type AmqpConfig = ParsedConfig["amqp"];
/** MariaDB settings. */
export type MariadbConfig = NonNullable<ParsedConfig["databases"]["mariadb"]>;
/** One MariaDB server's settings. */
export type MariadbServerConfig = MariadbConfig["master"];
/** MongoDB settings. */
export type MongodbConfig = NonNullable<ParsedConfig["databases"]["mongodb"]>;
/** Request limits. */
export type LimitsConfig = ParsedConfig["limits"];
/** Log store settings. */
export type LogstoreConfig = ParsedConfig["logstore"];
/** Admin reports, system log shipping and the admin templates. */
export type AdminConfig = ParsedConfig["admin"];
/** Health and metrics listener settings. */
export type HttpConfig = ParsedConfig["http"];
/** HTTP gateway settings. */
export type GatewayConfig = ParsedConfig["gateway"];
/** Access control: grants per AMQP user and admin users. */
export type AccessConfig = ParsedConfig["access"];
/** TLS file paths. */
export type TlsConfig = z.output<typeof tlsSchema>;
