/**
 * The Bun loader: converts the one symbol table for `bun:ffi`, opens the library, and wraps
 * mapped memory with `toArrayBuffer`, passing the library's deallocator so the garbage
 * collector unmaps a dropped buffer wherever it was transferred.
 *
 * This file is type-checked by Deno, which has no `bun:ffi` types, so the little of `bun:ffi`
 * it uses is declared here.
 *
 * @module
 */
import { type NativeSymbols, symbols } from "./symbols.ts";
import { libraryMissing, libraryPath, type Native } from "./native.ts";

/** The `bun:ffi` type names this library's table can need. */
type BunType =
  | "void"
  | "bool"
  | "u8"
  | "i8"
  | "u16"
  | "i16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  | "usize"
  | "isize"
  | "f32"
  | "f64"
  | "ptr"
  | "function";

/** Every Deno native type (structs aside) and its `bun:ffi` counterpart. */
const BUN_TYPES: {
  readonly [T in Exclude<Deno.NativeResultType, Deno.NativeStructType>]: BunType;
} = {
  void: "void",
  bool: "bool",
  u8: "u8",
  i8: "i8",
  u16: "u16",
  i16: "i16",
  u32: "u32",
  i32: "i32",
  u64: "u64",
  i64: "i64",
  usize: "usize",
  isize: "isize",
  f32: "f32",
  f64: "f64",
  pointer: "ptr",
  buffer: "ptr",
  function: "function",
};

interface BunSymbol {
  args: BunType[];
  returns: BunType;
}

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, BunSymbol>,
  ): { symbols: Record<string, unknown> };
  toArrayBuffer(
    address: number,
    byteOffset: number,
    byteLength: number,
    context: number,
    deallocator: number,
  ): ArrayBuffer;
}

interface BunGlobals {
  Bun: { env: Record<string, string | undefined> };
  process: { platform: string };
}

function bunType(type: Deno.NativeResultType): BunType {
  if (typeof type !== "string") throw new TypeError("mmap: struct types are not used");
  return BUN_TYPES[type];
}

/** Converts the Deno-style symbol table into `bun:ffi`'s form. */
export function toBunSymbols(
  table: Deno.ForeignLibraryInterface,
): Record<string, BunSymbol> {
  const converted: Record<string, BunSymbol> = {};
  for (const [name, definition] of Object.entries(table)) {
    if (!("parameters" in definition)) continue;
    converted[name] = {
      args: definition.parameters.map(bunType),
      returns: bunType(definition.result),
    };
  }
  return converted;
}

/** Opens the native library in Bun. */
export async function load(): Promise<Native> {
  // A computed specifier keeps Deno's type checker away from a module only Bun has.
  const specifier = "bun:ffi";
  const ffi: BunFfi = await import(specifier);
  const globals = globalThis as unknown as BunGlobals;
  const path = libraryPath(globals.process.platform, globals.Bun.env.MMAP_FFI_LIB);
  let library: { symbols: Record<string, unknown> };
  try {
    library = ffi.dlopen(path, toBunSymbols(symbols));
  } catch (cause) {
    throw libraryMissing(path, cause);
  }
  const native = library.symbols as unknown as NativeSymbols;
  const deallocator = native.mmap_ffi_release_callback() as unknown as number;
  return {
    runtime: "bun",
    symbols: native,
    // Bun's ArrayBuffers stop at 4 GiB.
    maxBufferLength: 2 ** 32,
    releasesOnCollect: true,
    arrayBuffer: (address, length, id) => ffi.toArrayBuffer(address, 0, length, id, deallocator),
    checkPathAccess: () => {},
  };
}
