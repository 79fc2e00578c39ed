// Deno's sandbox: a file is mapped by name only with --allow-read (and --allow-write for
// PROT_WRITE) on it. Runs Deno as a child, so it checks the same under either test runner.
import assert from "node:assert/strict";
import * as path from "node:path";
import { remove, root, run, tempFile, test } from "./harness.ts";
import { binary, denoLibraryFlags, runtimes } from "./support/runtimes.ts";

const fixture = path.join(root, "tests", "fixtures", "map_file.ts");

function mapUnderDeno(
  flags: string[],
  file: string,
  access: "r" | "rw",
  api: "node" | "open" | "windows" = "node",
): string {
  const result = run(binary(runtimes.deno), [
    "run",
    "--allow-ffi",
    ...denoLibraryFlags(),
    ...flags,
    fixture,
    file,
    access,
    api,
  ]);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

test("Deno without --allow-read cannot map a file by name", () => {
  const file = tempFile("perm", new Uint8Array(4096));
  try {
    const output = mapUnderDeno([], file, "r");
    assert.match(
      output,
      /^error NotCapable: Requires read access to ".*", run again with the --allow-read flag$/,
    );
  } finally {
    remove(file);
  }
});

test("Deno with --allow-read on the file maps it read-only", () => {
  const file = tempFile("perm", new Uint8Array(4096));
  try {
    assert.equal(mapUnderDeno([`--allow-read=${file}`], file, "r"), "mapped 4096");
  } finally {
    remove(file);
  }
});

test("Deno needs --allow-write to map a file by name with PROT_WRITE", () => {
  const file = tempFile("perm", new Uint8Array(4096));
  try {
    const output = mapUnderDeno([`--allow-read=${file}`], file, "rw");
    assert.match(output, /^error NotCapable: .*--allow-write flag$/);
    assert.equal(
      mapUnderDeno([`--allow-read=${file}`, `--allow-write=${file}`], file, "rw"),
      "mapped 4096",
    );
  } finally {
    remove(file);
  }
});

test("Deno's read permission on another file does not cover this one", () => {
  const file = tempFile("perm", new Uint8Array(4096));
  const other = tempFile("perm-other", "x");
  try {
    assert.match(mapUnderDeno([`--allow-read=${other}`], file, "r"), /^error NotCapable/);
  } finally {
    remove(file);
    remove(other);
  }
});

for (const api of ["open", "windows"] as const) {
  test(`Deno's ${api}() needs --allow-read, and --allow-write for mode "rw"`, () => {
    const file = tempFile("perm-modern", new Uint8Array(4096));
    try {
      assert.match(mapUnderDeno([], file, "r", api), /^error NotCapable: .*--allow-read flag$/);
      assert.equal(mapUnderDeno([`--allow-read=${file}`], file, "r", api), "mapped 4096");
      assert.match(
        mapUnderDeno([`--allow-read=${file}`], file, "rw", api),
        /^error NotCapable: .*--allow-write flag$/,
      );
      const both = [`--allow-read=${file}`, `--allow-write=${file}`];
      assert.equal(mapUnderDeno(both, file, "rw", api), "mapped 4096");
    } finally {
      remove(file);
    }
  });
}
