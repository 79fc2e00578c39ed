/**
 * The Node loader: converts the one symbol table for `node:ffi` (Node 26.1 and later), opens
 * the library with it for its functions, and a second time as a Node-API module
 * (`process.dlopen`) for `wrap`, whose buffers Node frees through the library's release hook
 * once nothing holds their memory.
 *
 * Node's built-ins keep only the buffer object while they read or write its memory through a
 * raw pointer (an `fs.write` in flight, for one), so the library also holds a mapping's range
 * until that object is collected ({@linkcode Native.builtinsKeepMemory}).
 *
 * This file is type-checked by Deno, whose Node types have no `node:ffi` yet, so the little of
 * it used here is declared here.
 *
 * @module
 */
import process from "node:process";
import { symbols } from "./symbols.ts";
import type { NativeType } from "./symbols.ts";
import { convertTable, gatherSymbols } from "./convert.ts";
import {
  type DlopenAddon,
  libraryMissing,
  locateLibrary,
  type Native,
  nodeApiWrap,
} from "./native.ts";

/** The `node:ffi` type names the table needs. */
type NodeType = "void" | "i32" | "u32" | "u64" | "buffer" | "pointer";

/** Each C type of the table and its `node:ffi` name (`size_t` is 64 bits where Node runs this). */
const NODE_TYPES: { readonly [T in NativeType]: NodeType } = {
  void: "void",
  i32: "i32",
  u32: "u32",
  u64: "u64",
  usize: "u64",
  buffer: "buffer",
  pointer: "pointer",
};

/** One function in `node:ffi`'s form. */
export interface NodeSignature {
  arguments: NodeType[];
  return: NodeType;
}

/** The symbol table in `node:ffi`'s form, by exported symbol (it has no aliases). */
export function nodeSignatures(): Record<string, NodeSignature> {
  return convertTable(symbols, (definition) => ({
    arguments: definition.parameters.map((type) => NODE_TYPES[type]),
    return: NODE_TYPES[definition.result],
  }));
}

interface NodeFfi {
  dlopen(
    path: string,
    definitions: Record<string, NodeSignature>,
  ): { functions: Record<string, unknown> };
}

interface NodeProcess {
  versions: { node?: string };
  version: string;
  getBuiltinModule?: (name: string) => unknown;
  permission?: { has(scope: string, reference?: string): boolean };
  dlopen: DlopenAddon;
}

const node: NodeProcess = process;

/** True under Node (Deno and Bun also report a Node version, for compatibility). */
export function detect(): boolean {
  return typeof node.versions?.node === "string" && !("Deno" in globalThis) &&
    !("Bun" in globalThis);
}

/** An error like Node's own for a permission its `--permission` model withholds. */
function accessDenied(message: string): Error {
  return Object.assign(new Error(message), { code: "ERR_ACCESS_DENIED" });
}

/** Opens the native library in Node. */
export function load(): Native {
  // Loaded synchronously (so `require()` works); missing before Node 26.1, or when disabled.
  const ffi = node.getBuiltinModule?.("node:ffi") as NodeFfi | undefined;
  if (ffi === undefined) {
    throw new Error(
      `mmap: this Node (${node.version}) has no node:ffi: use Node 26.1 or later, without ` +
        "--no-experimental-ffi",
    );
  }
  const location = locateLibrary(process.env.MMAP_FFI_LIB);
  if (location.from === "nowhere") throw libraryMissing(location, undefined);
  const path = location.path;
  // Under `--permission`, asked first so the error names the flags.
  if (node.permission && !node.permission.has("ffi")) {
    throw accessDenied(
      `mmap: loading the native library ${path} needs FFI access: run Node with --allow-ffi ` +
        "and --allow-addons (Node's --permission is on)",
    );
  }
  let functions: Record<string, unknown>;
  let wrap: Native["wrap"];
  try {
    functions = ffi.dlopen(path, nodeSignatures()).functions;
  } catch (cause) {
    throw libraryMissing(location, cause);
  }
  try {
    // Node refuses to move these buffers to another thread, and ends a Worker without
    // running their finalizers: the library unmaps them then.
    wrap = nodeApiWrap(node.dlopen, path, true);
  } catch (cause) {
    if ((cause as { code?: string }).code === "ERR_DLOPEN_DISABLED") {
      throw Object.assign(
        accessDenied(
          `mmap: loading the native library ${path} as a Node-API module (for its release ` +
            "hook) needs --allow-addons (Node's --permission is on)",
        ),
        { cause },
      );
    }
    throw libraryMissing(location, cause);
  }
  return {
    runtimeName: `Node ${node.version}`,
    // node:ffi opens each function by its symbol, has no thread pool for calls, and takes
    // 64-bit parameters only as BigInts.
    symbols: gatherSymbols(symbols, functions, { bigInts: true }),
    maxBufferLength: Number.MAX_SAFE_INTEGER,
    builtinsKeepMemory: false,
    wrap,
  };
}
