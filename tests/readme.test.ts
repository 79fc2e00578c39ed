// README's examples run as written, and print what their comments say.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, runSource, runtime, test } from "./harness.ts";

const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
const modulePath = path.join(root, "mod.ts");

test("README has TypeScript examples", () => {
  assert.ok(blocks.length >= 4, `found ${blocks.length}`);
});

blocks.forEach((code, index) => {
  const title = code.split("\n").find((line) => line.includes("mmap")) ?? "";
  test(`README example ${index + 1} runs as written: ${title.slice(0, 60)}`, () => {
    const source = code.replaceAll('"./mod.ts"', JSON.stringify(modulePath));
    const result = runSource(runtime, source, { write: true });
    assert.equal(result.status, 0, result.stderr);
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(result.stdout.trim().split("\n").filter(Boolean), expected);
  });
});
