/**
 * The one symbol table in each runtime's terms: type names for `bun:ffi`, and the opened
 * library's functions gathered back under the table's keys (variants included).
 *
 * @module
 */
import type { ForeignFunction, NativeSymbols, NativeType } from "./symbols.ts";

/** The exported symbol behind a table entry: its `name`, or its key. */
export function exportName(key: string, definition: ForeignFunction): string {
  return definition.name ?? key;
}

/** The `bun:ffi` type names the table needs. */
export type BunType = "void" | "i32" | "u32" | "u64" | "usize" | "ptr";

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

/** The table in `bun:ffi`'s form, by exported symbol (variants share theirs). */
export function toBunSymbols(
  table: Readonly<Record<string, ForeignFunction>>,
): Record<string, BunSymbol> {
  const converted: Record<string, BunSymbol> = {};
  for (const [key, definition] of Object.entries(table)) {
    converted[exportName(key, definition)] = {
      args: definition.parameters.map((type) => BUN_TYPES[type]),
      returns: BUN_TYPES[definition.result],
    };
  }
  return converted;
}

/**
 * Gathers an opened library's functions under the table's keys (looked up by exported symbol,
 * or by key where the runtime already opened variants under their keys). Where the runtime
 * cannot run a `nonblocking` entry on another thread, it is called at once and returns a
 * settled `Promise`, so every runtime offers the same signatures.
 */
export function gatherSymbols(
  table: Readonly<Record<string, ForeignFunction>>,
  functions: Readonly<Record<string, unknown>>,
  { byKey = false, nonblocking = false }: { byKey?: boolean; nonblocking?: boolean } = {},
): NativeSymbols {
  const gathered: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(table)) {
    const name = exportName(key, definition);
    const call = functions[byKey ? key : name];
    if (typeof call !== "function") {
      throw new Error(`mmap: the native library has no ${name}; rebuild it with cargo`);
    }
    gathered[key] = definition.nonblocking && !nonblocking
      ? (...args: unknown[]) => {
        try {
          return Promise.resolve(call(...args));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      : call;
  }
  // Every key of the table now holds a function of the table's signature: the table is the
  // type's source, and the library's exports were checked above.
  return gathered as NativeSymbols;
}
