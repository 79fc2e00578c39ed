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
import { libraryMissing, locateLibrary, type Native, nodeApiWrap } from "./native.ts";

/**
 * The little of Deno's namespace this loader uses, declared here so the file compiles without
 * Deno's types (the npm package is built with `tsc`).
 */
interface DenoApi {
  dlopen(path: string, definitions: typeof symbols): { symbols: Record<string, unknown> };
  permissions: {
    querySync(descriptor: { name: string; path?: string; variable?: string }): {
      state: string;
    };
  };
  env: { get(name: string): string | undefined };
  errors: { NotCapable: new (message: string) => Error };
  version: { deno: string };
}

/** Deno's namespace, where this runs under Deno. */
function deno(): DenoApi | undefined {
  return (globalThis as { Deno?: DenoApi }).Deno;
}

/** True under Deno. */
export function detect(): boolean {
  return typeof deno()?.dlopen === "function";
}

const VARIABLE = "MMAP_FFI_LIB";

/** MMAP_FFI_LIB where Deno lets the program read it (`--allow-env`); never prompts. */
function envOverride(api: DenoApi): { path: string | undefined; readable: boolean } {
  const readable =
    api.permissions.querySync({ name: "env", variable: VARIABLE }).state === "granted";
  return { path: readable ? api.env.get(VARIABLE) : undefined, readable };
}

/** Opens the native library in Deno. */
export function load(): Native {
  const api = deno()!;
  const override = envOverride(api);
  const location = locateLibrary(override.path);
  const note = override.readable
    ? ""
    : ` (MMAP_FFI_LIB, if set, was not read: that needs --allow-env=${VARIABLE}.)`;
  if (location.from === "nowhere") throw libraryMissing(location, undefined, note);
  const path = location.path;
  // Asked first, so the error names the flag (and Deno never prompts for it).
  if (api.permissions.querySync({ name: "ffi", path }).state !== "granted") {
    throw new api.errors.NotCapable(
      `mmap: loading the native library ${path} needs FFI access: run Deno with --allow-ffi ` +
        `(or --allow-ffi=${path})`,
    );
  }
  let library: { symbols: Record<string, unknown> };
  let wrap: Native["wrap"];
  try {
    library = api.dlopen(path, symbols);
    // A buffer may move to a Worker, whose end Deno reports through the finalizers.
    wrap = nodeApiWrap(process.dlopen, path, false);
  } catch (cause) {
    throw libraryMissing(location, cause, note);
  }
  return {
    runtimeName: `Deno ${api.version.deno}`,
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
