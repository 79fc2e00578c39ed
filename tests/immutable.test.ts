// Read-only mappings as immutable buffers, where the runtime has them (Deno with
// --v8-flags=--js-immutable-arraybuffer, as the test task runs it; Bun has none).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { immutableBuffers, open } from "../mod.ts";
import { native } from "../bindings/load.ts";
import { collectGarbage, mappingsOf, remove, runtime, tempFile, test } from "./harness.ts";

test("immutable buffers are detected as the runtime offers them", () => {
  const detected = typeof (ArrayBuffer.prototype as { transferToImmutable?: unknown })
    .transferToImmutable === "function";
  assert.equal(immutableBuffers, detected);
  if (runtime.name === "deno") assert.equal(immutableBuffers, true, "the test task enables them");
});

test("a write to an immutable read-only mapping throws TypeError", () => {
  if (!immutableBuffers) return;
  const file = tempFile("immutable", "frozen");
  try {
    using mapping = open(file);
    assert.equal(mapping.immutable, true);
    assert.throws(() => mapping.fill(0), TypeError);
    assert.throws(() => new Uint8Array(mapping.buffer).set([1]), TypeError);
    assert.equal(fs.readFileSync(file, "utf8"), "frozen");
  } finally {
    remove(file);
  }
});

test("unmap() of an immutable mapping lets the file go; its views read zeros", () => {
  if (!immutableBuffers) return;
  const file = tempFile("immutable-unmap", "abc");
  try {
    const mapping = open(file);
    const view = mapping.subarray(1);
    assert.equal(mapping.unmap(), true);
    assert.equal(mapping.mapped, false);
    assert.equal(mappingsOf(file), 0, "the file is no longer mapped");
    assert.equal(view[0], 0);
    assert.equal(mapping.unmap(), false);
  } finally {
    remove(file);
  }
});

test("the address range of an unmapped immutable mapping is freed with its buffer", async () => {
  if (!immutableBuffers) return;
  const file = tempFile("immutable-gc", "abc");
  try {
    const live = native.symbols.mmap_ffi_live_count();
    (() => {
      for (let i = 0; i < 50; i++) open(file).unmap();
    })();
    assert.equal(native.symbols.mmap_ffi_live_count(), live + 50, "ranges kept until collected");
    for (let round = 0; round < 20 && native.symbols.mmap_ffi_live_count() > live; round++) {
      await collectGarbage();
    }
    // Earlier tests' buffers may be collected too, so the count can end below where it began.
    assert.ok(native.symbols.mmap_ffi_live_count() <= live);
  } finally {
    remove(file);
  }
});
