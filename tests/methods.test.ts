// The modern methods of a mapping: using, sync options, flush, advise, lock, protect,
// residency, resize.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import mmap, {
  ADVICE,
  anonymous,
  MADV_NORMAL,
  type Mapping,
  MmapError,
  open,
  PAGESIZE,
  shm,
} from "../mod.ts";
import { mappingsOf, remove, shmName, tempFile, test, throwsKind } from "./harness.ts";

const PAGE = PAGESIZE;

test("using unmaps the mapping at the end of its scope", () => {
  const file = tempFile("using", new Uint8Array(PAGE));
  try {
    let escaped: Mapping;
    {
      using mapping = open(file);
      escaped = mapping;
      assert.equal(mappingsOf(file), 1);
    }
    assert.equal(mappingsOf(file), 0);
    assert.equal(escaped.mapped, false);
    assert.equal(escaped.unmap(), false);
  } finally {
    remove(file);
  }
});

test("sync takes an options object", () => {
  const file = tempFile("sync-options", new Uint8Array(3 * PAGE));
  try {
    using mapping = open(file, { mode: "rw" });
    mapping[PAGE + 1] = 1;
    assert.equal(mapping.sync({ offset: PAGE, length: 10 }), true);
    assert.equal(mapping.sync({ async: true, invalidate: true }), true);
    assert.equal(fs.readFileSync(file)[PAGE + 1], 1);
    assert.throws(() => mapping.sync({ offset: 3 * PAGE, length: 1 }), RangeError);
    assert.throws(() => mapping.sync({ flags: 4 } as never), /unknown option "flags"/);
  } finally {
    remove(file);
  }
});

test("flush() returns at once and resolves once the data is on disk", async () => {
  const file = tempFile("flush", new Uint8Array(16 * PAGE));
  try {
    using mapping = open(file, { mode: "rw" });
    mapping.fill(3);
    let afterCall = false;
    const flushed = mapping.flush().then((result) => [result, afterCall]);
    afterCall = true; // runs before the promise settles: flush() did not block
    assert.deepEqual(await flushed, [true, true]);
    assert.ok(fs.readFileSync(file).every((byte) => byte === 3));
  } finally {
    remove(file);
  }
});

test("flush() lets a timer run while it is pending", async () => {
  const file = tempFile("flush-timer", new Uint8Array(4 * PAGE));
  try {
    using mapping = open(file, { mode: "rw" });
    mapping.fill(1);
    let ticked = false;
    const timer = new Promise<void>((resolve) => setTimeout(() => (ticked = true, resolve()), 0));
    const flushed = mapping.flush({ offset: PAGE, length: PAGE, invalidate: true });
    await Promise.all([timer, flushed]);
    assert.equal(ticked, true);
    assert.equal(await flushed, true);
  } finally {
    remove(file);
  }
});

test("unmap() during a flush detaches at once and frees the memory after it", async () => {
  const file = tempFile("flush-unmap", new Uint8Array(8 * PAGE));
  try {
    const mapping = open(file, { mode: "rw" });
    mapping.fill(5);
    const flushed = mapping.flush();
    assert.equal(mapping.unmap(), true);
    assert.equal(mapping.length, 0);
    assert.equal(await flushed, true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(mappingsOf(file), 0);
    assert.ok(fs.readFileSync(file).every((byte) => byte === 5));
  } finally {
    remove(file);
  }
});

test("flush() after unmap resolves to false", async () => {
  const mapping = anonymous(PAGE);
  mapping.unmap();
  assert.equal(await mapping.flush(), false);
});

test("advise() accepts every advice name the OS offers that keeps data", () => {
  using mapping = anonymous(4 * PAGE);
  for (const name of ["normal", "random", "sequential", "willneed"]) {
    assert.equal(mapping.advise(name), true, name);
  }
  assert.equal(mapping.advise(MADV_NORMAL, { offset: 10, length: 100 }), true);
  assert.ok("dontneed" in ADVICE);
});

test("advise() refuses advice the OS does not offer", () => {
  using mapping = anonymous(PAGE);
  assert.throws(() => mapping.advise("hwpoison"), RangeError);
  assert.throws(() => mapping.advise(100), RangeError);
  assert.throws(() => mapping.advise({} as never), TypeError);
  assert.throws(() => mapping.advise("normal", { offset: PAGE + 1 }), RangeError);
});

test('advise("dontneed") on private anonymous memory drops its residency', () => {
  using mapping = anonymous(16 * PAGE);
  mapping.fill(1);
  assert.deepEqual(mapping.residency(), { pages: 16, resident: 16 });
  mapping.advise("dontneed");
  assert.equal(mapping.residency().resident, 0);
  assert.equal(mapping[0], 0, "private pages read zero after dontneed");
});

test("residency() reports a bitmap of resident pages", () => {
  using mapping = anonymous(4 * PAGE);
  mapping[0] = 1;
  mapping[2 * PAGE] = 1;
  const report = mapping.residency({ bitmap: true });
  assert.deepEqual([...report.bitmap!], [1, 0, 1, 0]);
  assert.equal(report.resident, 2);
  assert.deepEqual(mapping.residency({ offset: PAGE, length: 2 * PAGE }), {
    pages: 2,
    resident: 1,
  });
});

test("lock() and unlock() a range", () => {
  using mapping = anonymous(4 * PAGE);
  assert.equal(mapping.lock({ offset: PAGE, length: PAGE }), true);
  assert.equal(mapping.residency({ offset: PAGE, length: PAGE }).resident, 1);
  assert.equal(mapping.unlock({ offset: PAGE, length: PAGE }), true);
});

test("methods on an unmapped mapping throw ERR_MMAP_UNMAPPED", () => {
  const mapping = anonymous(PAGE);
  mapping.unmap();
  for (
    const call of [() => mapping.lock(), () => mapping.advise("normal"), () => mapping.residency()]
  ) {
    assert.equal(throwsKind(call, MmapError).code, "ERR_MMAP_UNMAPPED");
  }
  assert.throws(() => mapping.protect("r"), MmapError);
  assert.throws(() => mapping.resize(2 * PAGE), MmapError);
});

test('protect("none") then protect("rw") makes a page readable again', () => {
  using mapping = anonymous(2 * PAGE);
  mapping[PAGE] = 42;
  assert.equal(mapping.protect("none"), true);
  assert.equal(mapping.protection, mmap.PROT_NONE);
  assert.equal(mapping.protect("rw"), true);
  assert.equal(mapping.protection, mmap.PROT_READ | mmap.PROT_WRITE);
  assert.equal(mapping[PAGE], 42);
  mapping[PAGE] = 43;
  assert.equal(mapping.protect(mmap.PROT_READ | mmap.PROT_WRITE), true);
  assert.throws(() => mapping.protect("w" as never), RangeError);
  assert.throws(() => mapping.protect(64), RangeError);
});

test("resize() grows a file mapping, its file, and keeps the data", () => {
  const file = tempFile("resize", "keep me");
  try {
    const small = open(file, { mode: "rw" });
    const big = small.resize(10 * PAGE);
    assert.equal(small.mapped, false);
    assert.equal(small.length, 0, "the old mapping is detached");
    assert.equal(big.length, 10 * PAGE);
    assert.equal(new TextDecoder().decode(big.subarray(0, 7)), "keep me");
    assert.equal(fs.statSync(file).size, 10 * PAGE);
    big[10 * PAGE - 1] = 9;
    big.sync();
    assert.equal(fs.readFileSync(file)[10 * PAGE - 1], 9);
    assert.equal(big.mode, "rw");
    big.unmap();
  } finally {
    remove(file);
  }
});

test("resize() keeps a read-only file mapping within its file", () => {
  const file = tempFile("resize-r", new Uint8Array(3 * PAGE).fill(4));
  try {
    const small = open(file, { length: PAGE });
    assert.throws(() => small.resize(4 * PAGE), RangeError);
    assert.equal(small.mapped, true, "a refused resize leaves the mapping alone");
    const whole = small.resize(3 * PAGE);
    assert.equal(whole[3 * PAGE - 1], 4);
    whole.unmap();
  } finally {
    remove(file);
  }
});

test("resize() grows and shrinks private anonymous memory, keeping its data", () => {
  const first = anonymous(PAGE);
  first[100] = 7;
  const grown = first.resize(64 * PAGE);
  assert.equal(grown[100], 7);
  grown[64 * PAGE - 1] = 1;
  const shrunk = grown.resize(10);
  assert.equal(shrunk.length, 10);
  assert.equal(shrunk[9], 0);
  shrunk.unmap();
});

test("resize() keeps the protection set with protect()", () => {
  const first = anonymous(PAGE);
  first.protect("r");
  const grown = first.resize(2 * PAGE);
  assert.equal(grown.protection, mmap.PROT_READ);
  grown.protect("rw");
  grown[PAGE] = 1;
  grown.unmap();
});

test("resize() refuses to grow shared anonymous memory", () => {
  using shared = anonymous(PAGE, { shared: true });
  assert.throws(() => shared.resize(2 * PAGE), RangeError);
  assert.equal(shared.mapped, true);
});

test("resize() grows a shared-memory object", () => {
  const name = shmName("resize");
  try {
    const region = shm.open(name, PAGE);
    region[0] = 8;
    const bigger = region.resize(4 * PAGE);
    assert.equal(bigger[0], 8);
    assert.equal(bigger.name, name);
    assert.equal(fs.statSync(`/dev/shm${name}`).size, 4 * PAGE);
    bigger.unmap();
  } finally {
    shm.unlink(name);
  }
});

test("resize() of a caller's descriptor mapping is a TypeError", () => {
  const file = tempFile("resize-fd", new Uint8Array(PAGE));
  const fd = fs.openSync(file, "r");
  try {
    using mapping = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd);
    assert.throws(() => mapping.resize(2 * PAGE), TypeError);
    assert.throws(() => mapping.resize(0), RangeError);
  } finally {
    fs.closeSync(fd);
    remove(file);
  }
});

test("mappings from the node API report path, offset, mode and sharing", () => {
  const file = tempFile("info", new Uint8Array(2 * PAGE));
  try {
    using mapping = mmap(PAGE, mmap.PROT_READ, mmap.MAP_PRIVATE, file, PAGE);
    assert.equal(mapping.path, file);
    assert.equal(mapping.offset, PAGE);
    assert.equal(mapping.mode, "r");
    assert.equal(mapping.shared, false);
    assert.equal(mapping.protection, mmap.PROT_READ);
  } finally {
    remove(file);
  }
});
