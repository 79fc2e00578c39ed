// windows(): consecutive mappings of a file of any size.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { type Window, windows } from "../mod.ts";
import { remove, tempFile, tempPath, test } from "./harness.ts";

test("windows() covers the file in order, the last one shorter", () => {
  const bytes = new Uint8Array(10_000).map((_, i) => i % 256);
  const file = tempFile("windows", bytes);
  try {
    const seen: number[] = [];
    const lengths: number[] = [];
    for (const window of windows(file, { size: 4096 })) {
      lengths.push(window.length);
      seen.push(...window);
    }
    assert.deepEqual(lengths, [4096, 4096, 1808]);
    assert.deepEqual(seen, [...bytes]);
  } finally {
    remove(file);
  }
});

test("each window is unmapped when the loop moves on, unless kept", () => {
  const file = tempFile("windows-keep", new Uint8Array(3 * 4096));
  try {
    const all: Window[] = [];
    for (const window of windows(file, { size: 4096 })) {
      all.push(window);
      if (all.length === 2) window.keep();
    }
    assert.deepEqual(all.map((window) => window.mapped), [false, true, false]);
    assert.equal(all[1].kept, true);
    assert.equal(all[1].unmap(), true);
  } finally {
    remove(file);
  }
});

test("breaking out of the loop unmaps the current window", () => {
  const file = tempFile("windows-break", new Uint8Array(3 * 4096));
  try {
    let last: Window | undefined;
    for (const window of windows(file, { size: 4096 })) {
      last = window;
      break;
    }
    assert.equal(last?.mapped, false);
  } finally {
    remove(file);
  }
});

test("windows() honours offset and length, at any byte", () => {
  const file = tempFile("windows-range", "0123456789abcdef");
  try {
    const parts: string[] = [];
    for (const window of windows(file, { size: 4, offset: 3, length: 10 })) {
      parts.push(new TextDecoder().decode(window));
    }
    assert.deepEqual(parts, ["3456", "789a", "bc"]);
    const text: string[] = [];
    for (const window of windows(file, { size: 5, offset: 11 })) {
      text.push(new TextDecoder().decode(window));
    }
    assert.deepEqual(text, ["bcdef"]);
  } finally {
    remove(file);
  }
});

test("windows() refuses a missing or zero size and unknown options", () => {
  const file = tempFile("windows-opts", "x");
  try {
    assert.throws(() => [...windows(file, {} as never)], TypeError);
    assert.throws(() => [...windows(file, { size: 0 })], RangeError);
    assert.throws(() => [...windows(file, { size: 1, step: 2 } as never)], TypeError);
  } finally {
    remove(file);
  }
});

test("windows() scan a sparse file larger than 4 GiB, on Bun too", () => {
  const GIB = 2 ** 30;
  const size = 5 * GIB + 123;
  const file = tempPath("windows-sparse");
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, size);
    for (let gib = 1; gib <= 5; gib++) fs.writeSync(fd, new Uint8Array([gib]), 0, 1, gib * GIB - 1);
    fs.closeSync(fd);
    const markers: number[] = [];
    let total = 0;
    for (const window of windows(file, { size: GIB })) {
      total += window.length;
      markers.push(window[window.length - 1]);
    }
    assert.equal(total, size);
    assert.deepEqual(markers, [1, 2, 3, 4, 5, 0]);
  } finally {
    remove(file);
  }
});
