/**
 * The state IPL builds up step by step; later steps read what earlier ones
 * opened. Shutdown unwinds it through the steps' undo functions.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Logger } from "../logging/mod.ts";
import type { AmqpSupervisor, DeclaredQueue } from "../amqp/mod.ts";
import type { Adapter, MariadbAdapter, VerifyProblem } from "../adapters/mod.ts";
import type { RegistryHolder, Template } from "../templates/mod.ts";
import type { BrokerPool } from "../brokers/mod.ts";
import type { EventIds } from "../protocol/mod.ts";
import type { EventSink, LogStoreSink } from "../logstore/mod.ts";
import type { NodeMetrics } from "../http/mod.ts";
import type { ReconnectingClient } from "../client/mod.ts";
import type { SyslogShipper } from "../admin/mod.ts";
import type { ReloadableAccessPolicy } from "../dispatch/mod.ts";

/** Mutable IPL state for one node process. */
export interface IplContext {
  config: Config;
  logger: Logger;
  /** Node role being started (appServer, admin, …). */
  role: string;
  /** This process's instance id. */
  instance: string;
  /** When the process started (ms since epoch). */
  startedAt: number;
  eventIds: EventIds;
  /** Where node events go (log store, metrics); steps add their sinks here. */
  sinks: EventSink[];
  amqp?: AmqpSupervisor;
  declared?: DeclaredQueue[];
  adapters: Map<string, Adapter>;
  mariadb?: MariadbAdapter;
  templates?: Template[];
  registry?: RegistryHolder;
  problems?: VerifyProblem[];
  pool?: BrokerPool;
  /** The log store sink, when a log store is open (its counters go into the node status). */
  logstore?: LogStoreSink;
  /** The client on the admin exchange, when the node sends anything to the admin role. */
  adminLink?: ReconnectingClient;
  /** Collects this node's warn and error log lines for the admin role (`[admin] syslog`). */
  syslog?: SyslogShipper;
  /** True from the end of IPL until shutdown begins (`/ready` needs it). */
  resident?: boolean;
  /** The node's health and metrics listener, once started. */
  http?: { host: string; port: number; metrics: NodeMetrics };
  /** The HTTP gateway, on roles that run one. */
  gateway?: {
    host: string;
    port: number;
    connected(): boolean;
    /** Takes no more requests and waits for the answers of those it took. */
    close(): Promise<void>;
  };
  /** The node's access policy, once the broker pool started; a reload replaces its grants. */
  access?: ReloadableAccessPolicy;
  /** Loads the config again, as at start (same files, environment and options), for a reload. */
  reloadConfig?: () => Config;
  /** Asks the node to shut down (set by `beds run`; used by the admin command). */
  requestStop?: () => void;
}
