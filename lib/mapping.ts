/**
 * The mapped buffer: a `Uint8Array` over the mapped pages with `unmap()` and `sync()`, and the
 * bookkeeping that unmaps a buffer the garbage collector frees.
 *
 * @module
 */
import { native } from "../bindings/load.ts";
import { abi, MS_SYNC } from "./constants.ts";
import { failure, MmapError } from "./errors.ts";
import { byteCount, syncFlags } from "./validate.ts";

/** One live mapping, as the native registry knows it. */
interface Live {
  readonly address: number;
  readonly id: number;
}

/** The out slots every map call writes; one array, reused (calls never overlap). */
export const out: Float64Array = new Float64Array(abi.OUT_SLOTS);

/** Live tokens handed out by {@linkcode adopt} and not yet given to a Mapping. */
const issued = new WeakSet<Live>();

function release(live: Live): void {
  // The status is ignored: a mapping already gone has nothing left to free.
  native.symbols.mmap_ffi_unmap(live.address, live.id, null, 0);
}

/**
 * Unmaps buffers the GC frees without `unmap()`, where the runtime has no native deallocator
 * (Deno). Bun's deallocator is attached in its loader instead.
 */
const finalizer = native.releasesOnCollect ? null : new FinalizationRegistry<Live>(release);

const { transfer, transferToFixedLength } = ArrayBuffer.prototype;

/**
 * Deno's finalizer watches the original ArrayBuffer; if user code moves the memory with
 * `transfer()`, the original can be collected while the new owner still uses the memory. So a
 * transfer first hands the mapping over: the finalizer lets go of it and `unmap()` refuses.
 */
function watchTransfers(buffer: ArrayBuffer, live: Live): void {
  for (
    const [name, method] of [["transfer", transfer], [
      "transferToFixedLength",
      transferToFixedLength,
    ]] as const
  ) {
    Object.defineProperty(buffer, name, {
      configurable: true,
      writable: true,
      value(this: ArrayBuffer, newLength?: number): ArrayBuffer {
        finalizer?.unregister(live);
        return method.call(this, newLength);
      },
    });
  }
}

/**
 * A memory mapping: a real `Uint8Array` over the mapped pages (no copy). Index it like any
 * `Uint8Array`; `subarray()` and `slice()` give plain `Uint8Array`s.
 *
 * Call {@linkcode Mapping.unmap} when done. A mapping that is dropped without it is unmapped
 * when the garbage collector frees its buffer.
 *
 * @example Read a file through a mapping
 * ```ts
 * import mmap from "./mod.ts";
 *
 * const path = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(path, "hello");
 * const bytes = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, path);
 * console.log(new TextDecoder().decode(bytes)); // "hello"
 * bytes.unmap();
 * ```
 */
export class Mapping extends Uint8Array {
  /** Derived arrays (`subarray`, `slice`, `map`, `filter`) are plain `Uint8Array`s. */
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  #live: Live | null;

  /** @internal Use `mmap()`; a Mapping is only made over memory the library mapped. */
  constructor(buffer: ArrayBuffer, live: Live) {
    if (!issued.delete(live)) {
      throw new TypeError(
        "mmap: a Mapping cannot be constructed directly; call mmap(), mmap.map_shm() or " +
          "copy the bytes into a plain Uint8Array",
      );
    }
    super(buffer);
    this.#live = live;
  }

  /** True until the mapping is unmapped. */
  get mapped(): boolean {
    return this.#live !== null;
  }

  /**
   * Unmaps the memory now and returns `true`. The buffer is detached first, so every view over
   * it then has length 0 and reads `undefined` instead of touching freed memory. A second call
   * returns `false`.
   *
   * @throws {MmapError} with code `ERR_MMAP_DETACHED` if user code detached the buffer itself
   * (`transfer()`, `postMessage`, `structuredClone`): the memory may be in use elsewhere, so it
   * is not unmapped.
   */
  unmap(): boolean {
    const live = this.#live;
    if (live === null) return false;
    const buffer = this.buffer as ArrayBuffer;
    if (buffer.detached) {
      this.#live = null;
      finalizer?.unregister(live);
      throw new MmapError(
        "mmap: this mapping's ArrayBuffer was detached by transfer(), postMessage() or " +
          "structuredClone(), so its memory may still be in use elsewhere; it was not unmapped. " +
          "Keep the mapping and call unmap() instead of transferring its buffer.",
        "ERR_MMAP_DETACHED",
      );
    }
    const status = native.symbols.mmap_ffi_unmap(live.address, live.id, out, out.length);
    if (status !== 0) throw failure(status, { out });
    this.#live = null;
    finalizer?.unregister(live);
    transfer.call(buffer, 0);
    return true;
  }

  /**
   * Flushes changes to the file (`msync`) and returns `true`; `false` once unmapped.
   *
   * @param offset First byte to flush, from the start of the buffer (default 0). Need not be
   *   page-aligned: the system call starts at the page holding it.
   * @param length Bytes to flush (default: to the end of the buffer).
   * @param flags `MS_SYNC` (default, waits) or `MS_ASYNC`, optionally OR `MS_INVALIDATE`.
   * @throws {RangeError} if the range lies outside the buffer.
   */
  sync(offset?: number, length?: number, flags?: number): boolean {
    const live = this.#live;
    if (live === null || (this.buffer as ArrayBuffer).detached) return false;
    const start = offset === undefined ? 0 : byteCount(offset, "offset");
    const count = length === undefined
      ? Math.max(0, this.length - start)
      : byteCount(length, "length");
    const mode = flags === undefined ? MS_SYNC : syncFlags(flags);
    if (start + count > this.length) {
      throw new RangeError(
        `mmap: sync range [${start}, ${start + count}) lies outside the buffer [0, ${this.length})`,
      );
    }
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
}

/** A mapping of a POSIX shared-memory object, which can also remove the object's name. */
export class SharedMemoryMapping extends Mapping {
  /** The shared-memory object's name, with its leading `/`. */
  readonly name: string;

  /** @internal Use `mmap.map_shm()`. */
  constructor(buffer: ArrayBuffer, live: Live, name: string) {
    super(buffer, live);
    this.name = name;
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
  const bytes = new TextEncoder().encode(name);
  const status = native.symbols.mmap_ffi_shm_unlink(bytes, bytes.length, out, out.length);
  if (status !== 0) throw failure(status, { path: name, out });
}

/**
 * Wraps the mapping a successful map call wrote to {@linkcode out}: an ArrayBuffer over it,
 * watched so the memory is unmapped when the buffer is collected.
 */
export function adopt(name?: string): Mapping {
  const live: Live = { address: out[abi.OUT_ADDRESS], id: out[abi.OUT_ID] };
  const length = out[abi.OUT_LENGTH];
  if (length > native.maxBufferLength) {
    release(live);
    throw new RangeError(
      `mmap: ${length} bytes is more than ${native.runtime} can hold in one ArrayBuffer ` +
        `(${native.maxBufferLength} bytes); map a window of the file at a time with a length ` +
        "and an offset",
    );
  }
  const buffer = native.arrayBuffer(live.address, length, live.id);
  issued.add(live);
  if (finalizer !== null) {
    finalizer.register(buffer, live, live);
    watchTransfers(buffer, live);
  }
  return name === undefined
    ? new Mapping(buffer, live)
    : new SharedMemoryMapping(buffer, live, name);
}
