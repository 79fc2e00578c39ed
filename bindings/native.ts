/**
 * What each runtime's loader provides: the library's functions and the few operations that
 * differ between Deno and Bun.
 *
 * @module
 */
import type { NativeSymbols } from "./symbols.ts";

/** A loaded native library and the runtime-specific pieces around it. */
export interface Native {
  /** The JavaScript runtime: `"deno"` or `"bun"`. */
  readonly runtime: "deno" | "bun";
  /** The library's functions. */
  readonly symbols: NativeSymbols;
  /** The largest ArrayBuffer the runtime can create over foreign memory, in bytes. */
  readonly maxBufferLength: number;
  /**
   * True when {@linkcode Native.arrayBuffer} attaches a native deallocator that unmaps the
   * memory when the GC frees the buffer (and follows it through `transfer()`); false when the
   * caller must use a `FinalizationRegistry`.
   */
  readonly releasesOnCollect: boolean;
  /** An ArrayBuffer over `length` bytes of mapped memory at `address`, without copying. */
  arrayBuffer(address: number, length: number, id: number): ArrayBuffer;
  /**
   * Throws the runtime's permission error unless the program may read (and, with `write`,
   * write) `path`. A no-op where the runtime has no permissions.
   */
  checkPathAccess(path: string, write: boolean): void;
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

/** The error thrown when the library cannot be loaded, saying how to build it. */
export function libraryMissing(path: string, cause: unknown): Error {
  const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
  return new Error(
    `mmap: cannot load the native library at ${path}. Build it with ` +
      `\`cargo build --release\` in ${root} (or \`deno task build\`), or set MMAP_FFI_LIB ` +
      `to the library's path.`,
    { cause },
  );
}
