/**
 * The Deno loader: opens the library with `Deno.dlopen` and wraps mapped memory with
 * `Deno.UnsafePointerView.getArrayBuffer`.
 *
 * @module
 */
import { type NativeSymbols, symbols } from "./symbols.ts";
import { libraryMissing, libraryPath, type Native } from "./native.ts";

function envOverride(): string | undefined {
  const variable = "MMAP_FFI_LIB";
  const state = Deno.permissions.querySync({ name: "env", variable }).state;
  return state === "granted" ? Deno.env.get(variable) : undefined;
}

function checkPathAccess(path: string, write: boolean): void {
  const needed = write ? (["read", "write"] as const) : (["read"] as const);
  for (const name of needed) {
    if (Deno.permissions.querySync({ name, path }).state !== "granted") {
      throw new Deno.errors.NotCapable(
        `Requires ${name} access to "${path}", run again with the --allow-${name} flag`,
      );
    }
  }
}

function arrayBuffer(address: number, length: number): ArrayBuffer {
  const pointer = Deno.UnsafePointer.create(BigInt(address));
  if (pointer === null) throw new Error("mmap: the native library returned a null address");
  return Deno.UnsafePointerView.getArrayBuffer(pointer, length);
}

/** Opens the native library in Deno. */
export function load(): Native {
  const path = libraryPath(Deno.build.os, envOverride());
  let library: Deno.DynamicLibrary<typeof symbols>;
  try {
    library = Deno.dlopen(path, symbols);
  } catch (cause) {
    throw libraryMissing(path, cause);
  }
  return {
    runtime: "deno",
    symbols: library.symbols as unknown as NativeSymbols,
    maxBufferLength: Number.MAX_SAFE_INTEGER,
    releasesOnCollect: false,
    arrayBuffer,
    checkPathAccess,
  };
}
