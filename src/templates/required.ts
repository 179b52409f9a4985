/**
 * What an op of a REC template needs in every request, and the checks that
 * hold a REL part or a TXN step to it when the template is linked: a part or
 * step that leaves out a required field, or whose literal value the field
 * refuses, would fail on every request.
 *
 * @module
 */
import { BedsError } from "../errors.ts";
import { invalid } from "./invalid.ts";
import type { RecTemplate } from "./loader.ts";
import type { FieldSpec } from "./schema.ts";
import type { ValueSource } from "./sources.ts";

/** An op as a request names it. */
export type OpName = "read" | "create" | "update" | "delete" | "call";

/** What {@link requiredFields} reads of an op's declaration. */
export interface RequiredSpec {
  readonly params: readonly string[];
  readonly required?: readonly string[] | undefined;
  readonly key?: readonly string[] | undefined;
}

/**
 * The fields a request must give an op (present and not null): its `required`, else on create the
 * params declared `required`, on update and delete the op's key, and nothing for a read or a call.
 */
export function requiredFields(
  fields: Readonly<Record<string, FieldSpec>>,
  op: OpName,
  spec: RequiredSpec,
): readonly string[] {
  if (spec.required) return spec.required;
  if (op === "create") return spec.params.filter((f) => fields[f]?.required);
  if (op === "update" || op === "delete") return spec.key ?? [];
  return [];
}

/** Value sources of a part or step, by request section. */
export interface SourceSections {
  readonly key?: ReadonlyMap<string, ValueSource> | undefined;
  readonly where?: ReadonlyMap<string, ValueSource> | undefined;
  readonly data?: ReadonlyMap<string, ValueSource> | undefined;
}

const SECTIONS = ["key", "where", "data"] as const;

/** Refuses a literal value that `target`'s field would refuse on every request. */
export function checkLiterals(
  file: string,
  path: string,
  sections: SourceSections,
  target: RecTemplate,
): void {
  for (const section of SECTIONS) {
    for (const [field, source] of sections[section] ?? []) {
      if (source.from !== "literal") continue;
      const check = target.checks.get(field);
      if (!check) continue; // an undeclared field is reported by the caller
      try {
        check(source.value);
      } catch (error) {
        if (!(error instanceof BedsError)) throw error;
        invalid(
          file,
          `${path}.${section}.${field}`,
          `${JSON.stringify(source.value)} is refused: ${error.message}`,
        );
      }
    }
  }
}

/** Refuses a part or step that does not give `target`'s op each field it requires. */
export function checkRequired(
  file: string,
  path: string,
  sections: SourceSections,
  required: readonly string[],
  what: string,
): void {
  for (const field of required) {
    const given = SECTIONS.map((section) => sections[section]?.get(field)).find((s) => s !== undefined);
    if (!given) invalid(file, path, `${what} requires "${field}", which is not given`);
    if (given.from === "literal" && given.value === null) {
      invalid(file, path, `${what} requires "${field}", which is given as null`);
    }
  }
}
