// Deno's sandbox applies to files mapped by name exactly as to Deno's own file operations: the
// path Deno checks is the path opened (`..` read as text, as Deno does, never through a
// symlink out of what is allowed), /dev is reserved for --allow-all, and a missing FFI or env
// permission is named. Runs Deno as a child, so it checks the same under either test runner.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { locateLibrary } from "../bindings/native.ts";
import { root, run, shmName, test } from "./harness.ts";
import { binary, denoLibraryFlags, runtimes } from "./support/runtimes.ts";

const LIBRARY = locateLibrary(process.env.MMAP_FFI_LIB).path;

/**
 * Runs `source` (TypeScript, importing the library from `from`) under Deno with `flags`; unless
 * the test sets the child's environment itself, with this process's library too.
 */
function deno(
  flags: string[],
  source: string,
  { cwd, env, from = root }: { cwd?: string; env?: Record<string, string>; from?: string } = {},
) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-sandbox-"));
  try {
    const script = path.join(dir, "main.ts");
    // Used at once: TypeScript drops an import nothing uses.
    const prelude = `import * as m from ${JSON.stringify(`${from}/mod.ts`)};\nvoid m.open;\n`;
    fs.writeFileSync(script, prelude + source);
    const library = env === undefined ? denoLibraryFlags() : [];
    const args = ["run", "--no-prompt", ...flags, ...library, script];
    return run(binary(runtimes.deno), args, env, cwd);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every way of naming a file, with its outcome: its text, or the error's name and code. */
const EVERY_WAY = `
const outcome = (body: () => Uint8Array | string) => {
  try {
    const value = body();
    return typeof value === "string" ? value : new TextDecoder().decode(value);
  } catch (error) {
    return "error " + (error as Error).name + " " + ((error as { code?: string }).code ?? "");
  }
};
const [file, relative] = Deno.args;
const results: Record<string, string> = {
  open: outcome(() => m.open(file)),
  "open rw": outcome(() => { const w = m.open(file, { mode: "rw" }); w[0] = 105; w.unmap(); return "written"; }),
  "node API": outcome(() => m.default(0, m.PROT_READ, m.MAP_SHARED, file)),
  windows: outcome(() => { for (const w of m.windows(file, { size: 4096 })) return new TextDecoder().decode(w); return ""; }),
  "file: URL": outcome(() => m.open(new URL("file://" + file))),
  relative: outcome(() => m.open(relative)),
  resize: outcome(() => { const r = m.open(file, { mode: "rw" }); r.resize(8192).unmap(); return "resized"; }),
};
console.log(JSON.stringify(results));
`;

test("a path with .. through a symlink opens what Deno opens, never a file outside", () => {
  // allowed/x/y -> outside/deep: through the kernel, allowed/x/y/../data is outside/data; as
  // Deno reads the path (and checks it), it is allowed/x/data.
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-dotdot-"));
  try {
    const allowed = path.join(base, "allowed");
    const outside = path.join(base, "outside");
    fs.mkdirSync(path.join(allowed, "x"), { recursive: true });
    fs.mkdirSync(path.join(outside, "deep"), { recursive: true });
    fs.writeFileSync(path.join(allowed, "x", "data"), "inside");
    fs.writeFileSync(path.join(outside, "data"), "outside");
    fs.symlinkSync(path.join(outside, "deep"), path.join(allowed, "x", "y"));
    // Built as text: path.join would resolve the ".." itself.
    const tricky = `${allowed}/x/y/../data`;
    const flags = ["--allow-ffi", `--allow-read=${allowed}`, `--allow-write=${allowed}`];
    const result = deno(
      flags,
      EVERY_WAY.replace(
        "Deno.args",
        JSON.stringify([
          tricky,
          "allowed/x/y/../data",
        ]),
      ),
      { cwd: base },
    );
    assert.equal(result.status, 0, result.stderr);
    const outcomes = JSON.parse(result.stdout) as Record<string, string>;
    for (const [way, outcome] of Object.entries(outcomes)) {
      assert.doesNotMatch(outcome, /outside/, `${way} reached the file outside`);
    }
    assert.equal(outcomes.open, "inside");
    assert.equal(outcomes["node API"], "inside");
    assert.equal(outcomes.windows, "inside");
    assert.equal(outcomes["file: URL"], "inside");
    assert.equal(outcomes.relative, "inside");
    assert.equal(fs.readFileSync(path.join(outside, "data"), "utf8"), "outside", "untouched");
    assert.equal(fs.statSync(path.join(allowed, "x", "data")).size, 8192, "resize grew this one");
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test("/dev is reserved for --allow-all: /dev/shm by path needs it, as for Deno.openSync", () => {
  const name = shmName("dev");
  const file = `/dev/shm${name}`;
  const source = `
const outcome = (body: () => unknown) => {
  try { body(); return "mapped"; } catch (error) { return (error as Error).name; }
};
console.log(JSON.stringify({
  open: outcome(() => m.open(${JSON.stringify(file)}, { mode: "rw", size: 4096 })),
  node: outcome(() => m.default(4096, m.PROT_READ | m.PROT_WRITE, m.MAP_SHARED, ${
    JSON.stringify(file)
  })),
  deno: outcome(() => Deno.openSync(${JSON.stringify(file)}, { write: true, create: true })),
}));
`;
  const result = deno(["--allow-ffi", "--allow-read", "--allow-write=/dev/shm"], source);
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), {
    open: "NotCapable",
    node: "NotCapable",
    deno: "NotCapable",
  });
  assert.equal(fs.existsSync(file), false, "nothing created");
});

test("without --allow-ffi the import says that --allow-ffi is missing", () => {
  const result = deno(["--allow-read"], "");
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /needs FFI access: run Deno with --allow-ffi/);
});

test("--allow-ffi scoped to the library is enough", () => {
  const source = `
const file = Deno.makeTempFileSync();
Deno.writeTextFileSync(file, "scoped");
const mapping = m.open(file);
console.log(new TextDecoder().decode(mapping));
mapping.unmap();
Deno.removeSync(file);
`;
  const result = deno([`--allow-ffi=${LIBRARY}`, "--allow-read", "--allow-write"], source);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), "scoped");
});

test("MMAP_FFI_LIB unread for want of --allow-env is named when the library is missing", () => {
  // A copy of the module without target/: its own library path does not exist.
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-nolib-"));
  try {
    for (const part of ["mod.ts", "lib", "bindings"]) {
      fs.cpSync(path.join(root, part), path.join(copy, part), { recursive: true });
    }
    const env = { MMAP_FFI_LIB: LIBRARY };
    const unread = deno(["--allow-ffi", "--allow-read"], "", { env, from: copy });
    assert.notEqual(unread.status, 0);
    assert.match(unread.stderr, /MMAP_FFI_LIB, if set, was not read: that needs --allow-env/);
    const read = deno(["--allow-ffi", "--allow-read", "--allow-env=MMAP_FFI_LIB"], "", {
      env,
      from: copy,
    });
    assert.equal(read.status, 0, read.stderr);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});
