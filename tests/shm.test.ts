// POSIX shared memory through map_shm.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap, { MmapError, SharedMemoryMapping } from "../mod.ts";
import { shmName, test, throwsKind } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;

test("map_shm creates an object of n_bytes that two mappings share", () => {
  const name = shmName("share");
  const first = mmap.map_shm(8192, RW, mmap.MAP_SHARED, name);
  try {
    assert.ok(first instanceof SharedMemoryMapping);
    assert.equal(first.length, 8192);
    assert.equal(first.name, name);
    const second = mmap.map_shm(8192, mmap.PROT_READ, mmap.MAP_SHARED, name);
    first[8191] = 200;
    assert.equal(second[8191], 200);
    second.unmap();
  } finally {
    first.unlink();
    first.unmap();
  }
});

test("map_shm creates the object with mode 0600", () => {
  const name = shmName("mode");
  const buffer = mmap.map_shm(4096, RW, mmap.MAP_SHARED, name);
  try {
    assert.equal(fs.statSync(`/dev/shm${name}`).mode & 0o777, 0o600);
  } finally {
    buffer.unlink();
    buffer.unmap();
  }
});

test("map_shm adds the leading slash to a bare name", () => {
  const name = shmName("bare").slice(1);
  const buffer = mmap.map_shm(4096, RW, mmap.MAP_SHARED, name);
  try {
    assert.equal(buffer.name, `/${name}`);
    assert.ok(fs.existsSync(`/dev/shm/${name}`));
  } finally {
    buffer.unlink();
    buffer.unmap();
  }
});

test("map_shm with n_bytes 0 maps the whole existing object", () => {
  const name = shmName("whole");
  const first = mmap.map_shm(3 * 4096, RW, mmap.MAP_SHARED, name);
  try {
    const again = mmap.map_shm(0, mmap.PROT_READ, mmap.MAP_SHARED, name);
    assert.equal(again.length, 3 * 4096);
    again.unmap();
  } finally {
    first.unlink();
    first.unmap();
  }
});

test("unlink returns true, and a second unlink is ENOENT", () => {
  const name = shmName("unlink");
  const buffer = mmap.map_shm(4096, RW, mmap.MAP_SHARED, name);
  buffer[0] = 1;
  assert.equal(buffer.unlink(), true);
  assert.equal(fs.existsSync(`/dev/shm${name}`), false);
  assert.equal(buffer[0], 1, "the mapping outlives the name");
  const error = throwsKind(() => buffer.unlink(), MmapError);
  assert.equal(error.code, "ENOENT");
  assert.equal(error.syscall, "shm_unlink");
  assert.equal(error.path, name);
  buffer.unmap();
});

test("map_shm at an offset maps from that page", () => {
  const name = shmName("offset");
  const whole = mmap.map_shm(2 * mmap.PAGESIZE, RW, mmap.MAP_SHARED, name);
  try {
    whole[mmap.PAGESIZE] = 5;
    const tail = mmap.map_shm(mmap.PAGESIZE, RW, mmap.MAP_SHARED, name, mmap.PAGESIZE);
    assert.equal(tail[0], 5);
    tail.unmap();
  } finally {
    whole.unlink();
    whole.unmap();
  }
});
