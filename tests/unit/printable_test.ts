import assert from "node:assert/strict";
import { printable } from "../../src/cli/printable.ts";

Deno.test("printable() writes control characters as escapes, leaving other text as it is", () => {
  assert.equal(printable("read.cus  Zürich 東京 ✓"), "read.cus  Zürich 東京 ✓");
  assert.equal(printable("a\u001b]0;pwned\u0007b"), "a\\x1b]0;pwned\\x07b");
  assert.equal(printable("x\u001b[2K\r\ny"), "x\\x1b[2K\\x0d\\x0ay");
  assert.equal(printable("\u007f\u0085\u009b"), "\\x7f\\x85\\x9b");
  assert.equal(printable("safe\u202egpj.exe\u2028"), "safe\\u202egpj.exe\\u2028");
});
