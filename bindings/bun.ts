/**
 * The Bun loader: converts the one symbol table for `bun:ffi`, opens the library, and wraps
 * mapped memory with `toArrayBuffer`, passing the library's release hook as the deallocator,
 * which Bun calls once the memory is freed, wherever it was transferred.
 *
 * This file is type-checked by Deno, which has no `bun:ffi` types, so the little of `bun:ffi`
 * it uses is declared here.
 *
 * @module
 */
import process from "node:process";
import { symbols } from "./symbols.ts";
import { convertTable, gatherSymbols } from "./convert.ts";
import { libraryMissing, locateLibrary, type Native } from "./native.ts";
import type { NativeType } from "./symbols.ts";

/** The `bun:ffi` type names the table needs. */
type BunType = "void" | "i32" | "u32" | "u64" | "usize" | "ptr";

/** Each C type of the table and its `bun:ffi` name. */
const BUN_TYPES: { readonly [T in NativeType]: BunType } = {
  void: "void",
  i32: "i32",
  u32: "u32",
  u64: "u64",
  usize: "usize",
  buffer: "ptr",
  pointer: "ptr",
};

/** One function in `bun:ffi`'s form. */
export interface BunSymbol {
  args: BunType[];
  returns: BunType;
}

/** The symbol table in `bun:ffi`'s form, by exported symbol. */
export function bunSymbols(): Record<string, BunSymbol> {
  return convertTable(symbols, (definition) => ({
    args: definition.parameters.map((type) => BUN_TYPES[type]),
    returns: BUN_TYPES[definition.result],
  }));
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

interface BunGlobal {
  Bun?: { env: Record<string, string | undefined>; version: string };
}

/** `process.getBuiltinModule`, which loads `bun:ffi` synchronously (so `require` works). */
type GetBuiltinModule = (name: string) => unknown;

/** True under Bun. */
export function detect(): boolean {
  return typeof (globalThis as BunGlobal).Bun !== "undefined";
}

/** Opens the native library in Bun. */
export function load(): Native {
  const bun = (globalThis as BunGlobal).Bun!;
  const getBuiltinModule = (process as { getBuiltinModule?: GetBuiltinModule }).getBuiltinModule;
  const ffi = getBuiltinModule?.("bun:ffi") as BunFfi | undefined;
  if (ffi === undefined) throw new Error(`mmap: this Bun (${bun.version}) has no bun:ffi`);
  const location = locateLibrary(bun.env.MMAP_FFI_LIB);
  if (location.from === "nowhere") throw libraryMissing(location, undefined);
  let library: { symbols: Record<string, unknown> };
  try {
    library = ffi.dlopen(location.path, bunSymbols());
  } catch (cause) {
    throw libraryMissing(location, cause);
  }
  const native = gatherSymbols(symbols, library.symbols);
  const deallocator = native.mmap_ffi_release_callback() as number;
  return {
    runtimeName: `Bun ${bun.version}`,
    symbols: native,
    // Bun's ArrayBuffers stop at 4 GiB.
    maxBufferLength: 2 ** 32,
    // Bun pins a buffer while a built-in uses it: it cannot be detached, nor freed, meanwhile.
    builtinsKeepMemory: true,
    wrap: (address, length, id) => ffi.toArrayBuffer(address, 0, length, id, deallocator),
  };
}
