// Each script in examples/ says in its header how to run it on every runtime, runs to completion
// under this runtime exactly as its header says, and leaves knowing how a runtime is run to the
// runtime table (tests/support/runtimes.ts). Examples that run a server or start processes of
// other runtimes have tests of their own instead of the run here.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, run, runtime, test } from "./harness.ts";
import { binary, RUNTIME_NAMES } from "./support/runtimes.ts";

/** Examples tested by their own files: serve.ts runs until stopped, ipc.ts spawns processes. */
const testedElsewhere = new Set(["serve.ts", "ipc.ts"]);

/** Examples that start processes of other runtimes: only they use the runtime table. */
const startsRuntimes = new Set(["ipc.ts"]);

const examples = fs.readdirSync(path.join(root, "examples")).filter((name) => name.endsWith(".ts"))
  .sort();

const source = (name: string) => fs.readFileSync(path.join(root, "examples", name), "utf8");

/** The arguments after the runtime's name in the header's command for it, up to the script. */
function headerCommand(name: string, runtimeName: string): string[] | null {
  const line = new RegExp(`^//\\s+(?:Run:|or:)\\s+${runtimeName} (.*)$`, "m").exec(source(name));
  if (!line) return null;
  const words = line[1].trim().split(/\s+/);
  const script = words.indexOf(`examples/${name}`);
  return script < 0 ? null : words.slice(0, script + 1);
}

test("each example's header says how to run it on every runtime", () => {
  for (const name of examples) {
    for (const runtimeName of RUNTIME_NAMES) {
      assert.ok(headerCommand(name, runtimeName), `examples/${name}: no ${runtimeName} command`);
    }
  }
});

test("examples leave knowing how a runtime is run to the runtime table", () => {
  for (const name of examples) {
    // The code, without comments (headers name the runtimes' commands, as they should).
    const code = source(name).split("\n").filter((line) => !/^\s*(\/\/|\/\*\*|\*)/.test(line))
      .join("\n");
    const knowledge = /\bDeno\.|\bBun\.|in globalThis|--allow-|--disable-warning|_BIN\b|execPath/
      .exec(code);
    assert.equal(knowledge, null, `examples/${name} knows about runtimes: ${knowledge?.[0]}`);
    const usesTable = code.includes("tests/support/runtimes.ts");
    assert.equal(
      usesTable,
      startsRuntimes.has(name),
      `examples/${name} ${usesTable ? "imports" : "does not import"} the runtime table`,
    );
  }
});

for (const name of examples.filter((name) => !testedElsewhere.has(name))) {
  test(`examples/${name} runs as its header says`, () => {
    const command = headerCommand(name, runtime.name);
    assert.ok(command, `examples/${name}: no ${runtime.name} command`);
    const result = run(binary(runtime), command);
    assert.equal(result.status, 0, result.stderr);
    assert.notEqual(result.stdout.trim(), "", "it prints what it did");
  });
}
