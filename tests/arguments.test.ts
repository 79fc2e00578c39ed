// Bad input: a TypeError or RangeError, thrown before any system call.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap from "../mod.ts";
import { native } from "../bindings/load.ts";
import { remove, tempFile, tempPath, test } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const ANON = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS;
type Kind = typeof TypeError | typeof RangeError;

/** A case: a call with bad arguments and the error class it must throw. */
function refuses(name: string, kind: Kind, call: (file: string) => unknown): void {
  test(`refuses ${name} with ${kind.name}`, () => {
    const file = tempPath("args");
    const live = native.symbols.mmap_ffi_live_count();
    try {
      assert.throws(() => call(file), (error: unknown) => {
        assert.ok(error instanceof kind, `${error}`);
        assert.match((error as Error).message, /^mmap: /);
        return true;
      });
      // At most as many: a collection may free earlier tests' dropped buffers meanwhile.
      assert.ok(native.symbols.mmap_ffi_live_count() <= live, "no mapping was made");
      assert.equal(fs.existsSync(file), false, "no file was created");
    } finally {
      remove(file);
    }
  });
}

const anyMap = mmap as unknown as (...args: unknown[]) => unknown;
const anyShm = mmap.map_shm as unknown as (...args: unknown[]) => unknown;

for (
  const [label, value, kind] of [
    ["a negative size", -1, RangeError],
    ["a fractional size", 1.5, RangeError],
    ["a NaN size", NaN, RangeError],
    ["an infinite size", Infinity, RangeError],
    ["a size beyond MAX_SAFE_INTEGER", 2 ** 53, RangeError],
    ["a string size", "4096", TypeError],
    ["a bigint size", 4096n, TypeError],
    ["a missing size", undefined, TypeError],
  ] as const
) {
  refuses(label, kind, (file) => anyMap(value, RW, mmap.MAP_SHARED, file));
}

for (
  const [label, value, kind] of [
    ["a negative offset", -4096, RangeError],
    ["a fractional offset", 0.5, RangeError],
    ["a NaN offset", NaN, RangeError],
    ["an offset beyond MAX_SAFE_INTEGER", 2 ** 53 + 2, RangeError],
    ["an offset that is not a multiple of PAGESIZE", 100, RangeError],
    ["a string offset", "0", TypeError],
  ] as const
) {
  refuses(label, kind, (file) => anyMap(4096, RW, mmap.MAP_SHARED, file, value));
}

for (
  const [label, value, kind] of [
    ["flags with neither MAP_SHARED nor MAP_PRIVATE", 0, RangeError],
    ["flags with both MAP_SHARED and MAP_PRIVATE", 3, RangeError],
    ["MAP_FIXED in flags", mmap.MAP_SHARED | 0x10, RangeError],
    ["fractional flags", 1.5, RangeError],
    ["string flags", "1", TypeError],
  ] as const
) {
  refuses(label, kind, (file) => anyMap(4096, RW, value, file));
}

for (
  const [label, value, kind] of [
    ["an unknown protection bit", 8, RangeError],
    ["a negative protection", -1, RangeError],
    ["a string protection", "rw", TypeError],
  ] as const
) {
  refuses(label, kind, (file) => anyMap(4096, value, mmap.MAP_SHARED, file));
}

refuses("a fractional fd", TypeError, () => mmap(4096, RW, mmap.MAP_SHARED, 1.5));
refuses("an fd below -1", RangeError, () => mmap(4096, RW, mmap.MAP_SHARED, -2));
refuses("an fd that is an object", TypeError, () => anyMap(4096, RW, mmap.MAP_SHARED, {}));
refuses("an fd that is null", TypeError, () => anyMap(4096, RW, mmap.MAP_SHARED, null));
refuses("fd -1 without MAP_ANONYMOUS", RangeError, () => mmap(4096, RW, mmap.MAP_SHARED, -1));
refuses("MAP_ANONYMOUS with a real fd", RangeError, () => mmap(4096, RW, ANON, 0));
refuses("MAP_ANONYMOUS with a file name", TypeError, (file) => mmap(4096, RW, ANON, file));
refuses("anonymous memory of size 0", RangeError, () => mmap(0, RW, ANON, -1));
refuses("anonymous memory at an offset", RangeError, () => mmap(4096, RW, ANON, -1, 4096));
refuses("an empty file name", TypeError, () => mmap(4096, RW, mmap.MAP_SHARED, ""));
refuses(
  "a file name with a NUL byte",
  TypeError,
  (file) => mmap(4096, RW, mmap.MAP_SHARED, `${file}\0x`),
);

for (
  const [label, value, kind] of [
    ["an empty shm name", "", TypeError],
    ["a shm name that is only a slash", "/", TypeError],
    ["a shm name with a slash inside", "/a/b", TypeError],
    ["a shm name with a slash inside and none in front", "a/b", TypeError],
    ["a shm name with a NUL byte", "/a\0b", TypeError],
    ["a shm name that is a number", 5, TypeError],
  ] as const
) {
  refuses(label, kind, () => anyShm(4096, RW, mmap.MAP_SHARED, value));
}
refuses(
  "a shm size that is negative",
  RangeError,
  () => mmap.map_shm(-1, RW, mmap.MAP_SHARED, "/x"),
);
refuses("MAP_ANONYMOUS for shm", TypeError, () => mmap.map_shm(4096, RW, ANON, "/x"));

test("refuses size 0 for an empty file with RangeError", () => {
  const file = tempFile("empty", "");
  try {
    assert.throws(() => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.equal((error as RangeError & { code: string }).code, "ERR_MMAP_EMPTY_FILE");
      return true;
    });
  } finally {
    remove(file);
  }
});

test("refuses a mapping past the end of the file with RangeError", () => {
  const file = tempFile("short", "abc");
  try {
    assert.throws(() => mmap(4096, mmap.PROT_READ, mmap.MAP_SHARED, file), (error: unknown) => {
      assert.ok(error instanceof RangeError);
      assert.match((error as Error).message, /past the end.*3 bytes.*SIGBUS/);
      return true;
    });
  } finally {
    remove(file);
  }
});

test("refuses an offset past the end of the file with RangeError", () => {
  const file = tempFile("short2", "abc");
  try {
    assert.throws(() => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file, mmap.PAGESIZE), RangeError);
  } finally {
    remove(file);
  }
});

test("refuses sync flags with both MS_SYNC and MS_ASYNC", () => {
  const buffer = mmap(4096, RW, ANON, -1);
  try {
    assert.throws(() => buffer.sync(0, 10, mmap.MS_SYNC | mmap.MS_ASYNC), RangeError);
  } finally {
    buffer.unmap();
  }
});

test("refuses a sync range outside the buffer", () => {
  const buffer = mmap(4096, RW, ANON, -1);
  try {
    assert.throws(() => buffer.sync(4000, 97), RangeError);
    assert.throws(() => buffer.sync(4097), RangeError);
    assert.throws(() => buffer.sync(-1), RangeError);
  } finally {
    buffer.unmap();
  }
});
