/**
 * Memory-mapped files and POSIX shared memory for Deno, Bun and Node (26.1 and later).
 *
 * Every call returns a {@linkcode Mapping}: a real `Uint8Array` over the mapped pages (no copy)
 * with `unmap()` (or `using`), `sync()`, `flush()`, `advise()`, `lock()`, `protect()`,
 * `residency()` and `resize()`. New code uses {@linkcode open}, {@linkcode anonymous},
 * {@linkcode shm} and {@linkcode windows}. The default export is the API of the node `mmap`
 * package (v3), `mmap(n_bytes, protection, flags, fd | filename, offset)` with `map`, `map_shm`
 * and the OS constants on it, for ported code: it returns a real `Buffer`, and `require()` of
 * this module returns it too. Deno needs `--allow-ffi`, plus `--allow-read` (and
 * `--allow-write` for writable mappings) on files mapped by name; Node under `--permission`
 * needs `--allow-ffi --allow-addons` and the matching `--allow-fs-read`/`--allow-fs-write`.
 *
 * @example Write a file through a shared mapping, then read it back
 * ```ts
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { open } from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `mod-example-${process.pid}.txt`);
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
export { default, map_shm, mmap, type MmapFunction } from "./lib/node_api.ts";
export {
  immutableBuffers,
  type MappedBuffer,
  Mapping,
  type MappingMembers,
  type MappingMode,
  type Origin,
  type Residency,
  type ResidencyOptions,
  type SharedMemoryBuffer,
  SharedMemoryMapping,
  type SyncOptions,
} from "./lib/mapping.ts";
export { open, type OpenOptions } from "./lib/open.ts";
export { anonymous, type AnonymousOptions } from "./lib/anonymous.ts";
export { shm, type ShmOptions } from "./lib/shm.ts";
export { Window, windows, type WindowsOptions } from "./lib/windows.ts";
export type { Range } from "./lib/options.ts";
export { type FailureContext, MmapError } from "./lib/errors.ts";
export {
  ADVICE,
  MADV_DONTNEED,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MAP_ANON,
  MAP_ANONYMOUS,
  MAP_POPULATE,
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
export { commonjs as "module.exports", type CommonJsExports } from "./lib/commonjs.ts";
