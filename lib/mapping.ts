/**
 * The mapped buffer: {@linkcode Mapping}, a `Uint8Array` over the mapped pages with `unmap()`,
 * `sync()` and the modern methods, and {@linkcode SharedMemoryMapping}; and their `Buffer`
 * forms for the node `mmap` API ({@linkcode MappedBuffer}, {@linkcode SharedMemoryBuffer}).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  abi,
  ADVICE,
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
import { argumentError, invalidValue, MmapError, rangeError, typeError } from "./errors.ts";
import { bufferOver, canFreeze, detach, letGo } from "./lifetime.ts";
import { withFile } from "./file.ts";
import * as call from "./native_call.ts";
import type { Live, Mapped, MapRequest } from "./native_call.ts";
import { type Bag, flag, optionBag, type Range, range } from "./options.ts";
import {
  byteCount,
  checkLength,
  protection as checkProtection,
  show,
  syncFlags,
} from "./validate.ts";

/** How a mapping was opened: read-only, read/write and shared, or a private copy. */
export type MappingMode = "r" | "rw" | "copy";

/** Where a mapping's pages come from and how they were mapped. */
export interface Origin {
  /** A file by path, a shared-memory object by name, a caller's descriptor, or no file. */
  readonly kind: "file" | "shm" | "fd" | "anonymous";
  /** The file path or shared-memory name (`null` for a descriptor or anonymous memory). */
  readonly path: string | null;
  /** Where the view starts in the file (any byte offset). */
  readonly offset: number;
  /** The `MAP_*` flags. */
  readonly flags: number;
  /** The `PROT_*` bits the caller sees (`"r"` is read-only even where its pages are not). */
  readonly protection: number;
  /** The mode asked for, where the flags alone do not tell it. */
  readonly mode?: MappingMode;
}

/** What {@linkcode createMapping} hands a Mapping's constructor; only tokens it issued work. */
interface Token {
  readonly live: Live;
  readonly origin: Origin;
  readonly immutable: boolean;
}

/** Tokens handed out by {@linkcode createMapping} and not yet given to a Mapping. */
const issued = new WeakSet<Token>();

/**
 * True where the runtime can make read-only mappings immutable, so a write throws `TypeError`
 * (Deno with `--v8-flags=--js-immutable-arraybuffer`). Either way a read-only `open()` maps
 * private pages, so a write that gets through (from a built-in that ignores immutability)
 * changes only this process's copy, never the file, and never crashes.
 *
 * @example
 * ```ts
 * import { immutableBuffers } from "@mmap/mmap";
 *
 * console.log(immutableBuffers ? "writes to 'r' mappings throw" : "'r' mappings are private");
 * ```
 */
export const immutableBuffers: boolean = canFreeze;

const PROTECTION_NAMES: Readonly<Record<string, number>> = {
  none: PROT_NONE,
  r: PROT_READ,
  rw: PROT_READ | PROT_WRITE,
  rx: PROT_READ | PROT_EXEC,
  rwx: PROT_READ | PROT_WRITE | PROT_EXEC,
};

/** Options of {@linkcode Mapping.sync} in its modern form. */
export interface SyncOptions extends Range {
  /** Schedule the writes and return at once (`MS_ASYNC`) instead of waiting. */
  async?: boolean;
  /** Also invalidate other mappings of the file (`MS_INVALIDATE`). */
  invalidate?: boolean;
}

/** Options of {@linkcode Mapping.residency}. */
export interface ResidencyOptions extends Range {
  /** Also return one byte a page, 1 if resident. */
  bitmap?: boolean;
}

/** What {@linkcode Mapping.residency} reports. */
export interface Residency {
  /** Pages in the range (partial pages count whole). */
  pages: number;
  /** How many of them are in memory. */
  resident: number;
  /** With `bitmap: true`: one byte a page, 1 if resident. */
  bitmap?: Uint8Array;
}

const MLOCK_HINT = "the locked-memory limit (RLIMIT_MEMLOCK) may be too low: see `ulimit -l`, " +
  "raise it with `ulimit -l <KiB>` or in /etc/security/limits.conf, or give the process " +
  "CAP_IPC_LOCK";

/**
 * A memory mapping: a real `Uint8Array` over the mapped pages (no copy). Index it like any
 * `Uint8Array`; `subarray()` and `slice()` give plain `Uint8Array`s.
 *
 * Call {@linkcode Mapping.unmap} when done, or declare it with `using`. A mapping that is
 * dropped without either is unmapped once the runtime has freed its buffer.
 *
 * @example Read a file through a mapping
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { open } from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `mapping-example-${process.pid}.txt`);
 * writeFileSync(path, "hello");
 * using bytes = open(path);
 * console.log(new TextDecoder().decode(bytes)); // "hello"
 * ```
 */
export class Mapping extends Uint8Array {
  /** Derived arrays (`subarray`, `slice`, `map`, `filter`) are plain `Uint8Array`s. */
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  /**
   * True for a mapping of this class, including the `Buffer` form the node API returns (whose
   * prototype chain is `Buffer`'s): `mmap(...) instanceof Mapping` holds as it always did.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (ordinaryHasInstance.call(this, value)) return true;
    if (typeof value !== "object" || value === null || !(#live in value)) return false;
    const form = bufferForms.get(Object.getPrototypeOf(value));
    return form !== undefined && (form === this || ordinaryHasInstance.call(this, form.prototype));
  }

  /**
   * A plain `Uint8Array` view of `[begin, end)` (negative counts from the end), as
   * `Uint8Array.prototype.subarray` gives; built directly, without the species lookup, because
   * random reads call it once per read.
   */
  override subarray(begin?: number, end?: number): Uint8Array<ArrayBuffer> {
    // A detached buffer makes the constructor throw TypeError, as the built-in subarray does.
    const length = this.#length;
    const start = relativeIndex(begin, length, 0);
    const stop = end === undefined ? length : relativeIndex(end, length, length);
    return new Uint8Array(this.#buffer, this.#byteOffset + start, stop > start ? stop - start : 0);
  }

  /** The buffer, where the view starts in it and its length, read once (the getters are slow). */
  #buffer: ArrayBuffer;
  #byteOffset: number;
  #length: number;

  #live: Live | null;
  #origin: Origin;
  #protection: number;
  #immutable: boolean;
  /** Settles when every flush started so far is done (null when none is running). */
  #flushing: Promise<unknown> | null = null;

  /** @internal Use `open()`, `mmap()` and friends; a Mapping is only made by the library. */
  constructor(buffer: ArrayBuffer, token: Token) {
    if (!issued.delete(token)) {
      throw argumentError(
        "type",
        "ERR_MMAP_ILLEGAL_CONSTRUCTOR",
        "mmap: a Mapping cannot be constructed directly; call open(), anonymous(), " +
          "shm.open() or mmap(), or copy the bytes into a plain Uint8Array",
      );
    }
    super(buffer);
    this.#buffer = buffer;
    this.#byteOffset = this.byteOffset;
    this.#length = this.length;
    this.#live = token.live;
    this.#origin = token.origin;
    this.#protection = token.origin.protection;
    this.#immutable = token.immutable;
  }

  /** True until the mapping is unmapped. */
  get mapped(): boolean {
    return this.#live !== null;
  }

  /** The file path or shared-memory name, or `null` for a descriptor or anonymous memory. */
  get path(): string | null {
    return this.#origin.path;
  }

  /** Where the mapping starts in the file, in bytes. */
  get offset(): number {
    return this.#origin.offset;
  }

  /** `"r"` (read-only), `"rw"` (shared, writes reach the file) or `"copy"` (private). */
  get mode(): MappingMode {
    if (this.#origin.mode !== undefined) return this.#origin.mode;
    if ((this.#origin.protection & PROT_WRITE) === 0) return "r";
    return this.shared ? "rw" : "copy";
  }

  /** True for `MAP_SHARED` mappings, whose writes other mappings and the file see. */
  get shared(): boolean {
    return (this.#origin.flags & MAP_SHARED) === MAP_SHARED;
  }

  /** The current `PROT_*` bits (changed by {@linkcode Mapping.protect}). */
  get protection(): number {
    return this.#protection;
  }

  /** True if writes throw `TypeError` (a read-only mapping where the runtime supports it). */
  get immutable(): boolean {
    return this.#immutable;
  }

  /** The live mapping, or null once unmapped or when user code detached the buffer. */
  #usable(): Live | null {
    const live = this.#live;
    return live === null || this.#buffer.detached ? null : live;
  }

  /**
   * Unmaps the memory now and returns `true`; a second call returns `false`. The buffer is
   * detached first, so every view over it then has length 0 and reads `undefined`, and the
   * file is let go at once. If the runtime still uses the memory (a pending read or write, a
   * buffer a built-in has pinned, an immutable buffer), that use sees zero pages of its own,
   * never the file, and the address range goes back to the OS when the runtime lets go.
   *
   * @throws {MmapError} with code `ERR_MMAP_DETACHED` if user code moved the buffer elsewhere
   * (`transfer()`, `postMessage`, `structuredClone`): its new owner still uses the memory,
   * which is freed when that owner lets go of it.
   */
  unmap(): boolean {
    const live = this.#live;
    if (live === null) return false;
    this.#live = null;
    if (live.id === 0) return true;
    if (this.#buffer.detached) {
      throw new MmapError(
        "mmap: this mapping's ArrayBuffer was moved by transfer(), postMessage() or " +
          "structuredClone(), and its new owner may still use the memory, so it was not " +
          "unmapped; it is freed once that owner lets go of it. Keep the mapping and call " +
          "unmap() instead of transferring its buffer.",
        "ERR_MMAP_DETACHED",
      );
    }
    if (this.#flushing !== null) {
      // A flush runs on another thread: detach now, let go of the file once it is done (the
      // flush holds the range meanwhile, so the pages it writes out stay the file's).
      detach(this.#buffer);
      this.#flushing.then(() => call.retire(live));
      return true;
    }
    letGo(this.#buffer, live);
    return true;
  }

  /** Unmaps at the end of a `using` block; see {@linkcode Mapping.unmap}. */
  [Symbol.dispose](): void {
    this.unmap();
  }

  /**
   * Flushes changes to the file (`msync`) and returns `true`; `false` once unmapped. Takes
   * either the node `mmap` form `sync(offset?, length?, flags?)` or an options object
   * `sync({ offset, length, async, invalidate })`.
   *
   * @param offset First byte to flush (default 0), or the options object. Need not be
   *   page-aligned: the system call starts at the page holding it.
   * @param length Bytes to flush (default: to the end of the buffer).
   * @param flags `MS_SYNC` (default, waits) or `MS_ASYNC`, optionally OR `MS_INVALIDATE`.
   * @throws {RangeError} if the range lies outside the buffer.
   */
  sync(offset?: number | SyncOptions, length?: number, flags?: number): boolean {
    const live = this.#usable();
    if (live === null) return false;
    let start: number, count: number, mode: number;
    if (typeof offset === "object" && offset !== null) {
      const bag = optionBag(offset, ["offset", "length", "async", "invalidate"], "sync()");
      [start, count] = range(bag, this.length, "sync");
      mode = syncMode(bag);
    } else {
      start = offset === undefined ? 0 : byteCount(offset, "offset");
      count = length === undefined ? Math.max(0, this.length - start) : byteCount(length, "length");
      mode = flags === undefined ? MS_SYNC : syncFlags(flags);
      if (start + count > this.length) {
        throw rangeError(
          `mmap: sync range [${start}, ${
            start + count
          }) lies outside the buffer [0, ${this.length})`,
        );
      }
    }
    if (live.id !== 0) call.sync(live, start, count, mode);
    return true;
  }

  /**
   * Flushes changes to the file like `sync()`, without blocking the event loop where the
   * runtime allows it (Deno runs the `msync` on another thread; Bun runs it at once). Resolves
   * to `true`, or `false` if the mapping was unmapped before it started. `unmap()` while a
   * flush runs detaches the buffer at once, and lets go of the file when the flush is done.
   */
  flush(options?: Range & { invalidate?: boolean }): Promise<boolean> {
    try {
      const bag = optionBag(options, ["offset", "length", "invalidate"], "flush()");
      const [start, count] = range(bag, this.length, "flush");
      const mode = MS_SYNC | (flag(bag, "invalidate", false) ? MS_INVALIDATE : 0);
      const live = this.#usable();
      if (live === null) return Promise.resolve(false);
      if (live.id === 0) return Promise.resolve(true);
      // Held from here, on this thread, so an unmap() before the other thread starts cannot
      // free the range under it.
      call.hold(live);
      const done = call.syncOffThread(live, start, count, mode).finally(() => call.release(live));
      const flushing: Promise<unknown> = Promise.allSettled([this.#flushing, done]).then(() => {
        if (this.#flushing === flushing) this.#flushing = null;
      });
      this.#flushing = flushing;
      return done.then(() => true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Tells the kernel how the range will be used (`madvise`) and returns `true`.
   *
   * @param advice A name such as `"sequential"`, `"random"`, `"willneed"`, `"dontneed"`, or on
   *   Linux `"hugepage"`, `"free"`, `"cold"`, `"pageout"`, `"populate_read"` (see `ADVICE`),
   *   or an `MADV_*` value. `"dontneed"` and `"free"` discard private pages (they read zero
   *   afterwards).
   * @param where The byte range (default: the whole mapping).
   * @throws {RangeError} for advice this OS does not offer, or a range outside the mapping.
   */
  advise(advice: string | number, where?: Range): boolean {
    const value = typeof advice === "string" ? ADVICE[advice] : advice;
    if (typeof advice !== "string" && typeof advice !== "number") {
      throw typeError(`mmap: advice must be a name or an MADV_* value, got ${show(advice)}`);
    }
    if (value === undefined || !Object.values(ADVICE).includes(value)) {
      throw rangeError(
        `mmap: unknown advice ${show(advice)}; this OS offers ${Object.keys(ADVICE).join(", ")}`,
      );
    }
    if (value === ADVICE.populate_write && (this.#protection & PROT_WRITE) === 0) {
      throw rangeError(
        'mmap: advice "populate_write" needs a writable mapping; use "populate_read" to ' +
          "read the pages in",
      );
    }
    return this.#rangeCall(
      where,
      "advise()",
      (live, start, count) => call.advise(live, start, count, value),
    );
  }

  /**
   * Locks the range in memory (`mlock`) so it is never paged out, and returns `true`.
   *
   * @throws {MmapError} (`ENOMEM`/`EPERM`) when the locked-memory limit is too low; the
   *   message says how to raise it.
   */
  lock(where?: Range): boolean {
    // open()'s "r" pages are private and writable (so a stray write never crashes): a plain
    // mlock would fault each in for writing and copy it. Locking as they are read keeps the
    // file's pages.
    const how = this.#origin.mode === "r" ? "lock-reading" : "lock";
    return this.#rangeCall(
      where,
      "lock()",
      (live, start, count) => call.lock(live, start, count, how, MLOCK_HINT),
    );
  }

  /** Unlocks the range (`munlock`) and returns `true`. */
  unlock(where?: Range): boolean {
    return this.#rangeCall(
      where,
      "unlock()",
      (live, start, count) => call.lock(live, start, count, "unlock"),
    );
  }

  #rangeCall(
    where: Range | undefined,
    name: string,
    run: (live: Live, start: number, count: number) => void,
  ): boolean {
    const bag: Bag = optionBag(where, ["offset", "length"], name);
    const [start, count] = range(bag, this.length, name);
    const live = this.#usable();
    if (live === null) throw unmappedError(name);
    if (live.id !== 0 && count !== 0) run(live, start, count);
    return true;
  }

  /**
   * Changes the protection of the whole mapping (`mprotect`) and returns `true`.
   *
   * @param protection `"none"`, `"r"`, `"rw"`, `"rx"`, `"rwx"` or `PROT_*` bits. Touching a
   *   `"none"` mapping (or writing a read-only one) kills the process with SIGSEGV: restore
   *   access before using the buffer again.
   */
  protect(protection: number | "none" | "r" | "rw" | "rx" | "rwx"): boolean {
    const prot = typeof protection === "string"
      ? PROTECTION_NAMES[protection]
      : checkProtection(protection);
    if (prot === undefined) {
      throw rangeError(
        `mmap: protection must be "none", "r", "rw", "rx", "rwx" or PROT_* bits, got ` +
          show(protection),
      );
    }
    const live = this.#usable();
    if (live === null) throw unmappedError("protect()");
    if (live.id !== 0) call.protect(live, prot);
    this.#protection = prot;
    return true;
  }

  /** Reports how many pages of the range are in memory (`mincore`). */
  residency(options?: ResidencyOptions): Residency {
    const bag = optionBag(options, ["offset", "length", "bitmap"], "residency()");
    const [start, count] = range(bag, this.length, "residency");
    const wantBitmap = flag(bag, "bitmap", false);
    const live = this.#usable();
    if (live === null) throw unmappedError("residency()");
    if (live.id === 0 || count === 0) {
      return wantBitmap
        ? { pages: 0, resident: 0, bitmap: new Uint8Array(0) }
        : { pages: 0, resident: 0 };
    }
    const pages = new Uint8Array(Math.floor(count / PAGESIZE) + 2);
    const found = call.residency(live, start, count, pages);
    const result: Residency = { pages: found.pages, resident: found.resident };
    if (wantBitmap) result.bitmap = pages.slice(0, found.pages);
    return result;
  }

  /**
   * Grows or shrinks the mapping to `newLength` bytes and returns the new mapping; this one is
   * unmapped (its views detached), since the memory may move. A `"rw"` file or shared-memory
   * mapping grows its file first; other file mappings can only grow within the file. Private
   * and anonymous memory keeps its bytes: the kernel moves the pages (`mremap`), or, while the
   * runtime still uses the old ones, the pages that differ are copied. A failure leaves this
   * mapping as it was (and a grown file at its old size).
   *
   * @throws {TypeError} for a mapping made from a caller's descriptor (no path to reopen).
   * @throws {RangeError} past the end of a file that is not `"rw"`, or when growing shared
   *   anonymous memory (its new pages could not be shared with processes that have the old).
   */
  resize(newLength: number): this {
    const length = byteCount(newLength, "newLength");
    if (length === 0) throw rangeError("mmap: cannot resize to 0 bytes; call unmap() instead");
    const origin = this.#origin;
    if (origin.kind === "fd") {
      throw invalidValue(
        "mmap: a mapping of a caller's descriptor cannot be resized; map the file by " +
          "name with open() to resize it",
      );
    }
    checkLength(length);
    const live = this.#usable();
    if (live === null) throw unmappedError("resize()");
    const Kind = this.constructor as MappingClass<this>;
    const growTo = this.mode === "rw" && origin.kind !== "anonymous" ? origin.offset + length : 0;
    // The new mapping keeps any protection set since with protect().
    const kept: Origin = { ...origin, protection: this.#protection };
    if (live.id === 0) return this.#mapAgain(kept, length, growTo);
    const context = { path: origin.path ?? undefined, offset: origin.offset, length, resize: true };
    const kind = origin.kind;
    // A file is opened through the runtime (its sandbox applies); writable to grow it, or to map
    // it shared and writable again.
    const writeFile = growTo > 0 || (this.shared && (this.#protection & PROT_WRITE) !== 0);
    const { mapped, moves } = kind === "file"
      ? withFile(
        origin.path!,
        writeFile,
        false,
        ({ fd }) => call.resize(live, length, { kind, path: origin.path, fd }, growTo, context),
      )
      : call.resize(live, length, { kind, path: origin.path }, growTo, context);
    let next: this;
    try {
      next = createMapping(Kind, mapped, kept, this.#immutable);
    } catch (error) {
      if (moves) call.release(live); // the hold the resize took for the move
      throw error;
    }
    this.#live = null;
    if (moves) {
      detach(this.#buffer);
      call.move(live, mapped);
    } else {
      letGo(this.#buffer, live);
    }
    return next;
  }

  /** Resizes an empty mapping: nothing to keep, so map its source afresh. */
  #mapAgain(origin: Origin, length: number, growTo: number): this {
    const Kind = this.constructor as MappingClass<this>;
    // Growing the file needs it open for writing, even if protect() took PROT_WRITE away.
    const write = growTo > 0 || ((origin.protection & PROT_WRITE) !== 0 && this.shared);
    const request: MapRequest = {
      kind: origin.kind,
      path: origin.path,
      protection: osProtection(origin),
      flags: origin.flags,
      offset: origin.offset,
      length,
      openFlags: write ? abi.OPEN_WRITE : 0,
      growTo,
    };
    const mapped = origin.kind === "file"
      ? withFile(origin.path!, write, false, ({ fd }) => call.map({ ...request, fd }))
      : call.map(request);
    const next = createMapping(Kind, mapped, origin, this.#immutable);
    this.#live = null;
    return next;
  }
}

const ordinaryHasInstance = Function.prototype[Symbol.hasInstance];

/** The prototype of each `Buffer` form, and the Mapping class it is the form of. */
const bufferForms = new WeakMap<object, MappingClass<Mapping>>();

/** The OS protection a mapping of `origin` is made with: `"r"` maps private writable pages. */
export function osProtection(origin: Origin): number {
  return origin.mode === "r" ? PROT_READ | PROT_WRITE : origin.protection;
}

/** An index as `subarray` takes it: truncated, negative from the end, clamped to the length. */
function relativeIndex(value: unknown, length: number, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Math.trunc(typeof value === "number" ? value : Number(value));
  if (!(number === number)) return 0; // NaN
  if (number < 0) return number + length > 0 ? number + length : 0;
  return number < length ? number : length;
}

function syncMode(bag: Bag): number {
  return (flag(bag, "async", false) ? MS_ASYNC : MS_SYNC) |
    (flag(bag, "invalidate", false) ? MS_INVALIDATE : 0);
}

function unmappedError(name: string): MmapError {
  return new MmapError(
    `mmap: ${name} on a mapping that was unmapped (or whose buffer was transferred away)`,
    "ERR_MMAP_UNMAPPED",
  );
}

/** A Mapping class: {@linkcode Mapping} or one of its subclasses. */
export type MappingClass<M extends Mapping> = new (buffer: ArrayBuffer, token: Token) => M;

/**
 * Makes a `Kind` over a new mapping: its buffer (with the runtime's release hook; immutable
 * with `freeze` where the runtime can) and what it came from. An empty mapping gets an empty
 * buffer of its own.
 */
export function createMapping<M extends Mapping>(
  Kind: MappingClass<M>,
  mapped: Mapped,
  origin: Origin,
  freeze: boolean,
): M {
  const empty = mapped.id === 0;
  const buffer = empty ? new ArrayBuffer(0) : bufferOver(mapped, freeze);
  const token: Token = {
    live: { address: mapped.address, id: mapped.id },
    origin,
    immutable: !empty && freeze && canFreeze,
  };
  issued.add(token);
  return new Kind(buffer, token);
}

/**
 * A mapping of a POSIX shared-memory object, which can also remove the object's name.
 *
 * @example
 * ```ts
 * import { shm } from "@mmap/mmap";
 *
 * using region = shm.open("/jsdoc-example", 4096);
 * console.log(region.name); // "/jsdoc-example"
 * region.unlink();
 * ```
 */
export class SharedMemoryMapping extends Mapping {
  /** The shared-memory object's name, with its leading `/`. */
  get name(): string {
    return this.path ?? "";
  }

  /**
   * Removes the shared-memory object's name (`shm_unlink`) and returns `true`. Mappings stay
   * valid; the memory is freed once the last one is unmapped.
   *
   * @throws {MmapError} (`ENOENT`) if the name no longer exists.
   */
  unlink(): boolean {
    call.unlinkShm(this.name);
    return true;
  }
}

/**
 * What a {@linkcode Mapping} adds to `Uint8Array`: `unmap()`, `sync()`, `path` and the rest
 * (`resize()` aside, which each form declares with its own result).
 */
export type MappingMembers = Omit<Mapping, keyof Uint8Array | "resize">;

/**
 * What the node `mmap` API returns: a real Node `Buffer` over the mapped pages (no copy), on
 * every runtime, with the members of a {@linkcode Mapping}. As with any `Buffer`, `slice()`
 * and `subarray()` are views of the same memory (writes through them reach the mapping), and
 * `toString()` decodes text. `Buffer.isBuffer()` and `instanceof Mapping` both hold.
 */
export interface MappedBuffer extends Buffer<ArrayBuffer>, MappingMembers {
  /** Grows or shrinks the mapping; see {@linkcode Mapping.resize}. Returns a `MappedBuffer`. */
  resize(newLength: number): MappedBuffer;
}

/** The `Buffer` form of a {@linkcode SharedMemoryMapping}: a {@linkcode MappedBuffer} with `unlink()`. */
export interface SharedMemoryBuffer extends MappedBuffer {
  /** The shared-memory object's name, with its leading `/`. */
  readonly name: string;
  /** Removes the shared-memory object's name (`shm_unlink`) and returns `true`. */
  unlink(): boolean;
  /** Grows or shrinks the mapping; see {@linkcode Mapping.resize}. */
  resize(newLength: number): SharedMemoryBuffer;
}

/**
 * The `Buffer` form of a Mapping class: constructs the same objects (the class's own
 * constructor runs, so every private field is there) with a prototype whose chain is
 * `Buffer.prototype`, carrying the class's members except its plain-`Uint8Array` `subarray`.
 * Derived arrays are the runtime's own Buffers, so `slice()` and `subarray()` are views.
 */
function bufferForm<M extends Mapping>(Kind: MappingClass<M>, name: string): MappingClass<M> {
  const prototype = Object.create(Buffer.prototype);
  for (
    let from = Kind.prototype;
    from !== Uint8Array.prototype;
    from = Object.getPrototypeOf(from)
  ) {
    for (const key of Reflect.ownKeys(from)) {
      if (key === "constructor" || key === "subarray" || Object.hasOwn(prototype, key)) continue;
      Object.defineProperty(prototype, key, Object.getOwnPropertyDescriptor(from, key)!);
    }
  }
  // A function (so its prototype can be Buffer's) that constructs with Kind's constructor.
  const form = {
    [name]: function (this: unknown, buffer: ArrayBuffer, token: Token) {
      if (new.target === undefined) throw typeError(`mmap: ${name} must be called with new`);
      return Reflect.construct(Kind, [buffer, token], new.target);
    },
  }[name] as unknown as MappingClass<M>;
  Object.defineProperty(prototype, "constructor", {
    value: form,
    writable: true,
    configurable: true,
  });
  Object.defineProperty(form, "prototype", { value: prototype, writable: false });
  Object.setPrototypeOf(form, Buffer);
  // The runtime's own Buffer class for views (Node's FastBuffer; `new Buffer` would warn).
  const views: unknown = Reflect.get(Buffer, Symbol.species);
  Object.defineProperty(form, Symbol.species, { get: () => views, configurable: true });
  bufferForms.set(prototype, Kind);
  return form;
}

const MappedBufferClass = bufferForm(Mapping, "MappedBuffer");
const SharedMemoryBufferClass = bufferForm(SharedMemoryMapping, "SharedMemoryBuffer");

/** Makes a {@linkcode MappedBuffer} over a new mapping (the node API's `mmap()`). */
export function createMappedBuffer(mapped: Mapped, origin: Origin): MappedBuffer {
  // A Mapping whose prototype chain is Buffer's: both types describe it.
  return createMapping(MappedBufferClass, mapped, origin, false) as unknown as MappedBuffer;
}

/** Makes a {@linkcode SharedMemoryBuffer} over a new mapping (the node API's `map_shm()`). */
export function createSharedMemoryBuffer(mapped: Mapped, origin: Origin): SharedMemoryBuffer {
  return createMapping(
    SharedMemoryBufferClass,
    mapped,
    origin,
    false,
  ) as unknown as SharedMemoryBuffer;
}
