// The modern API's constructors: open(), anonymous(), shm.open()/shm.unlink().
import assert from "node:assert/strict";
import * as fs from "node:fs";
import process from "node:process";
import { anonymous, immutableBuffers, Mapping, MmapError, open, PAGESIZE, shm } from "../mod.ts";
import { remove, shmName, tempFile, tempPath, test, throwsKind } from "./harness.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test("open() maps a file read-only by default and describes it", () => {
  const file = tempFile("open", "modern hello");
  try {
    using mapping = open(file);
    assert.ok(mapping instanceof Mapping && mapping instanceof Uint8Array);
    assert.equal(text(mapping), "modern hello");
    assert.equal(mapping.mode, "r");
    assert.equal(mapping.path, file);
    assert.equal(mapping.offset, 0);
    assert.equal(mapping.immutable, immutableBuffers);
  } finally {
    remove(file);
  }
});

test('a write to an "r" mapping never crashes and never reaches the file', () => {
  const file = tempFile("readonly", "abc");
  try {
    using mapping = open(file);
    if (immutableBuffers) {
      assert.throws(() => {
        "use strict";
        mapping[0] = 65;
      }, TypeError);
      assert.equal(mapping[0], 97);
    } else {
      mapping[0] = 65; // a private copy-on-write page
      assert.equal(mapping[0], 65);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "abc");
  } finally {
    remove(file);
  }
});

test('mode "rw" writes reach the file', () => {
  const file = tempFile("rw", "abc");
  try {
    using mapping = open(file, { mode: "rw" });
    assert.equal(mapping.mode, "rw");
    assert.equal(mapping.shared, true);
    mapping[1] = 66;
    assert.equal(mapping.sync(), true);
    assert.equal(fs.readFileSync(file, "utf8"), "aBc");
  } finally {
    remove(file);
  }
});

test('mode "copy" writes stay private', () => {
  const file = tempFile("copy", "abc");
  try {
    using mapping = open(file, { mode: "copy" });
    assert.equal(mapping.mode, "copy");
    assert.equal(mapping.shared, false);
    mapping[2] = 67;
    mapping.sync();
    assert.equal(text(mapping), "abC");
    assert.equal(fs.readFileSync(file, "utf8"), "abc");
  } finally {
    remove(file);
  }
});

test("size creates a missing file and grows a short one", () => {
  const file = tempPath("size");
  try {
    using created = open(file, { mode: "rw", size: 5000 });
    assert.equal(created.length, 5000);
    assert.equal(fs.statSync(file).size, 5000);
    using grown = open(file, { mode: "rw", size: 9000 });
    assert.equal(grown.length, 9000);
    assert.equal(fs.statSync(file).size, 9000);
  } finally {
    remove(file);
  }
});

test('size without mode "rw" is a TypeError', () => {
  const file = tempPath("size-r");
  assert.throws(() => open(file, { size: 10 }), TypeError);
  assert.equal(fs.existsSync(file), false);
});

test("an unaligned offset returns the bytes from exactly there", () => {
  const bytes = new Uint8Array(3 * PAGESIZE).map((_, i) => i % 251);
  const file = tempFile("unaligned", bytes);
  try {
    for (const offset of [1, PAGESIZE - 1, PAGESIZE + 7, 2 * PAGESIZE + 100]) {
      using mapping = open(file, { offset, length: 50 });
      assert.deepEqual([...mapping], [...bytes.subarray(offset, offset + 50)], `offset ${offset}`);
      assert.equal(mapping.offset, offset);
    }
  } finally {
    remove(file);
  }
});

test("without length, open() maps from offset to the end", () => {
  const file = tempFile("rest", "0123456789");
  try {
    using mapping = open(file, { offset: 3 });
    assert.equal(text(mapping), "3456789");
  } finally {
    remove(file);
  }
});

test("a range past the end of the file is a RangeError", () => {
  const file = tempFile("past", "0123456789");
  try {
    assert.throws(() => open(file, { offset: 5, length: 6 }), RangeError);
  } finally {
    remove(file);
  }
});

test("an empty file opens as an empty mapping", () => {
  const file = tempFile("empty", "");
  try {
    const mapping = open(file);
    assert.equal(mapping.length, 0);
    assert.equal(mapping.sync(), true);
    assert.deepEqual(mapping.residency(), { pages: 0, resident: 0 });
    assert.equal(mapping.unmap(), true);
    assert.equal(mapping.unmap(), false);
  } finally {
    remove(file);
  }
});

test("an offset at the end of the file opens as an empty mapping", () => {
  const file = tempFile("at-end", "abc");
  try {
    using mapping = open(file, { offset: 3 });
    assert.equal(mapping.length, 0);
  } finally {
    remove(file);
  }
});

test("length 0 is a RangeError (leave it out to map to the end)", () => {
  const file = tempFile("zero", "abc");
  try {
    assert.throws(() => open(file, { length: 0 }), RangeError);
  } finally {
    remove(file);
  }
});

test("unknown and ill-typed options are refused", () => {
  const file = tempFile("opts", "abc");
  const anyOpen = open as (path: unknown, options?: unknown) => Mapping;
  try {
    assert.throws(() => anyOpen(file, { mdoe: "rw" }), /unknown option "mdoe"/);
    assert.throws(() => anyOpen(file, { mode: "w" }), RangeError);
    assert.throws(() => anyOpen(file, { mode: 1 }), TypeError);
    assert.throws(() => anyOpen(file, { populate: "yes" }), TypeError);
    assert.throws(() => anyOpen(file, { offset: -1 }), RangeError);
    assert.throws(() => anyOpen(file, { length: 1.5 }), RangeError);
    assert.throws(() => anyOpen(file, "rw"), TypeError);
    assert.throws(() => anyOpen(42), TypeError);
    assert.throws(() => anyOpen(new URL("https://example.com/x")), TypeError);
  } finally {
    remove(file);
  }
});

test("a file: URL can be opened", () => {
  const file = tempFile("url", "by url");
  try {
    using mapping = open(new URL(`file://${file}`));
    assert.equal(text(mapping), "by url");
  } finally {
    remove(file);
  }
});

test("populate pre-faults every page", () => {
  const file = tempFile("populate", new Uint8Array(16 * PAGESIZE).fill(1));
  try {
    using mapping = open(file, { populate: true });
    const { pages, resident } = mapping.residency();
    assert.equal(pages, 16);
    assert.equal(resident, 16);
  } finally {
    remove(file);
  }
});

test("lock keeps every page resident from the start", () => {
  const file = tempFile("lock", new Uint8Array(8 * PAGESIZE));
  try {
    using mapping = open(file, { lock: true });
    assert.equal(mapping.residency().resident, 8);
    assert.equal(mapping.unlock(), true);
  } finally {
    remove(file);
  }
});

test("a missing file is ENOENT", () => {
  const file = tempPath("missing");
  const error = throwsKind(() => open(file), MmapError);
  assert.equal(error.code, "ENOENT");
  assert.equal(error.path, file);
});

test("anonymous() gives zeroed private memory, shared on request", () => {
  using scratch = anonymous(3 * PAGESIZE);
  assert.equal(scratch.length, 3 * PAGESIZE);
  assert.ok(scratch.every((byte) => byte === 0));
  scratch.fill(9);
  assert.equal(scratch.shared, false);
  assert.equal(scratch.path, null);
  using shared = anonymous(PAGESIZE, { shared: true });
  assert.equal(shared.shared, true);
});

test("anonymous(0) is an empty mapping and bad sizes are refused", () => {
  using empty = anonymous(0);
  assert.equal(empty.length, 0);
  assert.throws(() => anonymous(-1), RangeError);
  assert.throws(() => anonymous("1" as unknown as number), TypeError);
  assert.throws(() => anonymous(4096, { share: true } as never), TypeError);
});

test("shm.open() creates a 0600 object that a second open shares", () => {
  const name = shmName("modern");
  try {
    using first = shm.open(name, 8192);
    using second = shm.open(name, 0);
    assert.equal(second.length, 8192);
    first[5] = 55;
    assert.equal(second[5], 55);
    assert.equal(fs.statSync(`/dev/shm${name}`).mode & 0o777, 0o600);
  } finally {
    shm.unlink(name);
  }
});

test("shm.open() honours create, exclusive and mode", () => {
  const name = shmName("options");
  assert.throws(() => shm.open(name, 4096, { create: false }), { code: "ENOENT" });
  try {
    using created = shm.open(name, 4096, { exclusive: true, mode: 0o640 });
    // shm_open applies the umask, as open does.
    assert.equal(fs.statSync(`/dev/shm${name}`).mode & 0o777, 0o640 & ~process.umask());
    assert.throws(() => shm.open(name, 4096, { exclusive: true }), { code: "EEXIST" });
    assert.equal(created.length, 4096);
    assert.throws(() => shm.open(name, 4096, { mode: 0o1000 }), RangeError);
    assert.throws(() => shm.open(name, 4096, { exclusive: true, create: false }), TypeError);
  } finally {
    shm.unlink(name);
  }
});

test("shm.unlink() returns true, then ENOENT", () => {
  const name = shmName("unlink");
  shm.open(name, 4096).unmap();
  assert.equal(shm.unlink(name), true);
  assert.throws(() => shm.unlink(name), { code: "ENOENT", syscall: "shm_unlink" });
});
