// Each script in examples/ runs to completion under this runtime. Examples that run a server or
// start processes of other runtimes have tests of their own instead.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, runScript, runtime, test } from "./harness.ts";

/** Examples tested by their own files: serve.ts runs until stopped, ipc.ts spawns processes. */
const testedElsewhere = new Set(["serve.ts", "ipc.ts"]);

const examples = fs.readdirSync(path.join(root, "examples")).filter((name) =>
  name.endsWith(".ts") && !testedElsewhere.has(name)
);

for (const name of examples) {
  test(`examples/${name} runs`, () => {
    const script = path.join(root, "examples", name);
    const result = runScript(runtime, script, [], { write: true });
    assert.equal(result.status, 0, result.stderr);
    assert.notEqual(result.stdout.trim(), "", "it prints what it did");
  });
}
