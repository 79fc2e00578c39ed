// Each script in examples/ runs to completion under this runtime.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, run, runtime, runtimeBinary, scriptCommand, test } from "./harness.ts";

const examples = fs.readdirSync(path.join(root, "examples")).filter((name) => name.endsWith(".ts"));

for (const name of examples) {
  test(`examples/${name} runs`, () => {
    const script = path.join(root, "examples", name);
    const result = run(runtimeBinary(runtime), scriptCommand(runtime, script, []));
    assert.equal(result.status, 0, result.stderr);
    assert.notEqual(result.stdout.trim(), "", "it prints what it did");
  });
}
