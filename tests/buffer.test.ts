// The node API returns a real Node Buffer on every runtime, as the node `mmap` package did:
// Buffer's methods work on it, its slice() and subarray() are views whose writes reach the
// file, and it still has the members of a Mapping.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import { inspect } from "node:util";
import mmap, { type MappedBuffer, Mapping, MmapError, SharedMemoryMapping } from "../mod.ts";
import { remove, shmName, tempFile, test, throwsKind } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;

/** Maps `text` in a new file shared and read/write, runs `body`, then cleans up. */
function withMapped(text: string, body: (buffer: MappedBuffer, file: string) => void): void {
  const file = tempFile("buffer", text);
  const buffer = mmap(0, RW, mmap.MAP_SHARED, file);
  try {
    body(buffer, file);
  } finally {
    buffer.unmap();
    remove(file);
  }
}

test("mmap() returns a Buffer that Buffer.isBuffer and instanceof recognise", () => {
  withMapped("hello", (buffer) => {
    assert.equal(Buffer.isBuffer(buffer), true);
    assert.ok(buffer instanceof Buffer);
    assert.ok(buffer instanceof Uint8Array);
    assert.ok(buffer instanceof Mapping, "it is still a Mapping");
    assert.equal(buffer instanceof SharedMemoryMapping, false);
  });
});

test("Buffer's methods read the mapped bytes: toString, readUInt32LE, equals, indexOf", () => {
  withMapped("hello, world", (buffer) => {
    assert.equal(buffer.toString("utf8"), "hello, world");
    assert.equal(buffer.toString(), "hello, world");
    assert.equal(buffer.toString("hex", 0, 2), "6865");
    assert.equal(buffer.toString("base64", 0, 5), "aGVsbG8=");
    assert.equal(buffer.readUInt32LE(0), 0x6c6c6568);
    assert.equal(buffer.readUInt8(4), 0x6f);
    assert.equal(buffer.indexOf("world"), 7);
    assert.equal(buffer.includes("lo, w"), true);
    assert.ok(buffer.equals(Buffer.from("hello, world")));
    assert.equal(Buffer.compare(buffer, Buffer.from("hello, world")), 0);
    assert.deepEqual(buffer.toJSON().data.slice(0, 2), [104, 101]);
    assert.equal(Buffer.concat([buffer.subarray(0, 5), Buffer.from("!")]).toString(), "hello!");
  });
});

test("Buffer's writers change the mapped file", () => {
  withMapped("0123456789abcdef", (buffer, file) => {
    buffer.write("XY", 2);
    buffer.writeUInt16BE(0x4142, 4); // "AB"
    buffer.fill(0x2d, 10, 12); // "--"
    assert.equal(buffer.sync(), true);
    assert.equal(fs.readFileSync(file, "utf8"), "01XYAB6789--cdef");
  });
});

test("slice() and subarray() are Buffer views whose writes reach the file", () => {
  withMapped("abcdefgh", (buffer, file) => {
    const sliced = buffer.slice(0, 2);
    const sub = buffer.subarray(4);
    assert.equal(Buffer.isBuffer(sliced), true);
    assert.equal(Buffer.isBuffer(sub), true);
    assert.equal(sliced.buffer, buffer.buffer, "slice() shares the memory, as Buffer's does");
    assert.equal(sub.buffer, buffer.buffer);
    sliced[0] = 0x41; // "A"
    sub.write("EF");
    assert.equal(buffer.toString(), "AbcdEFgh");
    buffer.sync();
    assert.equal(fs.readFileSync(file, "utf8"), "AbcdEFgh");
    assert.equal(sub.toString(), "EFgh");
  });
});

test("unmap() and sync() return true; unmap() empties every view", () => {
  const file = tempFile("buffer-unmap", "some bytes");
  try {
    const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    const view = buffer.subarray(2);
    assert.equal(buffer.sync(), true);
    assert.equal(buffer.unmap(), true);
    assert.equal(buffer.length, 0);
    assert.equal(view.length, 0);
    assert.equal(buffer.toString(), "");
    assert.equal(buffer.unmap(), false);
  } finally {
    remove(file);
  }
});

test("util.inspect shows a Buffer's bytes", () => {
  withMapped("hi", (buffer) => {
    assert.match(inspect(buffer), /^<\w*Buffer 68 69>$/);
  });
});

test("map_shm() returns a Buffer with unlink()", () => {
  const name = shmName("buffer");
  const region = mmap.map_shm(4096, RW, mmap.MAP_SHARED, name);
  try {
    assert.equal(Buffer.isBuffer(region), true);
    assert.ok(region instanceof SharedMemoryMapping);
    region.write("shared");
    const again = mmap.map_shm(0, mmap.PROT_READ, mmap.MAP_SHARED, name);
    assert.equal(again.toString("utf8", 0, 6), "shared");
    again.unmap();
  } finally {
    assert.equal(region.unlink(), true);
    region.unmap();
  }
});

test("resize() of a Buffer returns a Buffer", () => {
  withMapped("grow me", (buffer, file) => {
    const grown = buffer.resize(8192);
    try {
      assert.equal(Buffer.isBuffer(grown), true);
      assert.equal(grown.toString("utf8", 0, 7), "grow me");
      assert.equal(fs.statSync(file).size, 8192);
    } finally {
      grown.unmap();
    }
  });
});

test("a Buffer from the node API cannot be constructed by hand", () => {
  withMapped("x", (buffer) => {
    const Kind = buffer.constructor as unknown as new (...args: unknown[]) => unknown;
    throwsKind(() => new Kind(new ArrayBuffer(8), {}), TypeError);
    throwsKind(() => (Kind as unknown as (...args: unknown[]) => unknown)(), TypeError);
  });
});

test("the OS's errors are still MmapErrors", () => {
  const error = throwsKind(
    () => mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, "/no/such/file"),
    MmapError,
  );
  assert.equal(error.code, "ENOENT");
});
