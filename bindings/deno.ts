/**
 * The Deno loader: opens the library with `Deno.dlopen` for its functions, and a second time
 * as a Node-API module (`process.dlopen`, which needs only `--allow-ffi`) for `wrap`, whose
 * buffers Deno frees through the library's release hook once nothing uses the memory, not even
 * a pending operation.
 *
 * @module
 */
import process from "node:process";
import { symbols } from "./symbols.ts";
import { gatherSymbols } from "./convert.ts";
import { libraryMissing, libraryPath, type Native, nodeApiWrap } from "./native.ts";

/** True under Deno. */
export function detect(): boolean {
  return typeof (globalThis as { Deno?: { dlopen?: unknown } }).Deno?.dlopen === "function";
}

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

/** Opens the native library in Deno. */
export function load(): Native {
  const path = libraryPath(Deno.build.os, envOverride());
  let library: Deno.DynamicLibrary<typeof symbols>;
  let wrap: Native["wrap"];
  try {
    library = Deno.dlopen(path, symbols);
    wrap = nodeApiWrap(process.dlopen, path);
  } catch (cause) {
    throw libraryMissing(path, cause);
  }
  return {
    runtimeName: `Deno ${Deno.version.deno}`,
    // Deno opens each entry under its key (variants through `name`), runs `nonblocking` ones
    // on its thread pool, and takes 64-bit parameters fast only as BigInts.
    symbols: gatherSymbols(symbols, library.symbols, {
      byKey: true,
      nonblocking: true,
      bigInts: true,
    }),
    maxBufferLength: Number.MAX_SAFE_INTEGER,
    // Deno's operations keep the buffer's backing store while they run (tests/lifetime).
    builtinsKeepMemory: true,
    wrap,
    checkPathAccess,
  };
}
