/**
 * The OS constants, read from the native library at load time so each OS gets its own values,
 * and the library's own ABI constants.
 *
 * @module
 */
import { native } from "../bindings/load.ts";

function readConstants(): Map<string, number> {
  const buffer = new Uint8Array(4096);
  const length = native.symbols.mmap_ffi_constants(buffer, buffer.length);
  if (length > buffer.length) {
    throw new Error(`mmap: the native library's constants need ${length} bytes; rebuild it`);
  }
  const table = new Map<string, number>();
  for (const line of new TextDecoder().decode(buffer.subarray(0, length)).split("\n")) {
    const equals = line.indexOf("=");
    if (equals > 0) table.set(line.slice(0, equals), Number(line.slice(equals + 1)));
  }
  return table;
}

const table = readConstants();

function constant(name: string): number {
  const value = table.get(name);
  if (value === undefined) {
    throw new Error(
      `mmap: the native library does not define ${name}; it is older than this module, ` +
        "rebuild it with `cargo build --release`",
    );
  }
  return value;
}

/** Pages may be read. */
export const PROT_READ: number = constant("PROT_READ");
/** Pages may be written. */
export const PROT_WRITE: number = constant("PROT_WRITE");
/** Pages may be executed. */
export const PROT_EXEC: number = constant("PROT_EXEC");
/** Pages may not be accessed at all (touching them kills the process). */
export const PROT_NONE: number = constant("PROT_NONE");
/** Writes are shared with other mappings of the same file and reach the file. */
export const MAP_SHARED: number = constant("MAP_SHARED");
/** Writes stay private to this mapping (copy-on-write); the file never changes. */
export const MAP_PRIVATE: number = constant("MAP_PRIVATE");
/** Memory backed by no file (pass fd -1). */
export const MAP_ANONYMOUS: number = constant("MAP_ANONYMOUS");
/** Alias of {@linkcode MAP_ANONYMOUS}. */
export const MAP_ANON: number = constant("MAP_ANON");
/** `sync()` waits until the pages are written. */
export const MS_SYNC: number = constant("MS_SYNC");
/** `sync()` schedules the writes and returns at once. */
export const MS_ASYNC: number = constant("MS_ASYNC");
/** `sync()` also invalidates other mappings of the file so they see fresh data. */
export const MS_INVALIDATE: number = constant("MS_INVALIDATE");
/** The size of a memory page in bytes; offsets of the compatible API are multiples of it. */
export const PAGESIZE: number = constant("PAGESIZE");

/** A constant this OS may lack (`undefined` then). */
function optional(name: string): number | undefined {
  return table.get(name);
}

/** Reserve no swap for private writable pages (internal: read-only mappings without immutable buffers). */
export const MAP_NORESERVE: number = constant("MAP_NORESERVE");

/** Pre-fault the pages when mapping (Linux only; `undefined` elsewhere). */
export const MAP_POPULATE: number | undefined = optional("MAP_POPULATE");

/**
 * The `madvise` advice this OS offers, by the name `advise()` takes (`"willneed"` for
 * `MADV_WILLNEED`). Linux adds `"hugepage"`, `"free"`, `"cold"`, `"pageout"`,
 * `"populate_read"` and more; advice that can harm the process is never offered.
 *
 * @example
 * ```ts
 * import { ADVICE } from "@mmap/mmap";
 *
 * console.log("hugepage" in ADVICE ? "transparent huge pages available" : "no THP advice");
 * ```
 */
export const ADVICE: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    [...table].filter(([name]) => name.startsWith("MADV_")).map((
      [name, value],
    ) => [name.slice(5).toLowerCase(), value]),
  ),
);

/** `madvise`: no special treatment. */
export const MADV_NORMAL: number = constant("MADV_NORMAL");
/** `madvise`: expect random access (read ahead less). */
export const MADV_RANDOM: number = constant("MADV_RANDOM");
/** `madvise`: expect sequential access (read ahead more). */
export const MADV_SEQUENTIAL: number = constant("MADV_SEQUENTIAL");
/** `madvise`: the pages will be needed soon (read them in). */
export const MADV_WILLNEED: number = constant("MADV_WILLNEED");
/** `madvise`: the pages are not needed now (private pages read zero afterwards). */
export const MADV_DONTNEED: number = constant("MADV_DONTNEED");

/** Constants of the library's ABI (not public). */
export const abi = {
  OUT_ADDRESS: constant("OUT_ADDRESS"),
  OUT_LENGTH: constant("OUT_LENGTH"),
  OUT_ID: constant("OUT_ID"),
  OUT_FILE_SIZE: constant("OUT_FILE_SIZE"),
  OUT_SYSCALL: constant("OUT_SYSCALL"),
  OUT_COUNT: constant("OUT_COUNT"),
  OUT_SLOTS: constant("OUT_SLOTS"),
  SOURCE_ANONYMOUS: constant("SOURCE_ANONYMOUS"),
  SOURCE_FILE: constant("SOURCE_FILE"),
  SOURCE_SHM: constant("SOURCE_SHM"),
  SOURCE_DESCRIPTOR: constant("SOURCE_DESCRIPTOR"),
  OPEN_WRITE: constant("OPEN_WRITE"),
  OPEN_CREATE: constant("OPEN_CREATE"),
  OPEN_EXCLUSIVE: constant("OPEN_EXCLUSIVE"),
  STATUS_INVALID_ARGUMENT: constant("STATUS_INVALID_ARGUMENT"),
  STATUS_PAST_END_OF_FILE: constant("STATUS_PAST_END_OF_FILE"),
  STATUS_EMPTY_FILE: constant("STATUS_EMPTY_FILE"),
  STATUS_NOT_LIVE: constant("STATUS_NOT_LIVE"),
  STATUS_OUT_OF_RANGE: constant("STATUS_OUT_OF_RANGE"),
  STATUS_SIZE_UNKNOWN: constant("STATUS_SIZE_UNKNOWN"),
  STATUS_CANNOT_GROW: constant("STATUS_CANNOT_GROW"),
  STATUS_MAPPING_LIMIT: constant("STATUS_MAPPING_LIMIT"),
  STATUS_NOT_A_FILE: constant("STATUS_NOT_A_FILE"),
  ERRNO_ENOMEM: constant("ERRNO_ENOMEM"),
  /** How many mappings the library keeps at most (see `src/mapping.rs`). */
  MAPPING_LIMIT: constant("MAPPING_LIMIT"),
} as const;
