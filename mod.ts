/**
 * Memory-mapped files and POSIX shared memory for Deno and Bun.
 *
 * Every call returns a {@linkcode Mapping}: a real `Uint8Array` over the mapped pages (no copy)
 * with `unmap()` (or `using`), `sync()`, `flush()`, `advise()`, `lock()`, `protect()`,
 * `residency()` and `resize()`. New code uses {@linkcode open}, {@linkcode anonymous},
 * {@linkcode shm} and {@linkcode windows}. The default export is the API of the node `mmap`
 * package (v3), `mmap(n_bytes, protection, flags, fd | filename, offset)` with `map`, `map_shm`
 * and the OS constants on it, for ported code. Deno needs `--allow-ffi`, plus `--allow-read`
 * (and `--allow-write` for writable mappings) on files mapped by name.
 *
 * @example Write a file through a shared mapping, then read it back
 * ```ts
 * import { open } from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * {
 *   using page = open(path, { mode: "rw", size: 4096 });
 *   page.set(new TextEncoder().encode("hello"));
 *   page.sync();
 * }
 * using text = open(path, { length: 5 });
 * console.log(new TextDecoder().decode(text)); // "hello"
 * ```
 *
 * @module
 */
import { map_shm, mmap } from "./lib/compat.ts";
import {
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
} from "./lib/constants.ts";

export { map_shm, mmap };
export {
  immutableBuffers,
  Mapping,
  type MappingMode,
  type Origin,
  type Residency,
  type ResidencyOptions,
  SharedMemoryMapping,
  type SyncOptions,
} from "./lib/mapping.ts";
export {
  anonymous,
  type AnonymousOptions,
  open,
  type OpenOptions,
  shm,
  type ShmOptions,
  Window,
  windows,
  type WindowsOptions,
} from "./lib/modern.ts";
export type { Range } from "./lib/options.ts";
export { type FailureContext, MmapError } from "./lib/errors.ts";
export {
  ADVICE,
  MADV_DONTNEED,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MAP_POPULATE,
} from "./lib/constants.ts";
export {
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
};

/** The default export: {@linkcode mmap} with `map`, `map_shm` and the constants on it. */
export interface MmapFunction {
  /** Maps a file, descriptor or anonymous memory; see {@linkcode mmap}. */
  (
    n_bytes: number,
    protection: number,
    flags: number,
    fd: number | string,
    offset?: number,
  ): ReturnType<typeof mmap>;
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
