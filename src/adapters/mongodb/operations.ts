/**
 * The CRUD operations of the MongoDB adapter on a template's collection.
 * Documents are identified by the template's key fields, never by `_id`,
 * which is left to MongoDB and not returned. Filters and writes are built
 * by the pure builders in filters.ts, so only declared fields with scalar
 * (or, for `json` fields, operator-free) values reach the driver; replies
 * by replies.ts, so only the template's fields leave it. Every read and
 * find-and-modify runs under the server's `maxTimeMS`.
 *
 * @module
 */
import { type Collection, type Document, ObjectId } from "mongodb";
import { BedsError } from "../../errors.ts";
import type { RecTemplate } from "../../templates/mod.ts";
import type { AdapterResult, CallInput, ReadInput, Values, WriteInput } from "../types.ts";
import { mapMongoError } from "./errors.ts";
import { documentOf, identityOf, keyFilter, readFilter, sortOf } from "./filters.ts";
import { plainDocument, projectionOf } from "./replies.ts";
import { bsonDoc, storedValues, storedWhere } from "./stored.ts";

/** The collection a template names, in its physical database. */
export type CollectionOf = (template: RecTemplate) => Collection<Document>;

/** The five operations of the adapter. */
export interface MongoOperations {
  create(input: WriteInput): Promise<AdapterResult>;
  read(input: ReadInput): Promise<AdapterResult>;
  update(input: WriteInput): Promise<AdapterResult>;
  delete(input: WriteInput): Promise<AdapterResult>;
  call(input: CallInput): Promise<AdapterResult>;
}

function notFound(template: RecTemplate, key: Record<string, unknown>): BedsError {
  return new BedsError("NOT_FOUND", `No "${template.name}" matches the key`, { details: { key } });
}

function opSpec(template: RecTemplate, op: "create" | "update" | "delete") {
  const spec = template.ops[op];
  if (!spec) throw new BedsError("OP_NOT_ALLOWED", `Template "${template.name}" does not allow op "${op}"`);
  return spec;
}

/** Runs a driver call, mapping whatever it throws to a wire error. */
async function driver<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw mapMongoError(error);
  }
}

/** The identity value of a create: given, or a new ObjectId hex string for a single string key. */
function withIdentity(template: RecTemplate, values: Values): Values {
  const identity = identityOf(template);
  const missing = identity.filter((f) => !values.has(f) || values.get(f) === null);
  if (!missing.length) return values;
  const field = missing[0]!;
  if (identity.length !== 1 || template.fields[field]?.type !== "string") {
    throw new BedsError("VALIDATION", `Field "${field}" is required`, { details: { field } });
  }
  return new Map([...values, [field, new ObjectId().toHexString()]]);
}

/** Only the key fields of a write's values: the rest is data. */
function keyValues(values: Values, keyFields: readonly string[]): Values {
  return new Map(keyFields.filter((f) => values.has(f)).map((f) => [f, values.get(f)]));
}

/** Options for {@link mongoOperations}. */
export interface MongoOperationsOptions {
  /** The server's time limit of each read and find-and-modify (`query_timeout_ms`). */
  maxTimeMS: number;
}

/** Binds the operations to a collection lookup. */
export function mongoOperations(
  collectionOf: CollectionOf,
  options: MongoOperationsOptions,
): MongoOperations {
  const { maxTimeMS } = options;
  /** Options of a read or find-and-modify: the template's fields only, within the time limit. */
  const limited = (template: RecTemplate) => ({ projection: projectionOf(template), maxTimeMS });
  return {
    async read(input: ReadInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = template.ops.read;
      if (!spec) {
        throw new BedsError("OP_NOT_ALLOWED", `Template "${template.name}" does not allow op "read"`);
      }
      const filter = bsonDoc(
        template,
        readFilter({
          where: storedWhere(template, input.where),
          whereFields: spec.where,
          key: input.key && storedValues(template, input.key),
          keyFields: spec.key,
        }),
      );
      const collection = collectionOf(template);
      if (input.key) {
        const doc = await driver(() => collection.findOne(filter, limited(template)));
        if (!doc) throw notFound(template, Object.fromEntries(input.key));
        return { data: plainDocument(doc, template), rows: 1 };
      }
      // MongoDB reads a limit of 0 as no limit at all; the protocol's 0 asks for no rows (as LIMIT 0).
      if (input.limit === 0) return { data: [], rows: 0 };
      const sort = sortOf(input.order, spec.order);
      const docs = await driver(() =>
        collection.find(filter, { ...limited(template), sort, skip: input.offset, limit: input.limit })
          .toArray()
      );
      return { data: docs.map((doc) => plainDocument(doc, template)), rows: docs.length };
    },

    async create(input: WriteInput): Promise<AdapterResult> {
      const { template } = input;
      const spec = opSpec(template, "create");
      const values = withIdentity(template, storedValues(template, input.values));
      const doc = bsonDoc(
        template,
        documentOf({ template, values, fields: [...spec.params, ...identityOf(template)] }),
      );
      // insertOne adds `_id` to the object it is given: keep the reply's copy apart.
      await driver(() => collectionOf(template).insertOne({ ...doc }));
      return { data: plainDocument(doc, template), rows: 1 };
    },

    async update(input: WriteInput): Promise<AdapterResult> {
      const { template } = input;
      const values = storedValues(template, input.values);
      const spec = opSpec(template, "update");
      const keyFields = spec.key ?? [];
      const key = keyValues(values, keyFields);
      const filter = bsonDoc(template, keyFilter(key, keyFields));
      const set = bsonDoc(template, documentOf({ template, values, fields: spec.params, skip: keyFields }));
      const collection = collectionOf(template);
      const doc = await driver(() =>
        Object.keys(set).length
          ? collection.findOneAndUpdate(filter, { $set: set }, {
            ...limited(template),
            returnDocument: "after",
          })
          : collection.findOne(filter, limited(template))
      );
      // The key as checked, as a read's NOT_FOUND gives it: not the filter's BSON values.
      if (!doc) throw notFound(template, Object.fromEntries(key));
      return { data: plainDocument(doc, template), rows: 1 };
    },

    async delete(input: WriteInput): Promise<AdapterResult> {
      const { template } = input;
      const values = storedValues(template, input.values);
      const keyFields = opSpec(template, "delete").key ?? [];
      const key = keyValues(values, keyFields);
      const filter = bsonDoc(template, keyFilter(key, keyFields));
      const doc = await driver(() => collectionOf(template).findOneAndDelete(filter, limited(template)));
      if (!doc) throw notFound(template, Object.fromEntries(key));
      return { data: plainDocument(doc, template), rows: 1 };
    },

    call(input: CallInput): Promise<AdapterResult> {
      return Promise.reject(
        new BedsError(
          "OP_NOT_ALLOWED",
          `Template "${input.template.name}" is on mongodb, which has no named calls`,
        ),
      );
    },
  };
}
