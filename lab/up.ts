/**
 * `deno task lab:up`: brings up the lab's services and says what it found.
 *
 * With a Docker engine it runs `docker compose up -d --wait` (RabbitMQ,
 * MariaDB, MongoDB of docker-compose.yml, waiting for their health checks).
 * Without one it checks RabbitMQ and MariaDB where the lab config points,
 * and starts a local one that is down where it can (the Debian packages'
 * `rabbitmq-server` and `mariadbd`, as root, only for a local address). Then,
 * either way, it logs in to both with the lab config's credentials, loads
 * `lab/sql` into the lab schema (idempotent) and looks for MongoDB, which is
 * optional. Exits 1 when RabbitMQ or MariaDB cannot be used, saying why.
 *
 * Flags: `--config DIR` (default `config`), `--env lab`, `--schema NAME`
 * (default: the config's `lab` schema), `--no-docker`, `--no-start`,
 * `--wait-ms 60000` (how long a started service may take to open its port).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { amqpEndpoint, connectAmqp } from "../src/amqp/mod.ts";
import { type Config, ENV_VARIABLES, loadConfig } from "../src/config/mod.ts";
import { loadLabSchema } from "./db.ts";

/** What became of one service. */
export interface Found {
  service: string;
  where: string;
  /** `running`, `started`, `docker`, or `missing`. */
  state: "running" | "started" | "docker" | "missing";
  detail: string;
  ok: boolean;
}

/** Whether a TCP connection to `host:port` opens within `timeoutMs`. */
export async function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const connecting = Deno.connect({ hostname: host, port });
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<never>((_, reject) => timeout.addEventListener("abort", () => reject(timeout.reason))),
    ]);
    conn.close();
    return true;
  } catch {
    // Timed out: close the connection if it opens after all.
    connecting.then((conn) => conn.close(), () => {});
    return false;
  }
}

/** Whether `host` is this machine: only then may a local service be started for it. */
export function isLocalHost(host: string): boolean {
  return ["127.0.0.1", "localhost", "::1", "[::1]"].includes(host.toLowerCase());
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr).trim();
    return { ok: out.success, out: text };
  } catch (error) {
    return { ok: false, out: (error as Error).message };
  }
}

function onPath(cmd: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/** The engine's version, or why there is none (the client alone is not enough). */
async function dockerEngine(): Promise<{ ok: boolean; why: string }> {
  if (!onPath("docker")) return { ok: false, why: "no docker command" };
  const info = await run("docker", ["info", "--format", "{{.ServerVersion}}"]);
  if (info.ok && info.out) return { ok: true, why: `engine ${info.out}` };
  return { ok: false, why: `docker client without an engine (${info.out.split("\n")[0]})` };
}

/** The command that starts a local service that is down, when this machine has it. */
function starter(service: "RabbitMQ" | "MariaDB"): string[] | undefined {
  if (Deno.uid?.() !== 0) return undefined;
  if (service === "RabbitMQ") {
    const server = onPath("rabbitmq-server");
    return server ? [server, "-detached"] : undefined;
  }
  const daemon = onPath("start-stop-daemon");
  if (!daemon || !existsSync("/usr/sbin/mariadbd")) return undefined;
  // mariadbd refuses to run as root.
  return [
    daemon,
    "--start",
    "--oknodo",
    "--background",
    "--exec",
    "/usr/sbin/mariadbd",
    "--",
    "--user=mysql",
  ];
}

async function waitPort(host: string, port: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await portOpen(host, port)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

/** Running, started, or missing (with what to do): the port of one service, local path. */
async function ensureLocal(
  service: "RabbitMQ" | "MariaDB",
  host: string,
  port: number,
  options: { start: boolean; waitMs: number },
): Promise<{ state: Found["state"]; detail: string }> {
  if (await portOpen(host, port)) return { state: "running", detail: "" };
  if (!options.start) return { state: "missing", detail: "not reachable (--no-start)" };
  if (!isLocalHost(host)) return { state: "missing", detail: "not reachable, and not on this machine" };
  const cmd = starter(service);
  if (!cmd) {
    return {
      state: "missing",
      detail: "not reachable, and no local server to start (install it, run it as root, or use Docker)",
    };
  }
  const started = await run(cmd[0]!, cmd.slice(1));
  if (!started.ok) return { state: "missing", detail: `could not start: ${started.out}` };
  if (!await waitPort(host, port, options.waitMs)) {
    return {
      state: "missing",
      detail: `started ${cmd[0]}, but port ${port} did not open in ${options.waitMs} ms`,
    };
  }
  return { state: "started", detail: `started with ${cmd.join(" ")}` };
}

async function checkAmqp(config: Config): Promise<string> {
  // A freshly started broker opens its port before it accepts logins: try for a while.
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      const conn = await connectAmqp(config.amqp, { name: "beds lab:up" });
      const product = conn.connection.serverProperties?.version ?? "";
      await conn.close();
      return `login ${config.amqp.user} ok${product ? ` (RabbitMQ ${product})` : ""}`;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  throw last;
}

async function checkMariadb(config: Config, schema: string): Promise<string> {
  const master = config.databases.mariadb!.master;
  const { statements } = await loadLabSchema({
    host: master.host,
    port: master.port,
    user: master.user,
    password: master.password,
    schema,
    dir: resolve(Deno.cwd(), "lab/sql"),
  });
  return `login ${master.user} ok, lab schema "${schema}" loaded (${statements} statements from lab/sql)`;
}

function mongoEndpoint(config: Config): { host: string; port: number } | undefined {
  const url = config.databases.mongodb?.url;
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port) || 27017 };
  } catch {
    return undefined; // several hosts or SRV: not probed
  }
}

/** Brings the lab up as the options say; returns what it found, one entry per service. */
export async function labUp(options: {
  config: Config;
  schema: string;
  docker: boolean;
  start: boolean;
  waitMs: number;
  say?: (line: string) => void;
}): Promise<Found[]> {
  const { config } = options;
  const say = options.say ?? console.log;
  const amqp = amqpEndpoint(config.amqp);
  const maria = config.databases.mariadb?.master;
  if (!maria) throw new Error("the config has no [databases.mariadb.master]");
  const engine = options.docker ? await dockerEngine() : { ok: false, why: "--no-docker" };
  type State = { state: Found["state"]; detail: string };
  let rabbit: State;
  let mariadb: State;
  let up: { ok: boolean; out: string } | undefined;
  if (engine.ok) {
    say(`lab:up: Docker ${engine.why}: docker compose up -d --wait`);
    up = await run("docker", ["compose", "up", "-d", "--wait"]);
  }
  if (up?.ok) {
    rabbit = mariadb = { state: "docker", detail: "docker compose" };
  } else {
    // No engine, or compose failed (e.g. local services already hold the ports): look locally.
    say(
      up
        ? `lab:up: docker compose failed (${up.out.split("\n").at(-1)}); local services`
        : `lab:up: no Docker (${engine.why}); local services`,
    );
    rabbit = await ensureLocal("RabbitMQ", amqp.host, amqp.port, options);
    mariadb = await ensureLocal("MariaDB", maria.host, maria.port, options);
  }
  /** What was found of a service: its state, and the outcome of logging in when it is there. */
  const checked = async (service: string, where: string, s: State, check: () => Promise<string>) => {
    if (s.state === "missing") return { service, where, ...s, ok: false };
    try {
      const detail = [s.detail, await check()].filter(Boolean).join("; ");
      return { service, where, state: s.state, detail, ok: true };
    } catch (error) {
      return {
        service,
        where,
        state: s.state,
        detail: `reachable, but ${(error as Error).message}`,
        ok: false,
      };
    }
  };
  const found: Found[] = [
    await checked("RabbitMQ", `${amqp.host}:${amqp.port}`, rabbit, () => checkAmqp(config)),
    await checked(
      "MariaDB",
      `${maria.host}:${maria.port}`,
      mariadb,
      () => checkMariadb(config, options.schema),
    ),
  ];
  const mongo = mongoEndpoint(config);
  if (mongo) {
    const open = await portOpen(mongo.host, mongo.port);
    found.push({
      service: "MongoDB",
      where: `${mongo.host}:${mongo.port}`,
      state: open ? (up?.ok ? "docker" : "running") : "missing",
      detail: open ? "port open" : "optional: not reachable; nodes warn and go on outside prod" +
        // The log store then keeps nothing, and `beds logs` and the observer have nothing to read.
        (config.logstore.store === "mongodb"
          ? `; the log store records nothing (set [logstore] store = "mariadb" to keep it in MariaDB)`
          : ""),
      ok: true,
    });
  }
  return found;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      config: { type: "string", default: "config" },
      env: { type: "string", default: "lab" },
      schema: { type: "string" },
      "no-docker": { type: "boolean", default: false },
      "no-start": { type: "boolean", default: false },
      "wait-ms": { type: "string", default: "60000" },
    },
  });
  const environ: Record<string, string | undefined> = { BEDS_ENV: values.env };
  for (const name of ENV_VARIABLES) if (name !== "BEDS_ENV") environ[name] = Deno.env.get(name);
  const config = loadConfig({ dir: values.config, environ });
  const schema = values.schema ?? config.databases.mariadb?.schemas.lab ?? "beds_lab";
  const found = await labUp({
    config,
    schema,
    docker: !values["no-docker"],
    start: !values["no-start"],
    waitMs: Number(values["wait-ms"]),
  });
  for (const f of found) {
    console.log(`  ${f.service.padEnd(9)} ${f.where.padEnd(16)} ${f.state.padEnd(8)} ${f.detail}`);
  }
  const failed = found.filter((f) => !f.ok);
  console.log(
    failed.length
      ? `lab:up: not ready: ${failed.map((f) => f.service).join(", ")} (see above)`
      : "lab:up: ready (deno task lab runs an appServer node on it)",
  );
  Deno.exit(failed.length ? 1 : 0);
}
