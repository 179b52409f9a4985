/**
 * Templates: TOML schema, loader with file-and-key errors, per-field value
 * checks and the immutable registry snapshot.
 *
 * @example
 * ```ts
 * import { createRegistry, loadTemplates } from "./mod.ts";
 * const registry = createRegistry(await loadTemplates("templates"));
 * console.log(registry.list().map((t) => t.name));
 * ```
 *
 * @module
 */
export {
  compileAnyTemplate,
  compileTemplate,
  loadTemplates,
  type RecTemplate,
  recTemplates,
  type Template,
} from "./loader.ts";
export {
  compileRelTemplate,
  linkRelTemplate,
  orderParts,
  parseSource,
  type RelPart,
  type RelPartSpec,
  type RelTemplate,
  relTemplateSchema,
} from "./rel.ts";
export { parseValueSource, type ValueSource } from "./sources.ts";
export {
  createRegistry,
  createRegistryHolder,
  isAdminTemplate,
  markAdminTemplate,
  type Registry,
  type RegistryHolder,
} from "./registry.ts";
export { type FileValidation, validateTemplates } from "./validate.ts";
export { type FieldCheck, fieldCheck } from "./fields.ts";
export { type OpName, requiredFields, type RequiredSpec } from "./required.ts";
export {
  type CallSpec,
  DECIMAL_DEFAULTS,
  FIELD_TYPES,
  type FieldSpec,
  fieldSpecSchema,
  type ProcedureOpSpec,
  type ReadOpSpec,
  recTemplateSchema,
} from "./schema.ts";
export {
  compileTxnTemplate,
  linkTxnTemplate,
  type TxnStep,
  type TxnStepSpec,
  type TxnTemplate,
  txnTemplateSchema,
} from "./txn.ts";
