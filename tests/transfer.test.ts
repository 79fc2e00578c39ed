// Moving a mapped buffer with structuredClone, postMessage or transfer(): the memory goes with
// it (its release hook follows it) and the original Mapping refuses to unmap it; where the
// runtime refuses to move a buffer over foreign memory to another owner (Node: DataCloneError),
// the mapping stays as it was. Importing the library changes none of the runtime's functions.
import assert from "node:assert/strict";
import { anonymous, type Mapping, MmapError } from "../mod.ts";
import process from "node:process";
import { locateLibrary } from "../bindings/native.ts";
import { root, runSource, runtime, test } from "./harness.ts";

/** What `body` throws (undefined if nothing). */
function catching(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A transfer list that can be read only once (the DOM types want an array; runtimes take any). */
function onceList(...items: ArrayBuffer[]): Transferable[] {
  return (function* () {
    yield* items;
  })() as unknown as Transferable[];
}

/** Checks that a refused move left the mapping whole and usable, then unmaps it. */
function assertRefused(mapping: Mapping, error: unknown): void {
  assert.ok(error instanceof Error && error.name === "DataCloneError", String(error));
  assert.equal(mapping.length, 4096, "the mapping keeps its buffer");
  assert.equal(mapping.mapped, true);
  assert.equal(mapping.unmap(), true);
}

test("structuredClone moves a mapped buffer named by a generator as its transfer list", () => {
  const mapping = anonymous(4096);
  mapping[0] = 9;
  if (!runtime.transfersForeignBuffers) {
    const list = onceList(mapping.buffer as ArrayBuffer);
    assertRefused(mapping, catching(() => structuredClone(mapping.buffer, { transfer: list })));
    return;
  }
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
    if (!runtime.transfersForeignBuffers) {
      const buffer = mapping.buffer as ArrayBuffer;
      assertRefused(mapping, catching(() => port1.postMessage(buffer, [buffer])));
      return;
    }
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

test("transfer() moves a mapped buffer on every runtime; unmap() then refuses", () => {
  const mapping = anonymous(4096);
  mapping[100] = 5;
  const moved = new Uint8Array((mapping.buffer as ArrayBuffer).transfer());
  assert.equal(moved[100], 5, "the new buffer reads the memory");
  assert.equal(mapping.length, 0, "the original is detached");
  assert.throws(
    () => mapping.unmap(),
    (error) => error instanceof MmapError && error.code === "ERR_MMAP_DETACHED",
  );
  moved[0] = 1; // still mapped: the new buffer owns it
  assert.equal(moved[0], 1);
});

test("importing the library replaces no built-in and adds no global", () => {
  // Captured before the import, in a child, since a static import is hoisted. Deno's own
  // Node-API loader defines a global (nodeBootstrap) the first time any addon loads, so the
  // child loads one the plain way first: what is left to see is the library's doing.
  const library = locateLibrary(process.env.MMAP_FFI_LIB).path;
  const result = runSource(
    runtime,
    `
import process from "node:process";
import { Buffer } from "node:buffer";
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
  bufferPrototype: Reflect.ownKeys(Buffer.prototype).map(String).join(),
  bufferStatics: Reflect.ownKeys(Buffer).map(String).join(),
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
