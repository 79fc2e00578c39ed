/**
 * What every loader does with the one symbol table: converts it to the runtime's form (with the
 * type names the loader maps), and gathers the opened library's functions back under the
 * table's keys (variants included), adapted to one set of signatures.
 *
 * @module
 */
import type { ForeignFunction, NativeSymbols, NativeType } from "./symbols.ts";

/** The exported symbol behind a table entry: its `name`, or its key. */
export function exportName(key: string, definition: ForeignFunction): string {
  return definition.name ?? key;
}

/**
 * The table in a runtime's own form, keyed by exported symbol (variants share theirs), each
 * function converted by `convert` (which maps the C types to the runtime's names).
 */
export function convertTable<T>(
  table: Readonly<Record<string, ForeignFunction>>,
  convert: (definition: ForeignFunction) => T,
): Record<string, T> {
  const converted: Record<string, T> = {};
  for (const [key, definition] of Object.entries(table)) {
    converted[exportName(key, definition)] = convert(definition);
  }
  return converted;
}

/** How {@linkcode gatherSymbols} adapts the runtime's functions. */
export interface GatherOptions {
  /** The runtime opened each entry under its key (variants through their `name`). */
  byKey?: boolean;
  /** The runtime runs `nonblocking` entries on another thread and returns a `Promise`. */
  nonblocking?: boolean;
  /** The runtime wants BigInts for 64-bit parameters (Deno: numbers take its slow path). */
  bigInts?: boolean;
}

/** The 64-bit integer types, which some runtimes want as BigInts. */
const WIDE: ReadonlySet<NativeType> = new Set(["u64", "usize"]);

/**
 * `call` with its 64-bit parameters converted from numbers to BigInts: Deno's FFI takes a
 * number there, but only on its slow path (about 200 ns more per call than a BigInt).
 */
function withBigInts(
  call: (...args: unknown[]) => unknown,
  definition: ForeignFunction,
): (...args: unknown[]) => unknown {
  const wide = definition.parameters.flatMap((type, index) => WIDE.has(type) ? [index] : []);
  if (wide.length === 0) return call;
  return (...args: unknown[]) => {
    for (const index of wide) {
      const value = args[index];
      if (typeof value === "number") args[index] = BigInt(value);
    }
    return call(...args);
  };
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
  { byKey = false, nonblocking = false, bigInts = false }: GatherOptions = {},
): NativeSymbols {
  const gathered: Record<string, unknown> = {};
  for (const [key, definition] of Object.entries(table)) {
    const name = exportName(key, definition);
    const call = functions[byKey ? key : name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof call !== "function") {
      throw new Error(`mmap: the native library has no ${name}; rebuild it with cargo`);
    }
    const direct = bigInts ? withBigInts(call, definition) : call;
    gathered[key] = definition.nonblocking && !nonblocking
      ? (...args: unknown[]) => {
        try {
          return Promise.resolve(direct(...args));
        } catch (error) {
          return Promise.reject(error);
        }
      }
      : direct;
  }
  // Every key of the table now holds a function of the table's signature: the table is the
  // type's source, and the library's exports were checked above.
  return gathered as NativeSymbols;
}
