// Unmapping: explicit, twice, after use, by the garbage collector, and over many cycles.
import assert from "node:assert/strict";
import mmap, { Mapping, MmapError } from "../mod.ts";
import { native } from "../bindings/load.ts";
import {
  collectGarbage,
  fdCount,
  heldCount,
  mappedCount,
  mappingCount,
  mappingsOf,
  remove,
  rssBytes,
  runtime,
  tempFile,
  test,
  throwsKind,
} from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;

test("unmap removes the mapping from the process", () => {
  const file = tempFile("unmap", new Uint8Array(4096));
  try {
    const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    assert.equal(mappingsOf(file), 1);
    assert.equal(buffer.unmap(), true);
    assert.equal(mappingsOf(file), 0);
  } finally {
    remove(file);
  }
});

test("a second unmap returns false and unmaps nothing", () => {
  const buffer = mmap(4096, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1);
  const other = mmap(4096, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1);
  other[0] = 7;
  const mapped = mappedCount();
  assert.equal(buffer.unmap(), true);
  // At most: a collection may free earlier tests' dropped buffers meanwhile.
  assert.ok(mappedCount() <= mapped - 1);
  assert.equal(buffer.unmap(), false);
  assert.equal(buffer.mapped, false);
  assert.equal(other.mapped, true, "the other mapping is untouched");
  assert.equal(other[0], 7);
  other.unmap();
});

test("after unmap every view reads length 0 and undefined", () => {
  const buffer = mmap(4096, RW, mmap.MAP_SHARED | mmap.MAP_ANON, -1);
  buffer[10] = 42;
  const words = new Int32Array(buffer.buffer);
  const part = buffer.subarray(8, 16);
  buffer.unmap();
  assert.equal(buffer.length, 0);
  assert.equal(buffer[10], undefined);
  buffer[10] = 1; // ignored, not a write to freed memory
  assert.equal(buffer[10], undefined);
  assert.equal(words.length, 0);
  assert.equal(words[2], undefined);
  assert.equal(part.length, 0);
  assert.equal(part[2], undefined);
  assert.equal(buffer.buffer.detached, true);
});

test("sync after unmap returns false", () => {
  const buffer = mmap(4096, RW, mmap.MAP_SHARED | mmap.MAP_ANON, -1);
  buffer.unmap();
  assert.equal(buffer.sync(), false);
  assert.equal(buffer.sync(0, 10, mmap.MS_ASYNC), false);
});

test("unmap refuses memory whose buffer user code transferred away", () => {
  const buffer = mmap(4096, RW, mmap.MAP_SHARED | mmap.MAP_ANON, -1);
  buffer[0] = 9;
  const moved = buffer.buffer.transfer();
  const error = throwsKind(() => buffer.unmap(), MmapError);
  assert.equal(error.code, "ERR_MMAP_DETACHED");
  assert.match(error.message, /transfer/);
  assert.equal(new Uint8Array(moved)[0], 9, "the new owner still reads the memory");
  assert.equal(buffer.unmap(), false);
});

test("2,000 dropped buffers are unmapped after a forced GC", async () => {
  const file = tempFile("finalizer", new Uint8Array(4096));
  try {
    let held: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) held.push(mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file));
    assert.equal(mappingsOf(file), 2000);
    held = [];
    for (let round = 0; round < 20 && mappingsOf(file) > 0; round++) await collectGarbage();
    assert.equal(mappingsOf(file), 0);
  } finally {
    remove(file);
  }
});

test("an explicitly unmapped buffer is not unmapped again by the GC", async () => {
  const file = tempFile("nodouble", new Uint8Array(4096));
  try {
    (() => {
      for (let i = 0; i < 100; i++) mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file).unmap();
    })();
    // New mappings may reuse the freed addresses; the collector must leave them alone.
    const keep = Array.from({ length: 100 }, () => mmap(0, RW, mmap.MAP_SHARED, file));
    await collectGarbage();
    assert.equal(mappingsOf(file), 100);
    keep.forEach((buffer) => buffer.fill(1));
    keep.forEach((buffer) => assert.equal(buffer.unmap(), true));
  } finally {
    remove(file);
  }
});

test("10,000 map/touch/unmap cycles leave no mapping, fd or memory behind", async () => {
  const file = tempFile("cycles", new Uint8Array(64 * 1024));
  try {
    const cycle = () => {
      const buffer = mmap(0, RW, mmap.MAP_SHARED, file);
      buffer[buffer.length - 1] += 1;
      buffer.unmap();
    };
    for (let i = 0; i < 500; i++) cycle(); // warm up the runtime's own allocations
    const maps = mappingCount();
    const fds = fdCount();
    const rss = rssBytes();
    const mapped = mappedCount();
    const held = heldCount();
    for (let i = 0; i < 10_000; i++) cycle();
    assert.equal(mappingsOf(file), 0);
    // The runtime's heap may add a few mappings of its own; a leak would add 10,000.
    assert.ok(mappingCount() <= maps + 100, `mappings ${maps} -> ${mappingCount()}`);
    assert.equal(fdCount(), fds);
    // At most: a collection may free earlier tests' dropped buffers meanwhile.
    assert.ok(mappedCount() <= mapped);
    // The address ranges go back once the runtime lets go of the buffers (Node: collected).
    await collectGarbage();
    assert.ok(heldCount() <= held, `held ${held} -> ${heldCount()}`);
    const growth = rssBytes() - rss;
    assert.ok(growth < 32 * 1024 * 1024, `RSS grew by ${growth} bytes (${runtime.name})`);
  } finally {
    remove(file);
  }
});

test("a Mapping cannot be forged over another mapping's address", () => {
  const buffer = mmap(4096, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1);
  const live = native.symbols.mmap_ffi_live_count();
  const token = {
    live: { address: 4096, id: 1 },
    origin: { kind: "anonymous", path: null, offset: 0, flags: 0, protection: 0 },
    immutable: false,
  } as const;
  const forge = () => new Mapping(new ArrayBuffer(8), token);
  assert.throws(forge, TypeError);
  assert.throws(() => Mapping.from([1, 2, 3]), TypeError);
  assert.ok(native.symbols.mmap_ffi_live_count() <= live, "nothing was mapped");
  buffer.unmap();
});
