/**
 * The one CRUD interface every store adapter implements. The dispatcher
 * hands an adapter only values already checked against the template.
 *
 * @module
 */
import type { RecTemplate, RelTemplate, TxnTemplate } from "../templates/mod.ts";

/** Checked field values by field name. */
export type Values = ReadonlyMap<string, unknown>;

/** One ORDER BY term. */
export interface OrderBy {
  field: string;
  desc: boolean;
}

/** A read: by key (one row) or by `where` (many rows). */
export interface ReadInput {
  template: RecTemplate;
  /** Key fields; when set, the read returns one row or `NOT_FOUND`. */
  key?: Values;
  /** Equality filters; an array value means "any of". */
  where: ReadonlyMap<string, readonly unknown[]>;
  order: readonly OrderBy[];
  limit: number;
  offset: number;
  /** Parameters of a procedure read, in any order. */
  params: Values;
}

/** A create, update or delete. */
export interface WriteInput {
  template: RecTemplate;
  values: Values;
}

/** A named call. */
export interface CallInput {
  template: RecTemplate;
  call: string;
  values: Values;
}

/** What an adapter returns: the reply's `data` and its row count. */
export interface AdapterResult {
  data: unknown;
  rows: number;
}

/** A mismatch between a template and the live database. */
export interface VerifyProblem {
  template: string;
  file: string;
  /** Template key path, e.g. `ops.read.view`. */
  path: string;
  /** The database object concerned. */
  object: string;
  message: string;
  /**
   * `error` (missing object or column, wrong parameter count: requests would
   * fail) or `warning` (drift that still works, e.g. a renamed parameter).
   */
  severity: "error" | "warning";
}

/** Options of {@link Adapter.verify}. */
export interface VerifyOptions {
  /**
   * Also report drift as warnings: routine parameters not named `p_<field>`
   * in the template's order. Start-up leaves this off, so only errors stop it.
   * @default false
   */
  drift?: boolean;
  /**
   * TXN templates whose step routines to check, as warnings, for running
   * their own START TRANSACTION / COMMIT / ROLLBACK (they would end the TXN's
   * transaction early). Needs `drift`.
   */
  transactions?: readonly TxnTemplate[];
  /** REL templates whose parts' use of earlier parts' results to check (`$parts.P.F`). */
  rels?: readonly RelTemplate[];
}

/** Connection health of an adapter. */
export interface AdapterHealth {
  healthy: boolean;
  detail: Record<string, unknown>;
}

/** The operations available inside one transaction (all on one connection). */
export interface TransactionScope {
  create(input: WriteInput): Promise<AdapterResult>;
  read(input: ReadInput): Promise<AdapterResult>;
  update(input: WriteInput): Promise<AdapterResult>;
  delete(input: WriteInput): Promise<AdapterResult>;
  call(input: CallInput): Promise<AdapterResult>;
}

/** The CRUD interface. Errors are thrown as `BedsError` with a wire code. */
export interface Adapter {
  readonly store: "mariadb" | "mongodb";
  create(input: WriteInput): Promise<AdapterResult>;
  read(input: ReadInput): Promise<AdapterResult>;
  update(input: WriteInput): Promise<AdapterResult>;
  delete(input: WriteInput): Promise<AdapterResult>;
  call(input: CallInput): Promise<AdapterResult>;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back
   * when it throws. Stores without multi-statement transactions omit it.
   */
  transaction?<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T>;
  /** Checks that every object the templates name exists and matches. */
  verify(templates: readonly RecTemplate[], options?: VerifyOptions): Promise<VerifyProblem[]>;
  health(): AdapterHealth;
  /**
   * At shutdown, once the drain has run out: aborts the statements still running, so that none
   * runs on (and commits) after its delivery has gone back to its queue to run again. Their
   * callers fail `DB_UNAVAILABLE` (a write takes its retry path). Stores without it let their
   * operations finish.
   */
  abortInflight?(): void;
  close(): Promise<void>;
}
