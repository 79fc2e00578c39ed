// Moving a mapped buffer with structuredClone or postMessage: the memory goes with it (its
// release hook follows it), the original Mapping refuses to unmap it, and importing the
// library changes none of the runtime's functions.
import assert from "node:assert/strict";
import { anonymous, MmapError } from "../mod.ts";
import process from "node:process";
import { libraryPath } from "../bindings/native.ts";
import { root, runSource, runtime, test } from "./harness.ts";

/** A transfer list that can be read only once (the DOM types want an array; runtimes take any). */
function onceList(...items: ArrayBuffer[]): Transferable[] {
  return (function* () {
    yield* items;
  })() as unknown as Transferable[];
}

test("structuredClone moves a mapped buffer named by a generator as its transfer list", () => {
  const mapping = anonymous(4096);
  mapping[0] = 9;
  const copy = new Uint8Array(
    structuredClone(mapping.buffer, { transfer: onceList(mapping.buffer as ArrayBuffer) }),
  );
  assert.equal(copy[0], 9, "the clone reads the memory");
  assert.equal(mapping.length, 0, "the original is detached");
  assert.throws(
    () => mapping.unmap(),
    (error) => error instanceof MmapError && error.code === "ERR_MMAP_DETACHED",
  );
});

test("a MessagePort moves a mapped buffer to the other port", async () => {
  const mapping = anonymous(4096);
  mapping[4095] = 7;
  const { port1, port2 } = new MessageChannel();
  try {
    const received = new Promise<ArrayBuffer>((resolve) => {
      port2.onmessage = (event) => resolve(event.data);
    });
    port1.postMessage(mapping.buffer, [mapping.buffer as ArrayBuffer]);
    const moved = new Uint8Array(await received);
    assert.equal(moved[4095], 7, "the receiving port reads the memory");
    assert.equal(mapping.length, 0, "the original is detached");
    assert.throws(
      () => mapping.unmap(),
      (error) => error instanceof MmapError && error.code === "ERR_MMAP_DETACHED",
    );
  } finally {
    port1.close();
    port2.close();
  }
});

test("importing the library replaces no built-in and adds no global", () => {
  // Captured before the import, in a child, since a static import is hoisted. Deno's own
  // Node-API loader defines a global (nodeBootstrap) the first time any addon loads, so the
  // child loads one the plain way first: what is left to see is the library's doing.
  const library = libraryPath(process.platform, process.env.MMAP_FFI_LIB);
  const result = runSource(
    runtime,
    `
import process from "node:process";
process.dlopen({ exports: {} }, ${JSON.stringify(library)});
const g = globalThis as Record<string, any>;
const watched = () => ({
  structuredClone: g.structuredClone,
  postMessage: g.postMessage,
  workerPostMessage: g.Worker?.prototype.postMessage,
  portPostMessage: g.MessagePort?.prototype.postMessage,
  transfer: ArrayBuffer.prototype.transfer,
  transferToFixedLength: ArrayBuffer.prototype.transferToFixedLength,
  arrayBufferPrototype: Object.getOwnPropertyNames(ArrayBuffer.prototype).join(),
  uint8ArrayPrototype: Object.getOwnPropertyNames(Uint8Array.prototype).join(),
  globals: Object.getOwnPropertyNames(globalThis).sort().join(),
});
const before = watched();
const { anonymous } = await import(${JSON.stringify(`${root}/mod.ts`)});
const mapping = anonymous(4096);
const after = watched();
const changed = Object.keys(before).filter((key) => before[key] !== after[key]);
console.log(JSON.stringify({ changed, prototype: Object.getPrototypeOf(mapping.buffer) === ArrayBuffer.prototype }));
mapping.unmap();
`,
  );
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { changed: [], prototype: true });
});

test("structuredClone without a transfer list copies as before", () => {
  const source = new Uint8Array([1, 2, 3]);
  const copy = structuredClone(source);
  assert.deepEqual([...copy], [1, 2, 3]);
  assert.equal(source.length, 3, "nothing was detached");
});
