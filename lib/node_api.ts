/**
 * The API of the node `mmap` package (v3): `mmap(n_bytes, protection, flags, fd, offset)` and
 * `map_shm(n_bytes, protection, flags, name, offset)`.
 *
 * @module
 */
import { invalidValue, rangeError, typeError } from "./errors.ts";
import {
  abi,
  MAP_ANON,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PAGESIZE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";
import { withFile } from "./file.ts";
import * as call from "./native_call.ts";
import {
  createMappedBuffer,
  createSharedMemoryBuffer,
  type MappedBuffer,
  type Origin,
  type SharedMemoryBuffer,
} from "./mapping.ts";
import {
  byteCount,
  checkLength,
  fileDescriptor,
  fileName,
  mapFlags,
  pageOffset,
  protection as checkProtection,
  shmName,
  show,
} from "./validate.ts";

/** Permission bits of shared-memory objects `map_shm` creates: owner only. */
const SHM_MODE = 0o600;

/**
 * Maps a file, a file descriptor or anonymous memory, as the node `mmap` package does.
 *
 * @param n_bytes Bytes to map; 0 maps from `offset` to the end of the file.
 * @param protection `PROT_NONE` or an OR of `PROT_READ`, `PROT_WRITE`, `PROT_EXEC`.
 * @param flags `MAP_SHARED` or `MAP_PRIVATE`, optionally OR `MAP_ANONYMOUS` (with fd -1).
 * @param fd An open file descriptor, -1 for anonymous memory, or a file name. A file name with
 *   `PROT_WRITE` is created if missing and grown to `offset + n_bytes` if shorter; the
 *   descriptor opened for it is closed once mapped.
 * @param offset Where the mapping starts in the file: 0 or a multiple of `PAGESIZE`.
 * @returns A `Buffer` over the mapped pages (no copy), with `unmap()` and `sync()`; its
 *   `slice()` and `subarray()` are views of the same pages.
 * @throws {TypeError | RangeError} for bad arguments, before any system call.
 * @throws {MmapError} when the OS refuses (`code`, `errno`, `syscall`, `path`).
 *
 * @example Map a file by descriptor, as code written for node `mmap` does
 * ```ts
 * import { closeSync, openSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import mmap from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `node-api-example-${process.pid}.txt`);
 * writeFileSync(path, "node style");
 * const fd = openSync(path, "r");
 * const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd);
 * console.log(buffer.toString()); // "node style"
 * buffer.unmap();
 * closeSync(fd);
 * ```
 */
export function mmap(
  n_bytes: number,
  protection: number,
  flags: number,
  fd: number | string,
  offset: number = 0,
): MappedBuffer {
  const checked = checkCall(n_bytes, protection, flags, offset);
  const { length, start } = checked;
  const anonymous = (checked.flags & MAP_ANONYMOUS) !== 0;
  if (typeof fd === "string") {
    const path = fileName(fd);
    if (anonymous) {
      throw invalidValue("mmap: MAP_ANONYMOUS maps no file; pass -1 as fd, not a file name");
    }
    const write = (checked.protection & PROT_WRITE) !== 0;
    // A length of 0 maps what is there, so a missing file is an error, not an empty new file.
    const create = write && length > 0;
    const origin: Origin = { ...checked.origin, kind: "file", path };
    const mapped = withFile(
      path,
      write,
      create,
      ({ fd }) => call.map({ ...origin, length, fd, growTo: create ? start + length : 0 }),
    );
    return createMappedBuffer(mapped, origin);
  }
  if (typeof fd !== "number") {
    throw typeError(
      `mmap: fd must be a file descriptor (number) or a file name (string), got ${show(fd)}`,
    );
  }
  const descriptor = fileDescriptor(fd);
  if (anonymous !== (descriptor === -1)) {
    throw rangeError(
      anonymous
        ? `mmap: MAP_ANONYMOUS needs fd -1, got ${descriptor}`
        : "mmap: fd -1 needs MAP_ANONYMOUS in flags; pass an open file descriptor or a file name",
    );
  }
  if (anonymous && (length === 0 || start !== 0)) {
    throw rangeError(
      "mmap: anonymous memory needs n_bytes greater than 0 and offset 0, " +
        `got n_bytes ${length} and offset ${start}`,
    );
  }
  const origin: Origin = { ...checked.origin, kind: anonymous ? "anonymous" : "fd" };
  const mapped = call.map({ ...origin, length, fd: descriptor });
  return createMappedBuffer(mapped, origin);
}

/** The checked arguments every call of the node API shares. */
interface CheckedCall {
  length: number;
  protection: number;
  flags: number;
  start: number;
  origin: Origin;
}

function checkCall(
  n_bytes: number,
  protection: number,
  flags: number,
  offset: number,
): CheckedCall {
  const length = byteCount(n_bytes, "n_bytes");
  const prot = checkProtection(protection);
  const mapping = mapFlags(flags);
  const start = pageOffset(offset);
  checkLength(length);
  const origin: Origin = {
    kind: "fd",
    path: null,
    offset: start,
    flags: mapping,
    protection: prot,
  };
  return { length, protection: prot, flags: mapping, start, origin };
}

/**
 * Creates or opens the POSIX shared-memory object `name` (read/write, mode 0600 when created),
 * grows it to `offset + n_bytes` bytes if smaller, and maps it. A failed call removes an object
 * it created.
 *
 * @param n_bytes Bytes to map; 0 maps the whole existing object (which must exist then).
 * @param protection As for {@linkcode mmap}.
 * @param flags `MAP_SHARED` (to share with other processes) or `MAP_PRIVATE`.
 * @param name The object's name, such as `"/my-app"` (the leading `/` is added if missing);
 *   no other `/`.
 * @param offset 0 or a multiple of `PAGESIZE`.
 * @returns A `Buffer` over the object's pages, with `unmap()`, `sync()` and `unlink()`.
 *
 * @example Share a counter between processes
 * ```ts
 * import mmap from "@mmap/mmap";
 *
 * const rw = mmap.PROT_READ | mmap.PROT_WRITE;
 * const region = mmap.map_shm(4096, rw, mmap.MAP_SHARED, "/my-app");
 * Atomics.add(new Int32Array(region.buffer, 0, 1), 0, 1);
 * region.unlink();
 * region.unmap();
 * ```
 */
export function map_shm(
  n_bytes: number,
  protection: number,
  flags: number,
  name: string,
  offset: number = 0,
): SharedMemoryBuffer {
  const checked = checkCall(n_bytes, protection, flags, offset);
  const path = shmName(name);
  if ((checked.flags & MAP_ANONYMOUS) !== 0) {
    throw invalidValue("mmap: map_shm maps a shared-memory object; leave out MAP_ANONYMOUS");
  }
  const origin: Origin = { ...checked.origin, kind: "shm", path };
  const { length, start } = checked;
  // n_bytes 0 maps the object as it is: a missing one is an error, not an empty new object.
  const mapped = call.map({
    ...origin,
    length,
    openFlags: abi.OPEN_WRITE | (length > 0 ? abi.OPEN_CREATE : 0),
    growTo: length > 0 ? start + length : 0,
    permissions: SHM_MODE,
  });
  return createSharedMemoryBuffer(mapped, origin);
}

/** The default export: {@linkcode mmap} with `map`, `map_shm` and the constants on it. */
export interface MmapFunction {
  /** Maps a file, descriptor or anonymous memory; see {@linkcode mmap}. */
  (
    n_bytes: number,
    protection: number,
    flags: number,
    fd: number | string,
    offset?: number,
  ): MappedBuffer;
  /** The same function as the default export. */
  readonly map: typeof mmap;
  /** Maps POSIX shared memory; see {@linkcode map_shm}. */
  readonly map_shm: typeof map_shm;
  /** Pages may be read. */
  readonly PROT_READ: number;
  /** Pages may be written. */
  readonly PROT_WRITE: number;
  /** Pages may be executed. */
  readonly PROT_EXEC: number;
  /** Pages may not be accessed. */
  readonly PROT_NONE: number;
  /** Writes are shared and reach the file. */
  readonly MAP_SHARED: number;
  /** Writes stay private (copy-on-write). */
  readonly MAP_PRIVATE: number;
  /** Memory backed by no file. */
  readonly MAP_ANONYMOUS: number;
  /** Alias of `MAP_ANONYMOUS`. */
  readonly MAP_ANON: number;
  /** `sync()` waits for the writes. */
  readonly MS_SYNC: number;
  /** `sync()` schedules the writes. */
  readonly MS_ASYNC: number;
  /** `sync()` also invalidates other mappings. */
  readonly MS_INVALIDATE: number;
  /** The page size in bytes. */
  readonly PAGESIZE: number;
}

/** The node `mmap` package's API: call it to map, or use its `map`, `map_shm` and constants. */
const api: MmapFunction = Object.freeze(Object.assign(
  (
    n_bytes: number,
    protection: number,
    flags: number,
    fd: number | string,
    offset?: number,
  ) => mmap(n_bytes, protection, flags, fd, offset),
  {
    map: mmap,
    map_shm,
    PROT_READ,
    PROT_WRITE,
    PROT_EXEC,
    PROT_NONE,
    MAP_SHARED,
    MAP_PRIVATE,
    MAP_ANONYMOUS,
    MAP_ANON,
    MS_SYNC,
    MS_ASYNC,
    MS_INVALIDATE,
    PAGESIZE,
  },
));

export default api;
