// OS failures become an MmapError with code, errno, syscall and path.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap, { MmapError, open } from "../mod.ts";
import { remove, tempFile, tempPath, test, throwsKind } from "./harness.ts";

test("a missing file is ENOENT from open, with errno and path", () => {
  const file = tempPath("missing");
  const error = throwsKind(() => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file), MmapError);
  assert.equal(error.code, "ENOENT");
  assert.equal(error.errno, 2);
  assert.equal(error.syscall, "open");
  assert.equal(error.path, file);
  assert.equal(error.message, `ENOENT: no such file or directory, open '${file}'`);
  assert.ok(error instanceof Error);
});

test("a directory opened for writing is EISDIR", () => {
  const dir = fs.mkdtempSync(tempPath("dir"));
  try {
    const error = throwsKind(
      () => mmap(4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, dir),
      MmapError,
    );
    assert.equal(error.code, "EISDIR");
    assert.equal(error.syscall, "open");
  } finally {
    fs.rmdirSync(dir);
  }
});

test("a directory by name is not a regular file: ERR_MMAP_NOT_A_FILE", () => {
  const dir = fs.mkdtempSync(tempPath("dir"));
  try {
    const error = throwsKind(() => mmap(4096, mmap.PROT_READ, mmap.MAP_SHARED, dir), MmapError);
    assert.equal(error.code, "ERR_MMAP_NOT_A_FILE");
    assert.equal(error.path, dir);
    assert.equal(throwsKind(() => open(dir), MmapError).code, "ERR_MMAP_NOT_A_FILE");
  } finally {
    fs.rmdirSync(dir);
  }
});

test("a directory's descriptor reaches mmap, which refuses it: ENODEV", () => {
  const dir = fs.mkdtempSync(tempPath("dir"));
  const fd = fs.openSync(dir, "r");
  try {
    const error = throwsKind(() => mmap(4096, mmap.PROT_READ, mmap.MAP_SHARED, fd), MmapError);
    assert.equal(error.code, "ENODEV");
    assert.equal(error.syscall, "mmap");
  } finally {
    fs.closeSync(fd);
    fs.rmdirSync(dir);
  }
});

test("a size of 0 by descriptor for something that is not a regular file is a RangeError", () => {
  const dir = fs.mkdtempSync(tempPath("dir"));
  const fd = fs.openSync(dir, "r");
  try {
    const error = throwsKind(() => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd), RangeError);
    assert.equal((error as RangeError & { code: string }).code, "ERR_MMAP_SIZE_UNKNOWN");
    assert.match(error.message, new RegExp(`descriptor ${fd}`));
  } finally {
    fs.closeSync(fd);
    fs.rmdirSync(dir);
  }
});

test("a closed descriptor is EBADF from fstat", () => {
  const file = tempFile("ebadf", "x");
  const fd = fs.openSync(file, "r");
  fs.closeSync(fd);
  try {
    const error = throwsKind(() => mmap(1, mmap.PROT_READ, mmap.MAP_SHARED, fd), MmapError);
    assert.equal(error.code, "EBADF");
    assert.equal(error.syscall, "fstat");
  } finally {
    remove(file);
  }
});

test("a shared writable mapping of a read-only descriptor is EACCES from mmap", () => {
  const file = tempFile("eacces", "data");
  const fd = fs.openSync(file, "r");
  try {
    const error = throwsKind(
      () => mmap(4, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd),
      MmapError,
    );
    assert.equal(error.code, "EACCES");
    assert.equal(error.errno, 13);
    assert.equal(error.syscall, "mmap");
  } finally {
    fs.closeSync(fd);
    remove(file);
  }
});

test("an impossible anonymous size is ENOMEM, not a crash", () => {
  const error = throwsKind(
    () => mmap(2 ** 52, mmap.PROT_READ, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1),
    Error,
  );
  // Bun refuses above 4 GiB before the system call; Deno reaches the kernel.
  assert.ok(error instanceof RangeError || (error as MmapError).code === "ENOMEM", `${error}`);
});
