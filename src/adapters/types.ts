/**
 * The one CRUD interface every store adapter implements. The dispatcher
 * hands an adapter only values already checked against the template.
 *
 * @module
 */
import type { RecTemplate } from "../templates/mod.ts";

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
  verify(templates: readonly RecTemplate[]): Promise<VerifyProblem[]>;
  health(): AdapterHealth;
  close(): Promise<void>;
}
