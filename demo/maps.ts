/**
 * Every mapping the demo makes, in one place: a file to fill, a whole file to read, windows of a
 * file, and a shared-memory object.
 *
 * @module
 */
import { type Mapping, open, type SharedMemoryMapping, shm, type Window, windows } from "../mod.ts";

/** A mapped buffer: bytes, and the way to give them back. */
export type Mapped = Mapping;

/** A mapped shared-memory object, whose name can be removed. */
export type SharedMapped = SharedMemoryMapping;

/** The largest window one mapping may have here: Bun's ArrayBuffers stop at 4 GiB. */
export const MAX_WINDOW: number = 1 << 30;

/** Creates (sparse) or grows the file to `size` bytes and maps it for writing. */
export function mapForWriting(path: string, size: number): Mapped {
  return open(path, { mode: "rw", size });
}

/** Maps the first `length` bytes of a file by name, read-only. */
export function mapFile(path: string, length: number): Mapped {
  return open(path, { length });
}

/** The file as consecutive read-only windows of `size` bytes, each unmapped as the loop moves on. */
export function mapWindows(path: string, size: number): Generator<Window, void> {
  return windows(path, { size });
}

/** Creates (or opens) the shared-memory object `name` with at least `size` bytes and maps it. */
export function mapShared(name: string, size: number): SharedMapped {
  return shm.open(name, size);
}
