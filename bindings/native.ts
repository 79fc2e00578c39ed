/**
 * What every runtime's loader provides: the library's functions, the runtime's way to put
 * mapped memory in an `ArrayBuffer` with a native release hook, and what the rest of the
 * library needs to know about the runtime, as capabilities (never its name).
 *
 * @module
 */
import type { NativeSymbols } from "./symbols.ts";

/** A loaded native library and the runtime-specific pieces around it. */
export interface Native {
  /** The runtime's name and version, for messages only (`"Bun 1.4.4"`). */
  readonly runtimeName: string;
  /** The library's functions. */
  readonly symbols: NativeSymbols;
  /** The largest ArrayBuffer the runtime can create over foreign memory, in bytes. */
  readonly maxBufferLength: number;
  /**
   * True where the runtime's built-ins keep the memory itself (the buffer's backing store, or
   * a pin on the buffer) for as long as they use it, so the release hook of
   * {@linkcode Native.wrap} fires only after the last of them is done. False where a built-in
   * keeps only the JavaScript object and reads the memory through a raw pointer: the library
   * then also holds the address range until that object is collected.
   */
  readonly builtinsKeepMemory: boolean;
  /**
   * An `ArrayBuffer` over `length` bytes of the live mapping `id` at `address`, without copying.
   * The buffer owns the mapping's first hold: the runtime drops it (through the library's
   * release hook, on whatever thread) once it has freed the memory, after every owner, clone,
   * transfer and pending operation let go of it.
   */
  wrap(address: number, length: number, id: number): ArrayBuffer;
}

/** A runtime's loader: `detect()` says whether it is the runtime running, `load()` opens it. */
export interface Loader {
  /** True if this loader's runtime is the one running. */
  detect(): boolean;
  /** Opens the native library; throws an error that says what to do if it cannot. */
  load(): Native;
}

/** The file name of the library on this OS (`libmmap_ffi.so`, `libmmap_ffi.dylib`). */
export function libraryFileName(os: string): string {
  return os === "darwin" ? "libmmap_ffi.dylib" : "libmmap_ffi.so";
}

/** Where the library is looked for: `MMAP_FFI_LIB` if set, else cargo's release output. */
export function libraryPath(os: string, override: string | undefined): string {
  if (override) return override;
  const url = new URL(`../target/release/${libraryFileName(os)}`, import.meta.url);
  return decodeURIComponent(url.pathname);
}

/**
 * The error thrown when the library cannot be loaded, saying how to build it; `note` adds what
 * the loader knows (an environment variable it could not read).
 */
export function libraryMissing(path: string, cause: unknown, note = ""): Error {
  const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
  return new Error(
    `mmap: cannot load the native library at ${path}. Build it with ` +
      `\`cargo build --release\` in ${root} (or \`deno task build\`), or set MMAP_FFI_LIB ` +
      `to the library's path.${note}`,
    { cause },
  );
}

/** What `process.dlopen` fills in: the Node-API module's exports. */
interface AddonModule {
  exports: { wrap?: unknown };
}

/** The `process.dlopen` of Deno and Node. */
export type DlopenAddon = (module: AddonModule, path: string) => void;

/** The Node-API module's `wrap(address, length, id, owned)`. */
type AddonWrap = (address: number, length: number, id: number, owned: boolean) => ArrayBuffer;

/**
 * Loads the library a second time as a Node-API module (the same file and the same static
 * state) and returns its `wrap`: an external `ArrayBuffer` whose finalizer is the library's
 * release hook. For runtimes whose FFI has no deallocator of its own. `ownedByThread`: the
 * runtime never moves such a buffer to another thread and, when a thread ends, drops its
 * buffers without their finalizers (Node), so the library unmaps them then itself.
 */
export function nodeApiWrap(
  dlopen: DlopenAddon,
  path: string,
  ownedByThread: boolean,
): Native["wrap"] {
  const addon: AddonModule = { exports: {} };
  dlopen(addon, path);
  const wrap = addon.exports.wrap;
  if (typeof wrap !== "function") {
    throw new Error(
      `mmap: ${path} loaded as a Node-API module but exports no wrap(); rebuild it with ` +
        "`cargo build --release`",
    );
  }
  const addonWrap = wrap as AddonWrap;
  return (address, length, id) => addonWrap(address, length, id, ownedByThread);
}
