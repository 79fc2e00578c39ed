// Sizes beyond 4 GiB: Deno maps them; Bun's ArrayBuffers stop at 4 GiB, so it refuses clearly.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap from "../mod.ts";
import { native } from "../bindings/load.ts";
import { remove, runtime, tempPath, test } from "./harness.ts";

const FIVE_GIB = 5 * 2 ** 30;

function sparseFile(size: number): string {
  const file = tempPath("sparse");
  const fd = fs.openSync(file, "w");
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
  return file;
}

test("a file larger than 4 GiB: Deno maps it whole, Bun refuses with a RangeError", () => {
  const file = sparseFile(FIVE_GIB);
  const live = native.symbols.mmap_ffi_live_count();
  try {
    if (runtime === "deno") {
      const buffer = mmap(0, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, file);
      assert.equal(buffer.length, FIVE_GIB);
      buffer[FIVE_GIB - 1] = 7;
      assert.equal(buffer[FIVE_GIB - 1], 7);
      buffer.unmap();
    } else {
      assert.throws(
        () => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file),
        (error: unknown) =>
          error instanceof RangeError && /4294967296 bytes.*window/.test(error.message),
      );
    }
    // At most as many: a collection may free earlier tests' dropped buffers meanwhile.
    assert.ok(native.symbols.mmap_ffi_live_count() <= live, "nothing left mapped");
  } finally {
    remove(file);
  }
});

test("Bun refuses an n_bytes over 4 GiB before any system call", () => {
  const size = 2 ** 32 + mmap.PAGESIZE;
  const call = () => mmap(size, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1);
  if (runtime === "bun") {
    assert.throws(call, RangeError);
  } else {
    const buffer = call();
    assert.equal(buffer.length, size);
    buffer.unmap();
  }
});

test("a window of a file larger than 4 GiB maps on both runtimes", () => {
  const file = sparseFile(FIVE_GIB);
  try {
    const offset = FIVE_GIB - 2 ** 20;
    const window = mmap(2 ** 20, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, file, offset);
    window[2 ** 20 - 1] = 3;
    window.sync();
    window.unmap();
    const fd = fs.openSync(file, "r");
    const byte = new Uint8Array(1);
    fs.readSync(fd, byte, 0, 1, FIVE_GIB - 1);
    fs.closeSync(fd);
    assert.equal(byte[0], 3);
  } finally {
    remove(file);
  }
});
