/**
 * The layout of the demo's shared-memory object, used by the demo and by every worker: three
 * 32-bit integers (the counter, how many workers have arrived, how many have finished) and one
 * message slot per worker.
 *
 * @module
 */

/** Bytes in the shared-memory object. */
export const SHARED_BYTES = 4096;
/** Index in the `Int32Array` of the counter every worker adds to. */
export const COUNTER = 0;
/** Index of the number of workers that have written their message and are ready to count. */
export const ARRIVED = 1;
/** Index of the number of workers that have finished counting. */
export const FINISHED = 2;

const SLOT_START = 64;
const SLOT_BYTES = 256;

/** The most workers the object has message slots for. */
export const MAX_WORKERS: number = Math.floor((SHARED_BYTES - SLOT_START) / SLOT_BYTES);

/** Int32 views over the counters. */
export function counters(bytes: Uint8Array): Int32Array {
  return new Int32Array(bytes.buffer, bytes.byteOffset, 16);
}

/** Writes a worker's message into its slot (length first, then UTF-8 bytes). */
export function writeMessage(bytes: Uint8Array, slot: number, message: string): void {
  const at = SLOT_START + slot * SLOT_BYTES;
  const { written } = new TextEncoder().encodeInto(
    message,
    bytes.subarray(at + 4, at + SLOT_BYTES),
  );
  Atomics.store(new Int32Array(bytes.buffer, bytes.byteOffset + at, 1), 0, written);
}

/** Reads the message in a worker's slot ("" if none yet). */
export function readMessage(bytes: Uint8Array, slot: number): string {
  const at = SLOT_START + slot * SLOT_BYTES;
  const length = Atomics.load(new Int32Array(bytes.buffer, bytes.byteOffset + at, 1), 0);
  return new TextDecoder().decode(bytes.subarray(at + 4, at + 4 + length));
}

/** Waits (polling every millisecond) until `index` holds at least `value`; false on timeout. */
export async function waitFor(
  view: Int32Array,
  index: number,
  value: number,
  timeoutMs = 30_000,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(view, index) < value) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return true;
}
