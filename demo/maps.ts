/**
 * Every mapping the demo makes, in one place: a file to fill, a window of a file to read, a
 * whole file to read, and a shared-memory object.
 *
 * @module
 */
import mmap from "../mod.ts";

/** A mapped buffer: bytes, and the way to give them back. */
export type Mapped = Uint8Array & { unmap(): boolean; sync(): boolean };

/** A mapped shared-memory object, whose name can be removed. */
export type SharedMapped = Mapped & { unlink(): boolean };

/** The largest window one mapping may have here: Bun's ArrayBuffers stop at 4 GiB. */
export const MAX_WINDOW: number = 1 << 30;

/** Creates (sparse) or grows the file to `size` bytes and maps it for writing. */
export function mapForWriting(path: string, size: number): Mapped {
  return mmap(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, path);
}

/** Maps `length` bytes of an open file from `offset` (a multiple of the page size), read-only. */
export function mapWindow(fd: number, offset: number, length: number): Mapped {
  return mmap(length, mmap.PROT_READ, mmap.MAP_SHARED, fd, offset);
}

/** Maps the first `length` bytes of a file by name, read-only. */
export function mapFile(path: string, length: number): Mapped {
  return mmap(length, mmap.PROT_READ, mmap.MAP_SHARED, path);
}

/** Creates (or opens) the shared-memory object `name` with at least `size` bytes and maps it. */
export function mapShared(name: string, size: number): SharedMapped {
  return mmap.map_shm(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, name);
}
