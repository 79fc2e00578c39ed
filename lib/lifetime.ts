/**
 * Who frees mapped memory, and when.
 *
 * - A mapping's address range goes back to the OS only when nothing in the runtime can touch
 *   it any more. The native library counts *holds* on each mapping and unmaps it with the last.
 * - The buffer over a mapping owns its first hold and drops it through a native release hook
 *   that the runtime calls when it frees the memory: after the last owner let go of it,
 *   whichever clone, transfer, Worker or pending operation that was (Bun: `toArrayBuffer`'s
 *   deallocator; Deno and Node: a Node-API external buffer's finalizer).
 * - Where the runtime's built-ins keep only the JavaScript object while they read the memory
 *   through a raw pointer (Node), the library holds the range until the buffer object is
 *   collected as well.
 * - `unmap()` ({@linkcode letGo}) detaches the buffer first, so every view reads length 0, and
 *   then lets go of the file at once: if the runtime still holds the memory (a pending
 *   operation, a buffer that cannot be detached), its pages become anonymous zero pages, so
 *   whatever still uses them touches harmless memory, never the file and never another
 *   mapping, and the range is freed when the runtime lets go.
 *
 * @module
 */
import { native } from "../bindings/load.ts";
import * as call from "./native_call.ts";
import type { Live, Mapped } from "./native_call.ts";
import { checkLength } from "./validate.ts";

const { transfer } = ArrayBuffer.prototype;
const transferToImmutable = (ArrayBuffer.prototype as { transferToImmutable?: () => ArrayBuffer })
  .transferToImmutable;

/** True where the runtime can make buffers immutable (Deno with `--js-immutable-arraybuffer`). */
export const canFreeze: boolean = typeof transferToImmutable === "function";

/** Drops the object's hold once a buffer object is collected (where built-ins need it). */
const objectHolds = native.builtinsKeepMemory
  ? null
  : new FinalizationRegistry<Live>((live) => call.release(live));

/**
 * An `ArrayBuffer` over a new mapping (immutable with `freeze`, where the runtime can), owning
 * the mapping's first hold. Throws, and gives the mapping back, if the runtime refuses.
 */
export function bufferOver(mapped: Mapped, freeze: boolean): ArrayBuffer {
  let buffer: ArrayBuffer;
  try {
    // A length of 0 ("to the end of the file") is known only now.
    checkLength(mapped.length);
    buffer = native.wrap(mapped.address, mapped.length, mapped.id);
  } catch (error) {
    call.release(mapped);
    throw error;
  }
  // The memory moves to the immutable buffer, and its release hook with it.
  if (freeze && canFreeze) buffer = transferToImmutable!.call(buffer);
  if (objectHolds !== null) {
    call.hold(mapped);
    objectHolds.register(buffer, { address: mapped.address, id: mapped.id });
  }
  return buffer;
}

/**
 * Detaches `buffer` so every view over it reads length 0 (where the runtime lets it: not a
 * buffer a built-in has pinned, nor an immutable one). Returns true if it is detached now.
 */
export function detach(buffer: ArrayBuffer): boolean {
  try {
    transfer.call(buffer, 0);
  } catch {
    // Immutable buffers cannot be detached; their views read zeros once retired.
  }
  return buffer.detached;
}

/**
 * Lets go of a mapping: detaches its buffer, then its file; the address range follows when
 * the runtime lets go of the memory (at once, usually, from inside the detach).
 */
export function letGo(buffer: ArrayBuffer, live: Live): void {
  detach(buffer);
  call.retire(live);
}
