/**
 * What a new mapping may be asked to do before it is handed out: pre-fault its pages and lock
 * them in memory. Shared by {@linkcode open} and {@linkcode anonymous}.
 *
 * @module
 */
import { MAP_POPULATE } from "./constants.ts";
import type { Mapping } from "./mapping.ts";

/** Pre-faults and locks a new mapping as asked; unmaps it if that fails. */
export function prepare<M extends Mapping>(mapping: M, populate: boolean, lock: boolean): M {
  try {
    // MAP_POPULATE did it already where the OS has it.
    if (populate && MAP_POPULATE === undefined) mapping.advise("willneed");
    if (lock) mapping.lock();
  } catch (error) {
    mapping.unmap();
    throw error;
  }
  return mapping;
}
