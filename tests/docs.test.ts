// The examples in the JSDoc of mod.ts and lib/ run as written and print what their comments
// say. They use Deno's file helpers, so under Bun a small prelude provides those from node:fs.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { root, runSource, runtime, test } from "./harness.ts";

const PRELUDE = `
import * as __fs from "node:fs";
import * as __os from "node:os";
import * as __path from "node:path";
globalThis.Deno ??= {
  makeTempFileSync: () => {
    const dir = __fs.mkdtempSync(__path.join(__os.tmpdir(), "mmap-doc-"));
    const file = __path.join(dir, "file");
    __fs.writeFileSync(file, "");
    return file;
  },
  writeTextFileSync: (file, text) => __fs.writeFileSync(file, text),
  readTextFileSync: (file) => __fs.readFileSync(file, "utf8"),
};
`;

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
    const body = code.replaceAll('"./mod.ts"', JSON.stringify(path.join(root, "mod.ts")));
    const flags = runtime === "deno" ? ["--v8-flags=--js-immutable-arraybuffer"] : [];
    const result = runSource(runtime, runtime === "bun" ? PRELUDE + body : body, flags);
    assert.equal(result.status, 0, result.stderr);
    const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)]
      .map((m) => m[1].replace(/^"(.*)"$/, "$1"));
    const printed = result.stdout.trim().split("\n").filter(Boolean);
    assert.deepEqual(printed.slice(0, expected.length), expected);
  });
});
