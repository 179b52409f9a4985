/** The BEDS release version (kept equal to deno.json's by a unit test). */
export const VERSION = "0.1.0";

/** The wire protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;
