// Moving a mapped buffer with structuredClone or postMessage: the memory goes with it, the
// original Mapping refuses to unmap it, and the runtime's functions behave as before (on Deno
// the library watches their transfer lists; see lib/handover.ts).
import assert from "node:assert/strict";
import { anonymous, MmapError } from "../mod.ts";
import { test } from "./harness.ts";

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

test("structuredClone and postMessage keep their names", () => {
  assert.equal(structuredClone.name, "structuredClone");
  assert.equal(Worker.prototype.postMessage.name, "postMessage");
  assert.equal(MessagePort.prototype.postMessage.name, "postMessage");
});

test("structuredClone without a transfer list copies as before", () => {
  const source = new Uint8Array([1, 2, 3]);
  const copy = structuredClone(source);
  assert.deepEqual([...copy], [1, 2, 3]);
  assert.equal(source.length, 3, "nothing was detached");
});
