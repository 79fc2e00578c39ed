// Sizes beyond 4 GiB: Deno and Node map them; Bun's ArrayBuffers stop at 4 GiB, so it refuses
// clearly (the loader says how large a buffer the runtime can hold).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap from "../mod.ts";
import { native } from "../bindings/load.ts";
import { mappedCount, remove, tempPath, test } from "./harness.ts";

/** True where the runtime holds an ArrayBuffer over 4 GiB. */
const large = native.maxBufferLength > 2 ** 32;

const FIVE_GIB = 5 * 2 ** 30;

function sparseFile(size: number): string {
  const file = tempPath("sparse");
  const fd = fs.openSync(file, "w");
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
  return file;
}

test("a file larger than 4 GiB: mapped whole where the runtime can, else a RangeError", () => {
  const file = sparseFile(FIVE_GIB);
  const mapped = mappedCount();
  try {
    if (large) {
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
    assert.ok(mappedCount() <= mapped, "nothing left mapped");
  } finally {
    remove(file);
  }
});

test("an n_bytes over 4 GiB is refused before any system call where the runtime cannot hold it", () => {
  const size = 2 ** 32 + mmap.PAGESIZE;
  const call = () => mmap(size, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1);
  if (!large) {
    assert.throws(call, RangeError);
  } else {
    const buffer = call();
    assert.equal(buffer.length, size);
    buffer.unmap();
  }
});

test("a window of a file larger than 4 GiB maps on every runtime", () => {
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
