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

const VARIABLE = "MMAP_FFI_LIB";

/** MMAP_FFI_LIB where Deno lets the program read it (`--allow-env`); never prompts. */
function envOverride(): { path: string | undefined; readable: boolean } {
  const readable = Deno.permissions.querySync({ name: "env", variable: VARIABLE }).state ===
    "granted";
  return { path: readable ? Deno.env.get(VARIABLE) : undefined, readable };
}

/** Opens the native library in Deno. */
export function load(): Native {
  const override = envOverride();
  const path = libraryPath(Deno.build.os, override.path);
  // Asked first, so the error names the flag (and Deno never prompts for it).
  if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") {
    throw new Deno.errors.NotCapable(
      `mmap: loading the native library ${path} needs FFI access: run Deno with --allow-ffi ` +
        `(or --allow-ffi=${path})`,
    );
  }
  let library: Deno.DynamicLibrary<typeof symbols>;
  let wrap: Native["wrap"];
  try {
    library = Deno.dlopen(path, symbols);
    // A buffer may move to a Worker, whose end Deno reports through the finalizers.
    wrap = nodeApiWrap(process.dlopen, path, false);
  } catch (cause) {
    const note = override.readable
      ? ""
      : ` (MMAP_FFI_LIB, if set, was not read: that needs --allow-env=${VARIABLE}.)`;
    throw libraryMissing(path, cause, note);
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
  };
}
