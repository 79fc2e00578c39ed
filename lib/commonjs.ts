/**
 * What `require()` returns: the node `mmap` package's function, as `require("mmap")` returned
 * it, so CommonJS code written for that package works with only the name changed; the rest of
 * the library rides on it (`const { open } = require(...)`). ES modules see it as the export
 * named `"module.exports"`, the name Node and Bun give `require()` of an ES module.
 *
 * @module
 */
import api, { map_shm, mmap, type MmapFunction } from "./node_api.ts";
import { immutableBuffers, Mapping, SharedMemoryMapping } from "./mapping.ts";
import { open } from "./open.ts";
import { anonymous } from "./anonymous.ts";
import { shm } from "./shm.ts";
import { Window, windows } from "./windows.ts";
import { MmapError } from "./errors.ts";
import {
  ADVICE,
  MADV_DONTNEED,
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MAP_POPULATE,
} from "./constants.ts";

/** The node API's function with every other export of the library on it. */
export interface CommonJsExports extends MmapFunction {
  /** The ES module's default export (the node API), for code that asks for `.default`. */
  readonly default: MmapFunction;
  /** See {@linkcode mmap}. */
  readonly mmap: typeof mmap;
  /** Maps a file by path; see `open`. */
  readonly open: typeof open;
  /** Maps anonymous memory; see `anonymous`. */
  readonly anonymous: typeof anonymous;
  /** POSIX shared memory by name; see `shm`. */
  readonly shm: typeof shm;
  /** Maps a file window by window; see `windows`. */
  readonly windows: typeof windows;
  /** The class of every mapping. */
  readonly Mapping: typeof Mapping;
  /** The class of shared-memory mappings. */
  readonly SharedMemoryMapping: typeof SharedMemoryMapping;
  /** The class of the mappings `windows` yields. */
  readonly Window: typeof Window;
  /** The error thrown when the OS refuses. */
  readonly MmapError: typeof MmapError;
  /** True where read-only mappings can be immutable. */
  readonly immutableBuffers: boolean;
  /** Advice names and their `MADV_*` values on this OS. */
  readonly ADVICE: Readonly<Record<string, number>>;
  /** `MAP_POPULATE` where the OS has it. */
  readonly MAP_POPULATE: number | undefined;
  /** No special treatment. */
  readonly MADV_NORMAL: number;
  /** Expect random access. */
  readonly MADV_RANDOM: number;
  /** Expect sequential access. */
  readonly MADV_SEQUENTIAL: number;
  /** Expect access soon. */
  readonly MADV_WILLNEED: number;
  /** Do not expect access soon. */
  readonly MADV_DONTNEED: number;
}

/** The value `require()` of this library returns. */
export const commonjs: CommonJsExports = Object.freeze(Object.assign(
  (
    n_bytes: number,
    protection: number,
    flags: number,
    fd: number | string,
    offset?: number,
  ) => mmap(n_bytes, protection, flags, fd, offset),
  api,
  {
    default: api,
    mmap,
    map_shm,
    open,
    anonymous,
    shm,
    windows,
    Mapping,
    SharedMemoryMapping,
    Window,
    MmapError,
    immutableBuffers,
    ADVICE,
    MAP_POPULATE,
    MADV_NORMAL,
    MADV_RANDOM,
    MADV_SEQUENTIAL,
    MADV_WILLNEED,
    MADV_DONTNEED,
  },
));
