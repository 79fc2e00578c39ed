/**
 * The mapped buffer: a `Uint8Array` over the mapped pages with `unmap()`, `sync()` and the
 * modern methods, and the bookkeeping that unmaps a buffer the garbage collector frees.
 *
 * @module
 */
import { native } from "../bindings/load.ts";
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
import { failure, MmapError } from "./errors.ts";
import { watchTransferLists } from "./handover.ts";
import { type Bag, flag, optionBag, type Range, range } from "./options.ts";
import { byteCount, protection as checkProtection, show, syncFlags } from "./validate.ts";

/** One live mapping, as the native registry knows it (id 0: an empty mapping, no memory). */
interface Live {
  readonly address: number;
  readonly id: number;
}

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
  /** The `PROT_*` bits the mapping was made with. */
  readonly protection: number;
  /** The mode asked for, where the flags alone do not tell it. */
  readonly mode?: MappingMode;
}

/** What `adopt` hands a Mapping's constructor; only tokens it issued are accepted. */
interface Token {
  readonly live: Live;
  readonly origin: Origin;
  readonly immutable: boolean;
}

/** The out slots every synchronous call writes; one array, reused (calls never overlap). */
export const out: Float64Array = new Float64Array(abi.OUT_SLOTS);

/** Tokens handed out by {@linkcode adopt} and not yet given to a Mapping. */
const issued = new WeakSet<Token>();

const EMPTY: Live = Object.freeze({ address: 0, id: 0 });

function release(live: Live): void {
  // The status is ignored: a mapping already gone has nothing left to free.
  if (live.id !== 0) native.symbols.mmap_ffi_unmap(live.address, live.id, null, 0);
}

/** What the first stage of Deno's finalizer holds: the live mapping and its buffer. */
interface Watched {
  readonly live: Live;
  readonly buffer: ArrayBuffer;
}

/** The second stage: unmaps when the buffer itself is collected. */
const bufferFinalizer = native.releasesOnCollect ? null : new FinalizationRegistry<Live>(release);

/**
 * The first stage watches the Mapping and holds its buffer. A buffer can be moved to another
 * owner by routes this library cannot see (`ArrayBuffer.prototype.transfer.call`, a BYOB stream
 * reader), and a buffer collected after that says nothing about it; so when the Mapping is
 * collected, a detached buffer means the memory lives on elsewhere and it is never unmapped (it
 * leaks instead of crashing the new owner). Otherwise the second stage watches the buffer, which
 * other views may still use. The routes it can see (the buffer's own transfer methods,
 * `structuredClone` and `postMessage` transfer lists) unregister both stages before the move.
 */
const viewFinalizer = bufferFinalizer === null
  ? null
  : new FinalizationRegistry<Watched>(({ live, buffer }) => {
    if (!buffer.detached) bufferFinalizer.register(buffer, live, buffer);
  });

/**
 * Unmaps buffers the GC frees without `unmap()`, where the runtime has no native deallocator
 * (Deno), in the two stages above; each buffer is its own unregister token. Bun's deallocator
 * is attached in its loader instead.
 */
const finalizer = viewFinalizer === null || bufferFinalizer === null ? null : {
  register(mapping: object, buffer: ArrayBuffer, live: Live): void {
    viewFinalizer.register(mapping, { live, buffer }, buffer);
  },
  unregister(buffer: ArrayBuffer): void {
    viewFinalizer.unregister(buffer);
    bufferFinalizer.unregister(buffer);
  },
};

const { transfer, transferToFixedLength } = ArrayBuffer.prototype;
const transferToImmutable = (ArrayBuffer.prototype as { transferToImmutable?: () => ArrayBuffer })
  .transferToImmutable;

/**
 * True where the runtime can make read-only mappings immutable, so a write throws `TypeError`
 * (Deno with `--v8-flags=--js-immutable-arraybuffer`). Elsewhere a read-only `open()` maps a
 * private copy-on-write view, so a stray write changes only this process's copy.
 *
 * @example
 * ```ts
 * import { immutableBuffers } from "./mod.ts";
 *
 * console.log(immutableBuffers ? "writes to 'r' mappings throw" : "'r' mappings are private");
 * ```
 */
export const immutableBuffers: boolean = typeof transferToImmutable === "function";

/**
 * Deno's finalizer watches the original ArrayBuffer; if user code moves the memory with
 * `transfer()` (or `transferToFixedLength()`, `transferToImmutable()`), the original can be
 * collected while the new owner still uses the memory. So a transfer first hands the mapping
 * over: the finalizer lets go of it (each buffer is its own unregister token) and `unmap()`
 * refuses. Mapped buffers get this prototype, made once, rather
 * than two closures defined on each buffer: a map call then costs one `setPrototypeOf`.
 */
const watchedBuffer: object | null = finalizer === null ? null : Object.create(
  ArrayBuffer.prototype,
  Object.fromEntries(
    ([
      ["transfer", transfer],
      ["transferToFixedLength", transferToFixedLength],
      ...(transferToImmutable === undefined ? [] : [["transferToImmutable", transferToImmutable]]),
    ] as [string, typeof transfer][]).map(([name, method]) => [name, {
      configurable: true,
      writable: true,
      value(this: ArrayBuffer, newLength?: number): ArrayBuffer {
        finalizer?.unregister(this);
        return method.call(this, newLength);
      },
    }]),
  ),
);

// `postMessage` and `structuredClone` move a buffer without calling its `transfer()`: catch
// their transfer lists too, so that the finalizer lets go of a mapped buffer before it moves.
if (finalizer !== null) {
  watchTransferLists((buffer) => {
    if (Object.getPrototypeOf(buffer) === watchedBuffer) finalizer.unregister(buffer);
  });
}

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
 * dropped without either is unmapped when the garbage collector frees its buffer.
 *
 * @example Read a file through a mapping
 * ```ts
 * import { open } from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
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
  #pending: Promise<unknown> | null = null;

  /** @internal Use `open()`, `mmap()` and friends; a Mapping is only made by the library. */
  constructor(buffer: ArrayBuffer, token: Token) {
    if (!issued.delete(token)) {
      throw new TypeError(
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
    return live === null || (this.buffer as ArrayBuffer).detached ? null : live;
  }

  /** Lets go of this object's hold on the memory: no finalizer, views detached. */
  #forget(): void {
    this.#live = null;
    finalizer?.unregister(this.#buffer);
    if (!this.#immutable) transfer.call(this.#buffer, 0);
  }

  /**
   * Unmaps the memory now and returns `true`; a second call returns `false`. The buffer is
   * detached first, so every view over it then has length 0 and reads `undefined` instead of
   * touching freed memory. (An immutable buffer cannot be detached: its file is let go at
   * once and its views read zeros until the buffer is collected.)
   *
   * @throws {MmapError} with code `ERR_MMAP_DETACHED` if user code detached the buffer itself
   * (`transfer()`, `postMessage`, `structuredClone`): the memory may be in use elsewhere, so it
   * is not unmapped.
   */
  unmap(): boolean {
    const live = this.#live;
    if (live === null) return false;
    if (live.id === 0) {
      this.#live = null;
      return true;
    }
    if (this.#immutable) {
      const status = native.symbols.mmap_ffi_retire(live.address, live.id, out, out.length);
      if (status !== 0) throw failure(status, { out });
      // The finalizer stays registered: it frees the address range with the buffer.
      this.#live = null;
      return true;
    }
    const buffer = this.buffer as ArrayBuffer;
    if (buffer.detached) {
      this.#live = null;
      finalizer?.unregister(buffer);
      throw new MmapError(
        "mmap: this mapping's ArrayBuffer was detached by transfer(), postMessage() or " +
          "structuredClone(), so its memory may still be in use elsewhere; it was not unmapped. " +
          "Keep the mapping and call unmap() instead of transferring its buffer.",
        "ERR_MMAP_DETACHED",
      );
    }
    if (this.#pending !== null) {
      // A flush is running on another thread: detach now, unmap once it is done.
      this.#forget();
      this.#pending.finally(() => release(live));
      return true;
    }
    const status = native.symbols.mmap_ffi_unmap(live.address, live.id, out, out.length);
    if (status !== 0) throw failure(status, { out });
    this.#forget();
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
        throw new RangeError(
          `mmap: sync range [${start}, ${
            start + count
          }) lies outside the buffer [0, ${this.length})`,
        );
      }
    }
    if (live.id === 0) return true;
    const status = native.symbols.mmap_ffi_sync(
      live.address,
      live.id,
      start,
      count,
      mode,
      out,
      out.length,
    );
    if (status !== 0) throw failure(status, { out });
    return true;
  }

  /**
   * Flushes changes to the file like `sync()`, without blocking the event loop where the
   * runtime allows it (Deno runs the `msync` on another thread; Bun runs it at once). Resolves
   * to `true`, or `false` if the mapping was unmapped before it started. `unmap()` while a
   * flush runs detaches the buffer at once and frees the memory when the flush is done.
   */
  flush(options?: Range & { invalidate?: boolean }): Promise<boolean> {
    try {
      const bag = optionBag(options, ["offset", "length", "invalidate"], "flush()");
      const [start, count] = range(bag, this.length, "flush");
      const mode = MS_SYNC | (flag(bag, "invalidate", false) ? MS_INVALIDATE : 0);
      const live = this.#usable();
      if (live === null) return Promise.resolve(false);
      if (live.id === 0) return Promise.resolve(true);
      const slots = new Float64Array(abi.OUT_SLOTS);
      const call = Promise.resolve(
        native.symbols.mmap_ffi_flush(
          live.address,
          live.id,
          start,
          count,
          mode,
          slots,
          slots.length,
        ),
      ).then((status) => {
        if (status !== 0) throw failure(status, { out: slots });
        return true;
      });
      const pending: Promise<unknown> = Promise.allSettled([this.#pending, call]).then(() => {
        if (this.#pending === pending) this.#pending = null;
      });
      this.#pending = pending;
      return call;
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
      throw new TypeError(`mmap: advice must be a name or an MADV_* value, got ${show(advice)}`);
    }
    if (value === undefined || !Object.values(ADVICE).includes(value)) {
      throw new RangeError(
        `mmap: unknown advice ${show(advice)}; this OS offers ${Object.keys(ADVICE).join(", ")}`,
      );
    }
    return this.#rangeCall(
      where,
      "advise()",
      (live, start, count) =>
        native.symbols.mmap_ffi_advise(live.address, live.id, start, count, value, out, out.length),
    );
  }

  /**
   * Locks the range in memory (`mlock`) so it is never paged out, and returns `true`.
   *
   * @throws {MmapError} (`ENOMEM`/`EPERM`) when the locked-memory limit is too low; the
   *   message says how to raise it.
   */
  lock(where?: Range): boolean {
    return this.#rangeCall(
      where,
      "lock()",
      (live, start, count) =>
        native.symbols.mmap_ffi_lock(live.address, live.id, start, count, 1, out, out.length),
      MLOCK_HINT,
    );
  }

  /** Unlocks the range (`munlock`) and returns `true`. */
  unlock(where?: Range): boolean {
    return this.#rangeCall(
      where,
      "unlock()",
      (live, start, count) =>
        native.symbols.mmap_ffi_lock(live.address, live.id, start, count, 0, out, out.length),
    );
  }

  #rangeCall(
    where: Range | undefined,
    name: string,
    call: (live: Live, start: number, count: number) => number,
    hint?: string,
  ): boolean {
    const bag: Bag = optionBag(where, ["offset", "length"], name);
    const [start, count] = range(bag, this.length, name);
    const live = this.#usable();
    if (live === null) throw unmappedError(name);
    if (live.id === 0 || count === 0) return true;
    const status = call(live, start, count);
    if (status !== 0) throw failure(status, { out, hint });
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
      throw new RangeError(
        `mmap: protection must be "none", "r", "rw", "rx", "rwx" or PROT_* bits, got ` +
          show(protection),
      );
    }
    const live = this.#usable();
    if (live === null) throw unmappedError("protect()");
    if (live.id !== 0) {
      const status = native.symbols.mmap_ffi_protect(live.address, live.id, prot, out, out.length);
      if (status !== 0) throw failure(status, { out });
    }
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
    const status = native.symbols.mmap_ffi_residency(
      live.address,
      live.id,
      start,
      count,
      pages,
      pages.length,
      out,
      out.length,
    );
    if (status !== 0) throw failure(status, { out });
    const total = out[abi.OUT_LENGTH];
    const result: Residency = { pages: total, resident: out[abi.OUT_COUNT] };
    if (wantBitmap) result.bitmap = pages.slice(0, total);
    return result;
  }

  /**
   * Grows or shrinks the mapping to `newLength` bytes and returns the new mapping; this one is
   * unmapped (its views detached), since the memory may move. A `"rw"` file or shared-memory
   * mapping grows its file first; other file mappings can only grow within the file. On Linux
   * this is `mremap`; elsewhere the file is mapped again (anonymous memory is copied).
   *
   * @throws {TypeError} for a mapping made from a caller's descriptor (no path to reopen).
   * @throws {RangeError} past the end of a file that is not `"rw"`, or when growing shared
   *   anonymous memory (its new pages could not be shared with processes that have the old).
   */
  resize(newLength: number): this {
    const length = byteCount(newLength, "newLength");
    if (length === 0) throw new RangeError("mmap: cannot resize to 0 bytes; call unmap() instead");
    // The new mapping keeps any protection set since with protect().
    const origin: Origin = { ...this.#origin, protection: this.#protection };
    if (origin.kind === "fd") {
      throw new TypeError(
        "mmap: a mapping of a caller's file descriptor cannot be resized; map the file by " +
          "name with open() to resize it",
      );
    }
    checkLength(length);
    const live = this.#usable();
    if (live === null) throw unmappedError("resize()");
    const growTo = this.mode === "rw" && origin.kind !== "anonymous" ? origin.offset + length : 0;
    if (live.id === 0 || this.#immutable) return this.#reopen(length, growTo);
    const name = origin.path === null ? null : new TextEncoder().encode(origin.path);
    const source = origin.kind === "file"
      ? abi.SOURCE_FILE
      : origin.kind === "shm"
      ? abi.SOURCE_SHM
      : abi.SOURCE_ANONYMOUS;
    const status = native.symbols.mmap_ffi_resize(
      live.address,
      live.id,
      length,
      source,
      name,
      name?.length ?? 0,
      growTo,
      out,
      out.length,
    );
    if (status !== 0) {
      const error = failure(status, { out, path: origin.path ?? undefined, length });
      // Without mremap (macOS), map anew.
      if ((error as MmapError).code === "ENOSYS") return this.#reopen(length, growTo);
      throw error;
    }
    this.#forget();
    return adopt(origin, this.constructor as MappingClass<this>, { immutable: false });
  }

  /** Resizes by mapping anew (no `mremap`, or a buffer that cannot be detached). */
  #reopen(length: number, growTo: number): this {
    const origin: Origin = { ...this.#origin, protection: this.#protection };
    const Kind = this.constructor as MappingClass<this>;
    let next: this;
    if (origin.kind === "anonymous") {
      const status = mapSource(origin, length, 0, 0);
      if (status !== 0) throw failure(status, { out, length });
      next = adopt(origin, Kind, { immutable: false });
      next.set(this.subarray(0, Math.min(this.length, length)));
    } else {
      // Growing the file needs it open for writing, even if protect() took PROT_WRITE away.
      const write = growTo > 0 || ((origin.protection & PROT_WRITE) !== 0 && this.shared);
      const status = mapSource(origin, length, write ? abi.OPEN_WRITE : 0, growTo);
      if (status !== 0) throw failure(status, { out, path: origin.path ?? undefined, length });
      next = adopt(origin, Kind, { immutable: this.#immutable });
    }
    this.unmap();
    return next;
  }
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

/** Refuses a length the runtime cannot hold in one ArrayBuffer. */
export function checkLength(length: number): void {
  if (length > native.maxBufferLength) {
    throw new RangeError(
      `mmap: ${length} bytes is more than ${native.runtime} can hold in one ArrayBuffer ` +
        `(${native.maxBufferLength} bytes); map a window at a time (see windows()), or a ` +
        "smaller length at an offset",
    );
  }
}

const encoder = new TextEncoder();

/** Where names are encoded for the native calls; reused (calls never overlap), grown on need. */
let nameBuffer = new Uint8Array(1024);

/**
 * Encodes `text` as UTF-8 into the reused name buffer and returns its length in bytes, so
 * mapping by name allocates nothing per call. Valid until the next call.
 */
function encodeName(text: string): number {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 > nameBuffer.length) nameBuffer = new Uint8Array(text.length * 3);
  return encoder.encodeInto(text, nameBuffer).written;
}

/**
 * Maps `length` bytes (0: to the end) of what `origin` describes (a file or shared-memory object
 * by name, a caller's descriptor `fd`, or anonymous memory); the result is in {@linkcode out}.
 * Every map call goes through here. Returns the status.
 */
export function mapSource(
  origin: Origin,
  length: number,
  openFlags: number,
  growTo: number,
  permissions = 0o600,
  fd = -1,
): number {
  const { kind, path, protection, flags, offset } = origin;
  if (kind === "anonymous" || kind === "fd") {
    return native.symbols.mmap_ffi_map_fd(length, protection, flags, fd, offset, out, out.length);
  }
  const size = encodeName(path ?? "");
  if (kind === "shm") {
    return native.symbols.mmap_ffi_map_shm(
      nameBuffer,
      size,
      length,
      protection,
      flags,
      offset,
      openFlags,
      permissions,
      growTo,
      out,
      out.length,
    );
  }
  return native.symbols.mmap_ffi_map_path(
    nameBuffer,
    size,
    length,
    protection,
    flags,
    offset,
    openFlags,
    growTo,
    out,
    out.length,
  );
}

/** Options of {@linkcode adopt}. */
export interface AdoptOptions {
  /** Make the buffer immutable where the runtime can (read-only mappings). */
  immutable: boolean;
}

/**
 * Wraps the mapping a successful map call wrote to {@linkcode out} in a `Kind` instance: an
 * ArrayBuffer over it, watched so the memory is unmapped when the buffer is collected.
 */
export function adopt<M extends Mapping>(
  origin: Origin,
  Kind: MappingClass<M>,
  options: AdoptOptions,
): M {
  const live: Live = { address: out[abi.OUT_ADDRESS], id: out[abi.OUT_ID] };
  const length = out[abi.OUT_LENGTH];
  if (length > native.maxBufferLength) {
    release(live);
    checkLength(length);
  }
  let buffer = native.arrayBuffer(live.address, length, live.id);
  const immutable = options.immutable && immutableBuffers;
  if (immutable) buffer = transferToImmutable!.call(buffer);
  const token: Token = { live, origin, immutable };
  issued.add(token);
  const mapping = new Kind(buffer, token);
  if (finalizer !== null) {
    finalizer.register(mapping, buffer, live);
    if (!immutable) Object.setPrototypeOf(buffer, watchedBuffer);
  }
  return mapping;
}

/** An empty mapping (length 0, no memory behind it), for an empty file or range. */
export function emptyMapping<M extends Mapping>(origin: Origin, Kind: MappingClass<M>): M {
  const token: Token = { live: EMPTY, origin, immutable: false };
  issued.add(token);
  return new Kind(new ArrayBuffer(0), token);
}

/**
 * A mapping of a POSIX shared-memory object, which can also remove the object's name.
 *
 * @example
 * ```ts
 * import { shm } from "./mod.ts";
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
    unlinkShm(this.name);
    return true;
  }
}

/** Removes a shared-memory object's name. */
export function unlinkShm(name: string): void {
  const size = encodeName(name);
  const status = native.symbols.mmap_ffi_shm_unlink(nameBuffer, size, out, out.length);
  if (status !== 0) throw failure(status, { path: name, out });
}
