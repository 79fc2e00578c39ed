// Mapping.subarray builds its view directly (no species lookup); it must answer exactly as
// Uint8Array.prototype.subarray does, for every kind of argument.
import assert from "node:assert/strict";
import { anonymous, open } from "../mod.ts";
import { remove, tempFile, test } from "./harness.ts";

const ARGUMENTS: unknown[] = [
  undefined,
  0,
  -0,
  1,
  5,
  99,
  100,
  101,
  1e9,
  -1,
  -5,
  -100,
  -101,
  Infinity,
  -Infinity,
  NaN,
  2.7,
  -2.7,
  "3",
  "x",
  null,
  true,
  { valueOf: () => 7 },
];

type Subarray = (begin?: unknown, end?: unknown) => Uint8Array;

test("Mapping.subarray matches Uint8Array.prototype.subarray for any arguments", () => {
  using mapping = anonymous(100);
  for (let i = 0; i < mapping.length; i++) mapping[i] = i;
  const plain = new Uint8Array(100);
  plain.set(mapping);
  const ours = mapping.subarray.bind(mapping) as Subarray;
  const theirs = plain.subarray.bind(plain) as Subarray;
  for (const begin of ARGUMENTS) {
    const cases: [Uint8Array, Uint8Array, string][] = [
      [ours(begin), theirs(begin), `(${String(begin)})`],
    ];
    for (const end of ARGUMENTS) {
      cases.push([ours(begin, end), theirs(begin, end), `(${String(begin)}, ${String(end)})`]);
    }
    for (const [got, want, call] of cases) {
      assert.equal(got.constructor, Uint8Array, `subarray${call} is a plain Uint8Array`);
      assert.equal(got.buffer, mapping.buffer, `subarray${call} shares the buffer`);
      assert.equal(got.byteOffset, want.byteOffset, `subarray${call} byteOffset`);
      assert.equal(got.length, want.length, `subarray${call} length`);
    }
  }
});

test("Mapping.subarray of a mapping at an unaligned offset starts where the mapping does", () => {
  const file = tempFile("subarray", "0123456789abcdef");
  try {
    using mapping = open(file, { offset: 3, length: 10 });
    const view = mapping.subarray(2, -2);
    assert.equal(new TextDecoder().decode(view), "56789a");
    assert.equal(view.byteOffset, mapping.byteOffset + 2);
  } finally {
    remove(file);
  }
});

test("Mapping.subarray after unmap throws TypeError, as on any detached buffer", () => {
  const mapping = anonymous(4096);
  mapping.unmap();
  assert.throws(() => mapping.subarray(0, 1), TypeError);
});
