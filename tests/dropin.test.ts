// A drop-in for the node `mmap` package: the package's own tests and examples (bnoordhuis's
// node-mmap, and geocar's mmap v3), written anew in tests/fixtures/dropin/, run unchanged but
// for the package name, in CommonJS and as an ES module, under Node and Bun.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { root, run, test } from "./harness.ts";
import { binary, type Runtime, runtimes } from "./support/runtimes.ts";

const fixtures = path.join(root, "tests", "fixtures", "dropin");

/**
 * A folder holding the fixtures and `node_modules/@mmap/mmap`, a package whose entry point is a
 * link to this checkout's mod.ts (the runtimes follow it, so Node strips its types as it does
 * outside node_modules); runs `body` in it, then removes it.
 */
function withInstalled(body: (folder: string) => void): void {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-dropin-"));
  try {
    const installed = path.join(folder, "node_modules", "@mmap", "mmap");
    fs.mkdirSync(installed, { recursive: true });
    fs.writeFileSync(
      path.join(installed, "package.json"),
      JSON.stringify({ name: "@mmap/mmap", type: "module", exports: "./mod.ts" }),
    );
    fs.symlinkSync(path.join(root, "mod.ts"), path.join(installed, "mod.ts"));
    fs.cpSync(fixtures, folder, { recursive: true });
    body(folder);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** Runs a fixture under `runtime` and returns what it printed; it must exit 0. */
function runDropIn(runtime: Runtime, script: string): string {
  let stdout = "";
  withInstalled((folder) => {
    const result = run(
      binary(runtime),
      runtime.scriptArgs(path.join(folder, script), [], { write: true }),
      undefined,
      folder,
    );
    assert.equal(result.signal, null, `${runtime.name} died: ${result.stderr}`);
    assert.equal(result.status, 0, `${runtime.name}: ${result.stderr}`);
    stdout = result.stdout;
  });
  return stdout;
}

const expected: Record<string, RegExp> = {
  "node_mmap_checks.cjs": /^ok$/m,
  "mmap_v3_checks.cjs": /^ok$/m,
  "bloom_file.cjs": /^check: true$/m,
  "bloom_shm.cjs": /^check: true$/m,
  "fast_http.cjs": /^ok$/m,
  "by_name.cjs": /^ok$/m,
  "esm.mjs": /^ok$/m,
};

for (const runtime of [runtimes.node, runtimes.bun]) {
  for (const [script, output] of Object.entries(expected)) {
    test(`drop-in: ${script} runs unchanged under ${runtime.title}`, () => {
      assert.match(runDropIn(runtime, script), output);
    }, 30_000);
  }
}

test("drop-in: require() returns the mmap function with the constants and the modern API", () => {
  withInstalled((folder) => {
    const script = path.join(folder, "shape.cjs");
    fs.writeFileSync(
      script,
      `const mmap = require("@mmap/mmap");
console.log(JSON.stringify({
  type: typeof mmap,
  map: mmap.map === mmap.mmap,
  constants: ["PROT_READ", "PROT_WRITE", "PROT_EXEC", "PROT_NONE", "MAP_SHARED", "MAP_PRIVATE",
    "MAP_ANONYMOUS", "MAP_ANON", "MS_SYNC", "MS_ASYNC", "MS_INVALIDATE", "PAGESIZE"]
    .every((name) => typeof mmap[name] === "number"),
  modern: ["open", "anonymous", "windows", "map_shm"].every((name) => typeof mmap[name] === "function"),
  frozen: Object.isFrozen(mmap),
}));
`,
    );
    for (const runtime of [runtimes.node, runtimes.bun]) {
      const result = run(binary(runtime), runtime.scriptArgs(script), undefined, folder);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        type: "function",
        map: true,
        constants: true,
        modern: true,
        frozen: true,
      }, runtime.name);
    }
  });
});
