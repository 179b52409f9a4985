/**
 * The TOML schema of a REC template (one data domain). See
 * templates/example_rec.toml for the documented canonical example.
 *
 * @module
 */
import { z } from "zod";

const ident = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,63}$/, {
  message: "expected a database identifier of letters, digits, '_' or '$'",
});
/** The rule of field and call names, as the messages state it. */
const NAME_RULE = "snake_case (a-z, 0-9 and '_', not starting with a digit, at most 64 characters)";
/** A field, call, part or step name. */
export const fieldName = z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, {
  message: `expected a field name in ${NAME_RULE}`,
});

/**
 * A table keyed by names of {@link fieldName}. A bad key's own message would be zod's "Invalid key
 * in record", which does not say what a name may be; `what` names the kind of name in its stead.
 */
export function namedTable<V extends z.ZodType>(what: string, value: V) {
  return z.record(fieldName, value, {
    error: (issue) => issue.code === "invalid_key" ? `${what} names must be ${NAME_RULE}` : undefined,
  });
}

/** Field value types a template can declare. */
export const FIELD_TYPES = [
  "string",
  "int",
  "number",
  "decimal",
  "boolean",
  "date",
  "datetime",
  "json",
] as const;

/** DECIMAL(precision, scale) of a decimal field that declares neither. */
export const DECIMAL_DEFAULTS = { precision: 18, scale: 4 } as const;

/** zod schema of one declared field. */
export const fieldSpecSchema = z.strictObject({
  type: z.enum(FIELD_TYPES),
  description: z.string().optional(),
  required: z.boolean().default(false),
  nullable: z.boolean().default(false),
  min: z.number().optional(),
  max: z.number().optional(),
  min_length: z.number().int().min(0).optional(),
  max_length: z.number().int().min(1).optional(),
  pattern: z.string().optional(),
  enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  /** Total digits of a decimal (MariaDB's DECIMAL(precision, scale)). */
  precision: z.number().int().min(1).max(65).optional(),
  /** Digits after the decimal point of a decimal. */
  scale: z.number().int().min(0).max(30).optional(),
  /**
   * MongoDB only: the BSON type the field is stored as, for collections other programs write too
   * (`objectId` for a string of 24 hex digits, `date` for a date or datetime, `decimal128` for a
   * decimal). Without it such values are stored as text.
   */
  bson: z.enum(["objectId", "date", "decimal128"]).optional(),
});

const procedureOp = z.strictObject({
  description: z.string().optional(),
  /** Required on mariadb, absent on mongodb (the loader checks which). */
  procedure: ident.optional(),
  params: z.array(fieldName).default([]),
  required: z.array(fieldName).optional(),
  key: z.array(fieldName).optional(),
});

const readOp = z.strictObject({
  description: z.string().optional(),
  view: ident.optional(),
  procedure: ident.optional(),
  params: z.array(fieldName).default([]),
  required: z.array(fieldName).optional(),
  key: z.array(fieldName).optional(),
  where: z.array(fieldName).default([]),
  order: z.array(fieldName).default([]),
});

const callOp = z.strictObject({
  description: z.string().optional(),
  procedure: ident.optional(),
  function: ident.optional(),
  params: z.array(fieldName).default([]),
  required: z.array(fieldName).optional(),
});

/** zod schema of a REC template file. */
export const recTemplateSchema = z.strictObject({
  template: z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, {
      message: 'expected a lowercase template name (a TLA such as "usr")',
    }),
    kind: z.literal("rec").default("rec"),
    description: z.string().optional(),
    store: z.enum(["mariadb", "mongodb"]),
    database: z.string().regex(/^[A-Za-z0-9_]{1,64}$/),
    /** The collection of a mongodb template (required there, not allowed on mariadb). */
    collection: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,119}$/, {
      message: "expected a collection name of letters, digits, '_' or '-'",
    }).optional(),
  }),
  fields: namedTable("field", fieldSpecSchema),
  ops: z.strictObject({
    read: readOp.optional(),
    create: procedureOp.optional(),
    update: procedureOp.optional(),
    delete: procedureOp.optional(),
  }).default({}),
  calls: namedTable("call", callOp).default({}),
});

/** A parsed template file. */
export type RecTemplateFile = z.output<typeof recTemplateSchema>;
/** A declared field. */
export type FieldSpec = z.output<typeof fieldSpecSchema>;
/** The read op of a template. */
export type ReadOpSpec = z.output<typeof readOp>;
/** A create/update/delete op of a template. */
export type ProcedureOpSpec = z.output<typeof procedureOp>;
/** A named call of a template. */
export type CallSpec = z.output<typeof callOp>;
