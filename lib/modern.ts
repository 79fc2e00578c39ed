/**
 * The modern API: `open()`, `anonymous()`, `shm.open()`/`shm.unlink()` and `windows()`, with
 * option objects instead of flag arithmetic.
 *
 * @module
 */
import { statSync } from "node:fs";
import { native } from "../bindings/load.ts";
import {
  abi,
  MAP_ANONYMOUS,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";
import { failure } from "./errors.ts";
import {
  adopt,
  checkLength,
  emptyMapping,
  immutableBuffers,
  Mapping,
  type MappingClass,
  type MappingMode,
  mapSource,
  type Origin,
  out,
  SharedMemoryMapping,
  unlinkShm,
} from "./mapping.ts";
import { bytes, choice, flag, optionBag } from "./options.ts";
import { fileName, shmName, show } from "./validate.ts";

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

/** Options of {@linkcode anonymous}. */
export interface AnonymousOptions {
  /** Share the memory with child processes (`MAP_SHARED`); default false (private). */
  shared?: boolean;
  /** Pre-fault the pages now. */
  populate?: boolean;
  /** Lock the pages in memory from the start. */
  lock?: boolean;
}

/** Options of {@linkcode shm.open}. */
export interface ShmOptions {
  /** Create the object if it does not exist (default true). */
  create?: boolean;
  /** With `create`: fail with `EEXIST` if it already exists (default false). */
  exclusive?: boolean;
  /** Permission bits when created (default `0o600`: only this user). */
  mode?: number;
}

/** Options of {@linkcode windows}. */
export interface WindowsOptions {
  /** Bytes per window (the last one may be shorter). Required. */
  size: number;
  /** `"r"` (default), `"rw"` or `"copy"`, as for {@linkcode open}. */
  mode?: MappingMode;
  /** Where the first window starts (default 0). */
  offset?: number;
  /** How many bytes to cover in all (default: to the end of the file). */
  length?: number;
}

const OPEN_KEYS = ["mode", "offset", "length", "size", "populate", "lock"] as const;
const MODES = ["r", "rw", "copy"] as const;

function pathOf(path: unknown): string {
  if (path instanceof URL) {
    if (path.protocol !== "file:") {
      throw new TypeError(`mmap: only file: URLs can be mapped, got ${path.protocol}`);
    }
    return fileName(decodeURIComponent(path.pathname));
  }
  if (typeof path !== "string") {
    throw new TypeError(`mmap: path must be a string or a file: URL, got ${show(path)}`);
  }
  return fileName(path);
}

function positiveLength(value: number | undefined, name: string): number | undefined {
  if (value === 0) {
    throw new RangeError(
      `mmap: option ${name} must be greater than 0; leave it out to map to the end of the file`,
    );
  }
  if (value !== undefined) checkLength(value);
  return value;
}

/** Pre-faults and locks a new mapping as asked; unmaps it if locking fails. */
function prepare<M extends Mapping>(mapping: M, populate: boolean, lock: boolean): M {
  try {
    if (populate && MAP_POPULATE === undefined) mapping.advise("willneed");
    if (lock) mapping.lock();
  } catch (error) {
    mapping.unmap();
    throw error;
  }
  return mapping;
}

/** Maps a file by name with checked options, as an instance of `Kind`. */
function openAs<M extends Mapping>(path: unknown, options: unknown, Kind: MappingClass<M>): M {
  const file = pathOf(path);
  const bag = optionBag(options, OPEN_KEYS, "open()");
  const mode = choice(bag, "mode", MODES, "r");
  const offset = bytes(bag, "offset") ?? 0;
  const length = positiveLength(bytes(bag, "length"), "length");
  const size = bytes(bag, "size");
  const populate = flag(bag, "populate", false);
  const lock = flag(bag, "lock", false);
  if (size !== undefined && mode !== "rw") {
    throw new TypeError('mmap: option size (create and grow the file) needs mode "rw"');
  }
  native.checkPathAccess(file, mode === "rw");
  // A write to a read-only mapping kills the process with SIGSEGV. Where the buffer can be
  // made immutable, writes throw TypeError instead; elsewhere "r" maps a private copy-on-write
  // view, so a stray write changes only this process's copy, never the file.
  const privateRead = mode === "r" && !immutableBuffers;
  const origin: Origin = {
    kind: "file",
    path: file,
    offset,
    flags: (mode === "copy" || privateRead ? MAP_PRIVATE : MAP_SHARED) |
      (privateRead ? MAP_NORESERVE : 0) | (populate ? MAP_POPULATE ?? 0 : 0),
    protection: mode === "r" && !privateRead ? PROT_READ : PROT_READ | PROT_WRITE,
    mode,
  };
  const openFlags = mode === "rw" ? abi.OPEN_WRITE | (size !== undefined ? abi.OPEN_CREATE : 0) : 0;
  const status = mapSource(origin, length ?? 0, openFlags, size ?? 0);
  if (status !== 0) {
    const error = failure(status, { path: file, offset, length: length ?? 0, out });
    if ((error as { code?: string }).code === "ERR_MMAP_EMPTY_FILE") {
      return emptyMapping(origin, Kind);
    }
    throw error;
  }
  return prepare(adopt(origin, Kind, { immutable: mode === "r" }), populate, lock);
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
 * import { open } from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "one\ntwo\nthree\n");
 * using text = open(path);
 * let lines = 0;
 * for (const byte of text) if (byte === 10) lines++;
 * console.log(lines); // 3
 * ```
 */
export function open(path: string | URL, options?: OpenOptions): Mapping {
  return openAs(path, options, Mapping);
}

/**
 * Maps anonymous memory: zero-filled, backed by no file; `shared: true` shares it with child
 * processes. Size 0 gives an empty mapping.
 *
 * @example
 * ```ts
 * import { anonymous } from "./mod.ts";
 *
 * using scratch = anonymous(1 << 20);
 * scratch.fill(7);
 * ```
 */
export function anonymous(size: number, options?: AnonymousOptions): Mapping {
  const length = bytes({ size }, "size") ?? 0;
  const bag = optionBag(options, ["shared", "populate", "lock"], "anonymous()");
  const shared = flag(bag, "shared", false);
  const populate = flag(bag, "populate", false);
  const lock = flag(bag, "lock", false);
  checkLength(length);
  const origin: Origin = {
    kind: "anonymous",
    path: null,
    offset: 0,
    flags: (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
      (populate ? MAP_POPULATE ?? 0 : 0),
    protection: PROT_READ | PROT_WRITE,
  };
  if (length === 0) return emptyMapping(origin, Mapping);
  const status = mapSource(origin, length, 0, 0);
  if (status !== 0) throw failure(status, { length, out });
  return prepare(adopt(origin, Mapping, { immutable: false }), populate, lock);
}

function openShm(name: string, size: number, options?: ShmOptions): SharedMemoryMapping {
  const object = shmName(name);
  const length = bytes({ size }, "size") ?? 0;
  const bag = optionBag(options, ["create", "exclusive", "mode"], "shm.open()");
  const create = flag(bag, "create", true);
  const exclusive = flag(bag, "exclusive", false);
  const permissions = bag.mode === undefined ? 0o600 : bag.mode;
  if (typeof permissions !== "number") {
    throw new TypeError(
      `mmap: option mode must be a number such as 0o600, got ${show(permissions)}`,
    );
  }
  if (!Number.isInteger(permissions) || permissions < 0 || permissions > 0o777) {
    throw new RangeError(
      `mmap: option mode must be permission bits from 0 to 0o777, got ${permissions}`,
    );
  }
  if (exclusive && !create) throw new TypeError("mmap: option exclusive needs create");
  checkLength(length);
  const origin: Origin = {
    kind: "shm",
    path: object,
    offset: 0,
    flags: MAP_SHARED,
    protection: PROT_READ | PROT_WRITE,
  };
  const openFlags = abi.OPEN_WRITE | (create ? abi.OPEN_CREATE : 0) |
    (exclusive ? abi.OPEN_EXCLUSIVE : 0);
  const status = mapSource(origin, length, openFlags, length, permissions);
  if (status !== 0) {
    const error = failure(status, { path: object, length, out });
    if ((error as { code?: string }).code === "ERR_MMAP_EMPTY_FILE") {
      return emptyMapping(origin, SharedMemoryMapping);
    }
    throw error;
  }
  return adopt(origin, SharedMemoryMapping, { immutable: false });
}

/**
 * POSIX shared memory by name: any process (Deno, Bun, C) that opens the same name sees the
 * same bytes, and `Atomics` on an `Int32Array` over them work across processes.
 *
 * @example
 * ```ts
 * import { shm } from "./mod.ts";
 *
 * using region = shm.open("/my-app-counter", 4096);
 * Atomics.add(new Int32Array(region.buffer, 0, 1), 0, 1);
 * shm.unlink("/my-app-counter");
 * ```
 */
export const shm: {
  /**
   * Opens (by default creating) the shared-memory object `name` (`/name`; the slash is added
   * if missing), grows it to `size` bytes if smaller (0: map it as it is), and maps it shared
   * and read/write. Options: `create` (default true), `exclusive`, `mode` (default 0o600).
   */
  open(name: string, size: number, options?: ShmOptions): SharedMemoryMapping;
  /** Removes the name of a shared-memory object and returns `true`; mappings stay valid. */
  unlink(name: string): boolean;
} = Object.freeze({
  open: openShm,
  unlink(name: string): boolean {
    unlinkShm(shmName(name));
    return true;
  },
});

/**
 * One window of a file from {@linkcode windows}: unmapped when the loop moves on, unless
 * {@linkcode Window.keep} was called.
 *
 * @example Keep the windows that matter
 * ```ts
 * import { type Window, windows } from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "x".repeat(10_000) + "!");
 * const hits: Window[] = [];
 * for (const window of windows(path, { size: 4096 })) {
 *   if (window.includes(33)) hits.push(window.keep());
 * }
 * console.log(hits.length); // 1
 * hits.forEach((window) => window.unmap());
 * ```
 */
export class Window extends Mapping {
  #kept = false;

  /** Keeps this window mapped after the loop moves on (unmap it yourself). */
  keep(): this {
    this.#kept = true;
    return this;
  }

  /** True once {@linkcode Window.keep} was called. */
  get kept(): boolean {
    return this.#kept;
  }
}

/**
 * Maps a file of any size one window at a time: consecutive mappings of `size` bytes (the last
 * may be shorter), each unmapped when the loop moves on unless kept. With it Bun, whose
 * ArrayBuffers stop at 4 GiB, can scan a file of any size.
 *
 * @example Count the newlines of a large file
 * ```ts
 * import { windows } from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "a\nb\n");
 * let lines = 0;
 * for (const window of windows(path, { size: 64 << 20 })) {
 *   for (let i = 0; i < window.length; i++) if (window[i] === 10) lines++;
 * }
 * console.log(lines); // 2
 * ```
 */
export function* windows(path: string | URL, options: WindowsOptions): Generator<Window, void> {
  const file = pathOf(path);
  const bag = optionBag(options, ["size", "mode", "offset", "length"], "windows()");
  const size = positiveLength(bytes(bag, "size"), "size");
  if (size === undefined) throw new TypeError("mmap: windows() needs the option size");
  const mode = choice(bag, "mode", MODES, "r");
  const start = bytes(bag, "offset") ?? 0;
  const length = bytes(bag, "length");
  native.checkPathAccess(file, mode === "rw");
  const total = statSync(file).size;
  const end = length === undefined ? total : Math.min(total, start + length);
  for (let at = start; at < end; at += size) {
    const window = openAs(file, { mode, offset: at, length: Math.min(size, end - at) }, Window);
    try {
      yield window;
    } finally {
      if (!window.kept) window.unmap();
    }
  }
}
