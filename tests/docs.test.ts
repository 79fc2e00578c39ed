// The examples in the JSDoc of mod.ts and lib/ run as written (importing the package by its
// name, "@mmap/mmap") and print what their comments say, on each runtime.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, runSource, runtime, test } from "./harness.ts";

const sources = ["mod.ts", ...fs.readdirSync(path.join(root, "lib")).map((name) => `lib/${name}`)];
const examples: { source: string; code: string }[] = [];
for (const source of sources) {
  const text = fs.readFileSync(path.join(root, source), "utf8");
  for (const match of text.matchAll(/^\s*\* ```ts\n([\s\S]*?)^\s*\* ```/gm)) {
    const code = match[1].split("\n").map((line) => line.replace(/^\s*\* ?/, "")).join("\n");
    examples.push({ source, code });
  }
}

test("every public file has JSDoc examples", () => {
  assert.ok(examples.length >= 10, `found ${examples.length}`);
});

examples.forEach(({ source, code }, index) => {
  test(`JSDoc example ${index + 1} in ${source} runs`, () => {
    // The examples import the package by name, as its users do; here that is this checkout.
    const body = code.replaceAll('"@mmap/mmap"', JSON.stringify(path.join(root, "mod.ts")));
    // Deno with immutable buffers, as the test task runs it.
    const result = runSource(runtime, body, { write: true, immutable: true });
    assert.equal(result.status, 0, result.stderr);
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)]
      .map((m) => m[1].replace(/^"(.*)"$/, "$1"));
    const printed = result.stdout.trim().split("\n").filter(Boolean);
    assert.deepEqual(printed.slice(0, expected.length), expected);
  });
});
