// Mapping files by name and by descriptor: reading, writing, syncing, sharing, offsets.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap, { anonymous, Mapping } from "../mod.ts";
import { fdsOf, remove, tempFile, tempPath, test } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test("a file mapped by name reads its bytes, with no copy", () => {
  const file = tempFile("read", "hello, mapped world");
  try {
    const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    assert.ok(buffer instanceof Uint8Array);
    assert.ok(buffer instanceof Mapping);
    assert.equal(buffer.length, 19);
    assert.equal(text(buffer), "hello, mapped world");
    assert.equal(buffer.byteOffset, 0);
    assert.equal(buffer.buffer.byteLength, 19);
    assert.equal(buffer.unmap(), true);
  } finally {
    remove(file);
  }
});

test("writes through MAP_SHARED reach the file after sync", () => {
  const file = tempFile("write", "aaaaaaaaaa");
  try {
    const buffer = mmap(0, RW, mmap.MAP_SHARED, file);
    buffer.set(new TextEncoder().encode("bbb"), 2);
    assert.equal(buffer.sync(), true);
    assert.equal(fs.readFileSync(file, "utf8"), "aabbbaaaaa");
    buffer.unmap();
  } finally {
    remove(file);
  }
});

test("a second mapping of the same file sees the first one's writes", () => {
  const file = tempFile("second", new Uint8Array(8192));
  try {
    const first = mmap(0, RW, mmap.MAP_SHARED, file);
    const second = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    first[5000] = 77;
    assert.equal(second[5000], 77);
    first.unmap();
    second.unmap();
  } finally {
    remove(file);
  }
});

test("MAP_PRIVATE writes stay private to the mapping", () => {
  const file = tempFile("private", "original");
  try {
    const shared = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    const copy = mmap(0, RW, mmap.MAP_PRIVATE, file);
    copy[0] = "X".charCodeAt(0);
    assert.equal(copy.sync(), true);
    assert.equal(text(copy), "Xriginal");
    assert.equal(text(shared), "original");
    assert.equal(fs.readFileSync(file, "utf8"), "original");
    copy.unmap();
    shared.unmap();
  } finally {
    remove(file);
  }
});

test("an offset maps from that page of the file", () => {
  const page = mmap.PAGESIZE;
  const bytes = new Uint8Array(3 * page);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(i / page) + 1;
  const file = tempFile("offset", bytes);
  try {
    const middle = mmap(page, mmap.PROT_READ, mmap.MAP_SHARED, file, page);
    assert.equal(middle.length, page);
    assert.ok(middle.every((byte) => byte === 2));
    const rest = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file, 2 * page);
    assert.equal(rest.length, page);
    assert.equal(rest[0], 3);
    middle.unmap();
    rest.unmap();
  } finally {
    remove(file);
  }
});

test("a file name with PROT_WRITE creates the file at n_bytes", () => {
  const file = tempPath("create");
  try {
    const buffer = mmap(10_000, RW, mmap.MAP_SHARED, file);
    assert.equal(buffer.length, 10_000);
    assert.equal(fs.statSync(file).size, 10_000);
    assert.ok(buffer.every((byte) => byte === 0));
    buffer.unmap();
  } finally {
    remove(file);
  }
});

test("a file name with PROT_WRITE grows a shorter file to offset + n_bytes", () => {
  const file = tempFile("grow", "abc");
  try {
    const buffer = mmap(100, RW, mmap.MAP_SHARED, file, mmap.PAGESIZE);
    assert.equal(fs.statSync(file).size, mmap.PAGESIZE + 100);
    buffer[99] = 9;
    buffer.sync();
    assert.equal(fs.readFileSync(file)[mmap.PAGESIZE + 99], 9);
    assert.equal(fs.readFileSync(file, "utf8").slice(0, 3), "abc");
    buffer.unmap();
  } finally {
    remove(file);
  }
});

test("a longer file is not shrunk by mapping part of it", () => {
  const file = tempFile("noshrink", new Uint8Array(5000));
  try {
    mmap(100, RW, mmap.MAP_SHARED, file).unmap();
    assert.equal(fs.statSync(file).size, 5000);
  } finally {
    remove(file);
  }
});

test("n_bytes 0 with PROT_WRITE does not create a missing file", () => {
  const file = tempPath("nocreate");
  assert.throws(() => mmap(0, RW, mmap.MAP_SHARED, file), { code: "ENOENT" });
  assert.equal(fs.existsSync(file), false);
});

test("the descriptor opened for a file name is closed once mapped", () => {
  const file = tempFile("fdclose", "data");
  try {
    const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    assert.equal(fdsOf(file), 0);
    buffer.unmap();
  } finally {
    remove(file);
  }
});

test("a descriptor from node:fs maps, and stays open and the caller's", () => {
  const file = tempFile("fd", "by descriptor");
  const fd = fs.openSync(file, "r+");
  try {
    const buffer = mmap(0, RW, mmap.MAP_SHARED, fd);
    assert.equal(text(buffer), "by descriptor");
    buffer[0] = "B".charCodeAt(0);
    buffer.unmap();
    assert.equal(fdsOf(file), 1);
    assert.equal(fs.readFileSync(file, "utf8"), "By descriptor");
  } finally {
    fs.closeSync(fd);
    remove(file);
  }
});

test("anonymous memory maps with fd -1, zeroed and writable", () => {
  const buffer = mmap(3 * mmap.PAGESIZE, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1);
  assert.equal(buffer.length, 3 * mmap.PAGESIZE);
  assert.ok(buffer.every((byte) => byte === 0));
  buffer.fill(7);
  assert.equal(buffer[buffer.length - 1], 7);
  assert.equal(buffer.unmap(), true);
});

test("a ranged sync with an unaligned offset succeeds", () => {
  const file = tempFile("ranged", new Uint8Array(3 * mmap.PAGESIZE));
  try {
    const buffer = mmap(0, RW, mmap.MAP_SHARED, file);
    buffer[mmap.PAGESIZE + 10] = 1;
    assert.equal(buffer.sync(mmap.PAGESIZE + 5, 10, mmap.MS_ASYNC | mmap.MS_INVALIDATE), true);
    assert.equal(buffer.sync(mmap.PAGESIZE + 5, 10), true);
    assert.equal(fs.readFileSync(file)[mmap.PAGESIZE + 10], 1);
    buffer.unmap();
  } finally {
    remove(file);
  }
});

test("the modern API's subarray and slice give plain Uint8Arrays", () => {
  using mapping = anonymous(4096);
  mapping[1] = 5;
  const view = mapping.subarray(1, 3);
  const copy = mapping.slice(1, 3);
  assert.equal(view.constructor, Uint8Array);
  assert.equal(copy.constructor, Uint8Array);
  assert.equal(view[0], 5);
  assert.equal(view.buffer, mapping.buffer, "subarray is a view");
  assert.notEqual(copy.buffer, mapping.buffer, "slice copies, as for any Uint8Array");
});
