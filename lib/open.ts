/**
 * `open()`: a file by path or `file:` URL, mapped read-only, read/write or as a private copy.
 *
 * @module
 */
import {
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";
import { withFile } from "./file.ts";
import * as call from "./native_call.ts";
import {
  createMapping,
  Mapping,
  type MappingClass,
  type MappingMode,
  type Origin,
  osProtection,
} from "./mapping.ts";
import { fileURLToPath } from "node:url";
import { argumentError, rangeError, typeError } from "./errors.ts";
import { bytes, choice, flag, optionBag } from "./options.ts";
import { prepare } from "./prepare.ts";
import { checkLength, fileName, show } from "./validate.ts";

/** Options of {@linkcode open}. */
export interface OpenOptions {
  /**
   * `"r"` read-only (default; the buffer is immutable where the runtime supports it),
   * `"rw"` shared read/write (writes reach the file), or `"copy"` private copy-on-write (writes
   * stay in this process).
   */
  mode?: MappingMode;
  /** Where to start in the file: any byte offset (default 0). */
  offset?: number;
  /** How many bytes to map (default: to the end of the file). */
  length?: number;
  /** With `"rw"`: create the file if missing and grow it to this many bytes if shorter. */
  size?: number;
  /** Pre-fault the pages now (`MAP_POPULATE` on Linux, `"willneed"` advice elsewhere). */
  populate?: boolean;
  /** Lock the pages in memory (`mlock`) from the start. */
  lock?: boolean;
}

const OPEN_KEYS = ["mode", "offset", "length", "size", "populate", "lock"] as const;

/** The modes of {@linkcode open}. */
export const MODES = ["r", "rw", "copy"] as const;

/** A path argument: a string or a `file:` URL. */
export function pathOf(path: unknown): string {
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw argumentError(
        "type",
        "ERR_MMAP_INVALID_VALUE",
        `mmap: only file: URLs can be mapped, got ${path.protocol}`,
      );
    }
    return fileName(fileURLToPath(path));
  }
  if (typeof path !== "string") {
    throw typeError(`mmap: path must be a string or a file: URL, got ${show(path)}`);
  }
  return fileName(path);
}

/** A length option that must not be 0 (leave it out for "to the end"). */
export function positiveLength(value: number | undefined, name: string): number | undefined {
  if (value === 0) {
    throw rangeError(
      `mmap: option ${name} must be greater than 0; leave it out to map to the end of the file`,
    );
  }
  if (value !== undefined) checkLength(value);
  return value;
}

/**
 * Where a file mapped in `mode` comes from. A write to a read-only page kills the process
 * with SIGSEGV, and built-ins (`TextEncoder.encodeInto`, `crypto.getRandomValues`) write even
 * into immutable buffers; so `"r"` maps private pages, readable and writable: a write that
 * gets past immutability (or where the runtime has none) changes only this process's copy,
 * never the file. Its protection as the caller sees it stays `PROT_READ`.
 */
function fileOrigin(path: string, mode: MappingMode, offset: number, populate: boolean): Origin {
  const flags = mode === "rw" ? MAP_SHARED : MAP_PRIVATE | (mode === "r" ? MAP_NORESERVE : 0);
  // MAP_POPULATE faults private writable pages in for writing, copying each: "r" reads its
  // pages in afterwards instead (see prepare()).
  const prefault = populate && mode !== "r" ? MAP_POPULATE ?? 0 : 0;
  return {
    kind: "file",
    path,
    offset,
    flags: flags | prefault,
    protection: mode === "r" ? PROT_READ : PROT_READ | PROT_WRITE,
    mode,
  };
}

/** Maps a file by name with checked options, as an instance of `Kind`. */
export function openAs<M extends Mapping>(
  path: unknown,
  options: unknown,
  Kind: MappingClass<M>,
): M {
  const file = pathOf(path);
  const bag = optionBag(options, OPEN_KEYS, "open()");
  const mode = choice(bag, "mode", MODES, "r");
  const offset = bytes(bag, "offset") ?? 0;
  const length = positiveLength(bytes(bag, "length"), "length");
  const size = bytes(bag, "size");
  const populate = flag(bag, "populate", false);
  const lock = flag(bag, "lock", false);
  if (size !== undefined && mode !== "rw") {
    throw argumentError(
      "type",
      "ERR_MMAP_INVALID_VALUE",
      'mmap: option size (create and grow the file) needs mode "rw"',
    );
  }
  // What the runtime cannot hold is refused before the file is created or grown.
  if (size !== undefined && length === undefined) checkLength(Math.max(0, size - offset));
  const origin = fileOrigin(file, mode, offset, populate);
  const mapped = withFile(file, mode === "rw", size !== undefined, ({ fd }) =>
    call.map({
      kind: "file",
      path: file,
      fd,
      protection: osProtection(origin),
      flags: origin.flags,
      offset,
      length: length ?? 0,
      growTo: size ?? 0,
      emptyIsFine: true,
    }));
  const mapping = createMapping(Kind, mapped, origin, mode === "r");
  return prepare(mapping, populate, lock, mode === "r");
}

/**
 * Maps a file. The result is a {@linkcode Mapping}: a `Uint8Array` over the file's pages with
 * `unmap()`, `sync()`, `flush()`, `advise()`, `lock()`, `protect()`, `residency()` and
 * `resize()`, unmapped at the end of a `using` block. An empty file gives an empty mapping.
 *
 * @param path A file path or a `file:` URL.
 * @param options `mode` (`"r"`, `"rw"`, `"copy"`), `offset`, `length`, `size`, `populate`,
 *   `lock`; see {@linkcode OpenOptions}. Unknown options are refused.
 * @throws {TypeError | RangeError} for bad arguments, before any system call.
 * @throws {MmapError} when the OS refuses (`code`, `errno`, `syscall`, `path`).
 *
 * @example Count the lines of a file without reading it into memory
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { open } from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `open-example-${process.pid}.txt`);
 * writeFileSync(path, "one\ntwo\nthree\n");
 * using text = open(path);
 * let lines = 0;
 * for (const byte of text) if (byte === 10) lines++;
 * console.log(lines); // 3
 * ```
 */
export function open(path: string | URL, options?: OpenOptions): Mapping {
  return openAs(path, options, Mapping);
}
