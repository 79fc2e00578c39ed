/**
 * What every runtime's loader provides: the library's functions, the runtime's way to put
 * mapped memory in an `ArrayBuffer` with a native release hook, and what the rest of the
 * library needs to know about the runtime, as capabilities (never its name).
 *
 * @module
 */
import process from "node:process";
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

/**
 * The npm package that carries the prebuilt library for this OS and CPU
 * (`@mmap/mmap-linux-x64-gnu`, `@mmap/mmap-darwin-arm64`); npm installs the one that fits with
 * `@mmap/mmap`, as an optional dependency.
 */
export function platformPackage(os: string, arch: string): string {
  return `@mmap/mmap-${os}-${arch}${os === "linux" ? "-gnu" : ""}`;
}

/** Where the library was found, and how. */
export interface LibraryLocation {
  /** Its path. */
  readonly path: string;
  /**
   * How it was found: the environment variable, the platform package, or this checkout's
   * build; `"nowhere"` for a module loaded from a URL (JSR), which has no checkout beside it.
   */
  readonly from: "MMAP_FFI_LIB" | "package" | "checkout" | "nowhere";
}

/**
 * The library in each platform package, resolved as a module would be (no file is read, so
 * Deno never prompts). Written out one by one so that tools that read the code (JSR, bundlers)
 * see each name.
 */
const PACKAGED: Readonly<Record<string, () => string>> = {
  "linux-x64": () => import.meta.resolve("@mmap/mmap-linux-x64-gnu/libmmap_ffi.so"),
  "linux-arm64": () => import.meta.resolve("@mmap/mmap-linux-arm64-gnu/libmmap_ffi.so"),
  "darwin-arm64": () => import.meta.resolve("@mmap/mmap-darwin-arm64/libmmap_ffi.dylib"),
  "darwin-x64": () => import.meta.resolve("@mmap/mmap-darwin-x64/libmmap_ffi.dylib"),
};

/** The platforms with a prebuilt library (`linux-x64`, `darwin-arm64`), as `<os>-<arch>`. */
export const prebuiltPlatforms: readonly string[] = Object.keys(PACKAGED);

/** The platform package's library, if that package is installed where this module can see it. */
function fromPackage(os: string, arch: string): string | undefined {
  try {
    const url = PACKAGED[`${os}-${arch}`]?.();
    return url?.startsWith("file:") ? decodeURIComponent(new URL(url).pathname) : undefined;
  } catch {
    return undefined; // not installed (or not resolvable from here, as from JSR)
  }
}

/**
 * Where the library is: `MMAP_FFI_LIB` if set; else the platform package's (see
 * {@linkcode platformPackage}); else cargo's release build beside this module, for a checkout of
 * the library itself.
 */
export function locateLibrary(
  override: string | undefined,
  os: string = process.platform,
  arch: string = process.arch,
): LibraryLocation {
  if (override) return { path: override, from: "MMAP_FFI_LIB" };
  const packaged = fromPackage(os, arch);
  if (packaged !== undefined) return { path: packaged, from: "package" };
  const url = new URL(`../target/release/${libraryFileName(os)}`, import.meta.url);
  if (url.protocol !== "file:") return { path: "", from: "nowhere" };
  return { path: decodeURIComponent(url.pathname), from: "checkout" };
}

/**
 * The error thrown when the library cannot be loaded: where it was looked for, and what to do
 * on this platform; `note` adds what the loader knows (an environment variable it could not
 * read).
 */
export function libraryMissing(location: LibraryLocation, cause: unknown, note = ""): Error {
  const platform = `${process.platform}-${process.arch}`;
  const name = platformPackage(process.platform, process.arch);
  const where = {
    MMAP_FFI_LIB: `at ${location.path} (named by MMAP_FFI_LIB)`,
    package: `at ${location.path} (from ${name})`,
    checkout: `at ${location.path} (built in this checkout)`,
    nowhere: `for ${import.meta.url}: a module loaded from a URL has no library beside it`,
  }[location.from];
  const install = `On ${platform}, install ${name} (npm, bun and \`deno add npm:@mmap/mmap\` ` +
    "install it with @mmap/mmap, unless optional dependencies are turned off)";
  const next = {
    MMAP_FFI_LIB: "Point MMAP_FFI_LIB at an existing libmmap_ffi, or unset it to use the " +
      `platform package. ${install}.`,
    package: `Reinstall ${name}, or set MMAP_FFI_LIB to the library's path.`,
    checkout: `${install}, or set MMAP_FFI_LIB to the library's path; in a checkout of the ` +
      "library, build it with `cargo build --release` in " +
      `${decodeURIComponent(new URL("..", import.meta.url).pathname)} (or \`deno task build\`).`,
    nowhere: `${install}, or set MMAP_FFI_LIB to the library's path.`,
  }[location.from];
  return new Error(`mmap: cannot load the native library ${where}. ${next}${note}`, { cause });
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
