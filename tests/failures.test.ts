// Failure paths: a failed call leaves nothing behind (no created or grown file or object), no
// open by name ever blocks, and each error says what happened with a stable code.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import mmap, { anonymous, MmapError, open, shm } from "../mod.ts";
import { native } from "../bindings/load.ts";
import {
  remove,
  root,
  runSource,
  runtime,
  shmName,
  tempFile,
  tempPath,
  test,
  throwsKind,
} from "./harness.ts";

const P = mmap.PAGESIZE;
const RW = mmap.PROT_READ | mmap.PROT_WRITE;
/** More than ext4 lets a file grow to (16 TiB), or any address space maps: past Bun's 4 GiB. */
const HUGE = 2 ** 47;

/** The code of an error, whatever its class. */
function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

test("a failed open() with size removes the file it created", () => {
  const file = tempPath("created");
  assert.throws(() => open(file, { mode: "rw", size: HUGE }));
  assert.equal(fs.existsSync(file), false);
  assert.throws(() => open(file, { mode: "rw", size: P, offset: 3 * P }));
  assert.equal(fs.existsSync(file), false, "past the end of what it created");
});

test("a failed open() with size leaves an existing file as it was", () => {
  const file = tempFile("existing", "12345");
  try {
    assert.throws(() => open(file, { mode: "rw", size: HUGE }));
    assert.equal(fs.readFileSync(file, "utf8"), "12345");
  } finally {
    remove(file);
  }
});

test("the node API's failed map by name removes the file it created", () => {
  const file = tempPath("node-created");
  assert.throws(() => mmap(HUGE, RW, mmap.MAP_SHARED, file));
  assert.equal(fs.existsSync(file), false);
});

test("a failed map_shm removes the object it created; n_bytes 0 creates none", () => {
  const name = shmName("failed");
  assert.throws(() => mmap.map_shm(HUGE, RW, mmap.MAP_SHARED, name));
  assert.equal(fs.existsSync(`/dev/shm${name}`), false);
  assert.equal(
    throwsKind(() => mmap.map_shm(0, RW, mmap.MAP_SHARED, name), MmapError).code,
    "ENOENT",
  );
  assert.equal(fs.existsSync(`/dev/shm${name}`), false);
  assert.throws(() => shm.open(name, HUGE, { exclusive: true }));
  assert.equal(fs.existsSync(`/dev/shm${name}`), false);
});

test("a size the runtime cannot hold is refused before the file is created", () => {
  if (native.maxBufferLength >= 5 * 2 ** 30) return; // Deno and Node hold it
  const file = tempPath("too-large");
  const error = throwsKind(() => open(file, { mode: "rw", size: 5 * 2 ** 30 }), RangeError);
  assert.equal(codeOf(error), "ERR_MMAP_TOO_LARGE");
  assert.equal(fs.existsSync(file), false);
});

test("resize() that fails for want of memory puts the file's size back", () => {
  // The child lowers its own address-space limit, so growing the mapping fails with ENOMEM
  // after the file has grown.
  const file = tempFile("resize-enomem", "12345");
  try {
    const result = runSource(
      runtime,
      `
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import process from "node:process";
import { open } from ${JSON.stringify(`${root}/mod.ts`)};
const mapping = open(${JSON.stringify(file)}, { mode: "rw" });
const kib = Number(/VmSize:\\s+(\\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))![1]);
const limit = (kib + 512 * 1024) * 1024;
const set = spawnSync("prlimit", ["--pid", String(process.pid), "--as=" + limit]);
if (set.status !== 0) { console.log("skipped"); process.exit(0); }
let code = "resized";
try { mapping.resize(2 ** 31); } catch (error) { code = (error as { code?: string }).code ?? String(error); }
console.log(code, fs.statSync(${JSON.stringify(file)}).size, mapping.mapped, mapping[0]);
`,
    );
    assert.equal(result.status, 0, result.stderr);
    if (result.stdout.trim() === "skipped") {
      console.log("skipped: prlimit cannot lower this process's address-space limit");
      return;
    }
    assert.equal(result.stdout.trim(), "ENOMEM 5 true 49", "the size is back; the mapping intact");
    assert.equal(fs.statSync(file).size, 5);
  } finally {
    remove(file);
  }
});

test("opening a FIFO by name neither blocks nor maps", () => {
  const fifo = tempPath("fifo");
  assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
  try {
    for (const call of [() => open(fifo), () => mmap(P, mmap.PROT_READ, mmap.MAP_SHARED, fifo)]) {
      assert.equal(throwsKind(call, MmapError).code, "ERR_MMAP_NOT_A_FILE");
    }
  } finally {
    remove(fifo);
  }
});

test("resize() after the file was replaced by a FIFO fails at once, without blocking", () => {
  // In a child: a blocking open of the FIFO would hang it, which the time limit catches.
  const file = tempFile("fifo-swap", new Uint8Array(P));
  try {
    const result = runSource(
      runtime,
      `
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { open } from ${JSON.stringify(`${root}/mod.ts`)};
const mapping = open(${JSON.stringify(file)}, { mode: "rw" });
fs.rmSync(${JSON.stringify(file)});
spawnSync("mkfifo", [${JSON.stringify(file)}]);
try { mapping.resize(4 * 4096); console.log("resized"); }
catch (error) { console.log((error as { code?: string }).code); }
`,
    );
    assert.equal(result.signal, null, "no hang: the time limit did not kill it");
    assert.equal(result.stdout.trim(), "ERR_MMAP_SOURCE_REPLACED");
  } finally {
    remove(file);
  }
});

test("PROT_EXEC without PROT_READ is refused, and says to add PROT_READ", () => {
  const exec = mmap.PROT_EXEC;
  for (
    const call of [() => mmap(P, exec, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1), () => {
      using memory = anonymous(P);
      memory.protect(exec);
    }]
  ) {
    const error = throwsKind(call, RangeError);
    assert.match(error.message, /add PROT_READ/);
    assert.equal(codeOf(error), "ERR_MMAP_INVALID_VALUE");
  }
  mmap(P, mmap.PROT_READ | exec, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1).unmap();
});

test("an offset past the end of a file is a RangeError; at the end, an empty mapping", () => {
  const file = tempFile("offsets", new Uint8Array(100));
  try {
    const past = throwsKind(() => open(file, { offset: 4096 }), RangeError);
    assert.equal(codeOf(past), "ERR_MMAP_PAST_END_OF_FILE");
    assert.match(past.message, /offset 4096 lies past the end of .*\(100 bytes\)/);
    assert.match(past.message, /offset of at most 100/);
    using atEnd = open(file, { offset: 100 });
    assert.equal(atEnd.length, 0);
  } finally {
    remove(file);
  }
});

test("past the end by descriptor, the message names the descriptor and a length that works", () => {
  const file = tempFile("fd-past", new Uint8Array(5630));
  const fd = fs.openSync(file, "r");
  try {
    const over = throwsKind(() => mmap(3 * P, mmap.PROT_READ, mmap.MAP_SHARED, fd), RangeError);
    assert.match(over.message, new RegExp(`the file behind descriptor ${fd} \\(5630 bytes\\)`));
    assert.match(over.message, /Map at most 5630 bytes from there/);
    const far = throwsKind(() => mmap(P, mmap.PROT_READ, mmap.MAP_SHARED, fd, 2 * P), RangeError);
    assert.match(far.message, /offset 8192 lies past the end/);
    assert.doesNotMatch(far.message, /at most 0 bytes/);
    const end = throwsKind(() => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd, 8192), RangeError);
    assert.equal(codeOf(end), "ERR_MMAP_PAST_END_OF_FILE");
  } finally {
    fs.closeSync(fd);
    remove(file);
  }
});

test("a resize() past the end names the mapping's offset and the most it can be", () => {
  const file = tempFile("resize-offset", new Uint8Array(3 * P));
  try {
    using mapping = open(file, { offset: P + 10, length: 100 });
    const error = throwsKind(() => mapping.resize(3 * P), RangeError);
    assert.equal(codeOf(error), "ERR_MMAP_PAST_END_OF_FILE");
    assert.match(error.message, new RegExp(`starts at byte ${P + 10} of`));
    assert.match(error.message, new RegExp(`at most ${2 * P - 10} bytes`));
    assert.equal(mapping.mapped, true, "a failed resize leaves the mapping as it was");
  } finally {
    remove(file);
  }
});

test("every argument error carries a stable code", () => {
  const cases: [() => unknown, string][] = [
    [() => open(42 as unknown as string), "ERR_MMAP_INVALID_TYPE"],
    [() => open("x", { bogus: 1 } as never), "ERR_MMAP_UNKNOWN_OPTION"],
    [() => open("x", { mode: "w" } as never), "ERR_MMAP_INVALID_VALUE"],
    [() => open("", {}), "ERR_MMAP_INVALID_VALUE"],
    [() => open("x", { length: -1 }), "ERR_MMAP_INVALID_VALUE"],
    [() => open("x", { size: 1 }), "ERR_MMAP_INVALID_VALUE"],
    [() => mmap("4096" as unknown as number, RW, mmap.MAP_SHARED, "x"), "ERR_MMAP_INVALID_TYPE"],
    [() => mmap(P, RW, mmap.MAP_SHARED, "x", 1), "ERR_MMAP_INVALID_VALUE"],
    [() => shm.open("a/b", P), "ERR_MMAP_INVALID_VALUE"],
    [() => anonymous(P).advise("bogus"), "ERR_MMAP_INVALID_VALUE"],
  ];
  for (const [call, code] of cases) {
    let caught: unknown = null;
    try {
      call();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof TypeError || caught instanceof RangeError, String(caught));
    assert.equal(codeOf(caught), code, String(caught));
  }
});
