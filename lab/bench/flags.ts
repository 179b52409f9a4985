/**
 * The bench's command-line flags, checked before anything is measured. A
 * value that is not what the flag takes is refused: `Number("0,8")` is NaN
 * and `Number("")` is 0, and either as a tolerance made every comparison of
 * the gate pass in silence.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DB_CONNECTIONS } from "./env.ts";

/** What `lab/bench/main.ts` runs with. */
export interface BenchFlags {
  gate: boolean;
  baseline: boolean;
  only?: string[];
  warmupMs: number;
  durationMs: number;
  rounds: number;
  /** The gate's tolerance, 0 < t ≤ 1. */
  tolerance: number;
  profile: boolean;
  logstore: "mariadb" | "off";
  dbConnections: number;
  foldParts: boolean;
}

/** The flags, or the message to print (and exit 2 with) when one is wrong. */
export type ParsedFlags = { flags: BenchFlags } | { error: string };

/** A decimal number as written (no `0x`, no blanks, no empty string), or NaN. */
function decimal(text: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
}

/** A whole number ≥ `min`, or undefined. */
function whole(text: string, min: number): number | undefined {
  const n = decimal(text);
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** Parses and checks the bench's flags; the gate takes more, shorter rounds by default. */
export function parseFlags(args: readonly string[]): ParsedFlags {
  let values;
  try {
    values = parseArgs({
      args: [...args],
      options: {
        gate: { type: "boolean", default: false },
        baseline: { type: "boolean", default: false },
        only: { type: "string" },
        warmup: { type: "string" },
        duration: { type: "string" },
        rounds: { type: "string" },
        tolerance: { type: "string", default: "0.75" },
        profile: { type: "boolean", default: false },
        logstore: { type: "string", default: "mariadb" },
        "db-connections": { type: "string" },
        "fold-parts": { type: "string", default: "on" },
      },
    }).values;
  } catch (error) {
    return { error: (error as Error).message };
  }
  const gate = values.gate || values.baseline;
  if (values.only === "") return { error: "--only needs scenario names, comma-separated" };
  if (values.baseline && values.only !== undefined) {
    // The baseline is rewritten whole: a partial run would drop the other scenarios from the gate.
    return { error: "--baseline measures every gate scenario; it takes no --only" };
  }
  // On a shared machine the median of five short rounds of the pair it judges is steadier (runner.ts).
  const warmupMs = whole(values.warmup ?? (gate ? "400" : "1000"), 0);
  if (warmupMs === undefined) return { error: "--warmup must be a whole number of ms ≥ 0" };
  const durationMs = whole(values.duration ?? (gate ? "1000" : "4000"), 1);
  if (durationMs === undefined) return { error: "--duration must be a whole number of ms ≥ 1" };
  const rounds = whole(values.rounds ?? (gate ? "5" : "2"), 1);
  if (rounds === undefined) return { error: "--rounds must be a whole number ≥ 1" };
  const tolerance = decimal(values.tolerance);
  if (!(tolerance > 0 && tolerance <= 1)) {
    return {
      error: `--tolerance must be a number with 0 < t ≤ 1 (e.g. 0.75), not ${
        JSON.stringify(values.tolerance)
      }`,
    };
  }
  const dbConnections = whole(values["db-connections"] ?? String(DB_CONNECTIONS), 1);
  if (dbConnections === undefined) return { error: "--db-connections must be a whole number ≥ 1" };
  if (values.logstore !== "mariadb" && values.logstore !== "off") {
    return { error: "--logstore must be mariadb or off" };
  }
  if (values["fold-parts"] !== "on" && values["fold-parts"] !== "off") {
    return { error: "--fold-parts must be on or off" };
  }
  return {
    flags: {
      gate,
      baseline: values.baseline,
      only: values.only?.split(","),
      warmupMs,
      durationMs,
      rounds,
      tolerance,
      profile: values.profile,
      logstore: values.logstore,
      dbConnections,
      foldParts: values["fold-parts"] === "on",
    },
  };
}
