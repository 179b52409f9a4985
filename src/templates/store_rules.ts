/**
 * What each store allows in a REC template. A mariadb template names views
 * and procedures; a mongodb template names one collection, reads it by
 * `key` and `where` with `order`, and writes it by the ops' `params` and
 * `key`: no views, procedures or named calls. Errors name file and key path.
 *
 * @module
 */
import { invalid } from "./invalid.ts";
import type { RecTemplateFile } from "./schema.ts";

const WRITE_OPS = ["create", "update", "delete"] as const;

/** Checks the keys that depend on `template.store`. */
export function checkStoreRules(file: string, t: RecTemplateFile): void {
  if (t.template.store === "mongodb") checkMongodb(file, t);
  else checkMariadb(file, t);
}

/** The field types each BSON type stores. */
const BSON_TYPES: Readonly<Record<string, readonly string[]>> = {
  objectId: ["string"],
  date: ["date", "datetime"],
  decimal128: ["decimal"],
};

function checkMariadb(file: string, t: RecTemplateFile): void {
  if (t.template.collection !== undefined) {
    invalid(file, "template.collection", "only a mongodb template names a collection");
  }
  for (const [name, spec] of Object.entries(t.fields)) {
    if (spec.bson !== undefined) {
      invalid(file, `fields.${name}.bson`, "only a mongodb template stores BSON types");
    }
  }
  for (const op of WRITE_OPS) {
    if (t.ops[op] && t.ops[op].procedure === undefined) {
      invalid(file, `ops.${op}.procedure`, "missing required value");
    }
  }
  // A view read compares a json field's JSON text with the column's: `{"a":1}` does not match a
  // stored `{"a": 1}`, null is the text "null" (no SQL NULL), and a list would become an IN list.
  const read = t.ops.read;
  if (read && read.procedure === undefined) {
    for (const list of ["key", "where"] as const) {
      for (const [i, name] of (read[list] ?? []).entries()) {
        if (t.fields[name]?.type === "json") {
          invalid(
            file,
            `ops.read.${list}.${i}`,
            `"${name}" is a json field, which a view read cannot match on`,
          );
        }
      }
    }
  }
}

function checkMongodb(file: string, t: RecTemplateFile): void {
  const { ops, fields } = t;
  if (t.template.collection === undefined) {
    invalid(file, "template.collection", "missing required value (a mongodb template names its collection)");
  }
  // `_id` is MongoDB's own identity, mostly an ObjectId: a filter would compare it with text, and
  // replies leave it out. A template names its document by a key field of its own.
  if (Object.hasOwn(fields, "_id")) {
    invalid(
      file,
      "fields._id",
      "not allowed on mongodb (MongoDB's own identity; declare a key field of your own)",
    );
  }
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.bson === "decimal128" && (spec.precision ?? 0) > 34) {
      invalid(file, `fields.${name}.precision`, "a Decimal128 holds at most 34 digits");
    }
    if (spec.bson !== undefined && !BSON_TYPES[spec.bson]!.includes(spec.type)) {
      invalid(
        file,
        `fields.${name}.bson`,
        `"${spec.bson}" stores a field of type ${BSON_TYPES[spec.bson]!.join(" or ")}, not ${spec.type}`,
      );
    }
  }
  const read = ops.read;
  if (read) {
    for (const key of ["view", "procedure"] as const) {
      if (read[key] !== undefined) {
        invalid(
          file,
          `ops.read.${key}`,
          "not supported on mongodb (a read filters the collection by key and where)",
        );
      }
    }
    if (read.params.length) invalid(file, "ops.read.params", "not supported on mongodb (use where)");
    if (read.required !== undefined) invalid(file, "ops.read.required", "not supported on mongodb");
    // A json field arrives as JSON text but is stored as a document: equality could never match.
    for (const list of ["key", "where", "order"] as const) {
      for (const [i, name] of (read[list] ?? []).entries()) {
        if (fields[name]?.type === "json") {
          invalid(file, `ops.read.${list}.${i}`, `"${name}" is a json field, which mongodb cannot filter on`);
        }
      }
    }
  }
  for (const op of WRITE_OPS) {
    const spec = ops[op];
    if (!spec) continue;
    if (spec.procedure !== undefined) {
      invalid(
        file,
        `ops.${op}.procedure`,
        "not supported on mongodb (writes go to the template's collection)",
      );
    }
    if (op !== "create" && !spec.key?.length) {
      invalid(file, `ops.${op}.key`, "missing required value (mongodb updates and deletes by key)");
    }
    for (const [i, name] of (spec.key ?? []).entries()) {
      if (fields[name]?.type === "json") {
        invalid(file, `ops.${op}.key.${i}`, `"${name}" is a json field, which mongodb cannot filter on`);
      }
    }
  }
  const call = Object.keys(t.calls)[0];
  if (call !== undefined) {
    invalid(file, `calls.${call}`, "named calls are not supported on mongodb");
  }
}
