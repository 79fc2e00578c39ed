// examples/wc.ts: counts like wc, window by window, without counting a cut word twice.
import assert from "node:assert/strict";
import * as path from "node:path";
import mmap from "../mod.ts";
import { countFile } from "../examples/wc.ts";
import { remove, root, runScript, runtime, tempFile, test } from "./harness.ts";

/** Words of 1 to 13 letters and white space of every kind, so words cross page edges. */
function sampleText(): string {
  const gaps = [" ", "\n", "\t", "  ", "\r\n", "\v", "\f"];
  let text = "";
  for (let index = 0; text.length < mmap.PAGESIZE * 5 + 123; index++) {
    text += "w".repeat(1 + (index % 13)) + gaps[index % gaps.length];
  }
  return text;
}

function reference(text: string) {
  return {
    lines: text.split("\n").length - 1,
    words: text.split(/[ \t\n\v\f\r]+/).filter((word) => word !== "").length,
    bytes: text.length,
  };
}

test("wc.ts counts lines, words and bytes the same one page at a time as in one window", () => {
  const text = sampleText();
  const file = tempFile("wc", text);
  try {
    assert.deepEqual(countFile(file, mmap.PAGESIZE), reference(text));
    assert.deepEqual(countFile(file), reference(text));
  } finally {
    remove(file);
  }
});

test("wc.ts prints wc's columns for each file and a total", () => {
  const first = tempFile("wc-a", "one two\nthree\n");
  const second = tempFile("wc-b", "four\n");
  try {
    const script = path.join(root, "examples", "wc.ts");
    const result = runScript(runtime, script, [first, second]);
    assert.equal(result.status, 0, result.stderr);
    const rows = result.stdout.trim().split("\n").map((line) => line.trim().split(/\s+/));
    assert.deepEqual(rows, [
      ["2", "3", "14", first],
      ["1", "1", "5", second],
      ["3", "4", "19", "total"],
    ]);
  } finally {
    remove(first);
    remove(second);
  }
});
