/**
 * What a new mapping may be asked to do before it is handed out: pre-fault its pages and lock
 * them in memory. Shared by {@linkcode open} and {@linkcode anonymous}.
 *
 * @module
 */
import { ADVICE, MAP_POPULATE } from "./constants.ts";
import { MmapError } from "./errors.ts";
import type { Mapping } from "./mapping.ts";

/**
 * Reads a read-only mapping's pages in (`"populate_read"`, Linux 5.14), so its private pages
 * stay the file's; `"willneed"` where the OS has no such advice.
 */
function readIn(mapping: Mapping): void {
  if (ADVICE.populate_read === undefined) {
    mapping.advise("willneed");
    return;
  }
  try {
    mapping.advise("populate_read");
  } catch (error) {
    if (!(error instanceof MmapError && error.code === "EINVAL")) throw error;
    mapping.advise("willneed"); // an older kernel
  }
}

/**
 * Pre-faults and locks a new mapping as asked; unmaps it if that fails. `readOnly`: open()'s
 * "r", whose private writable pages must be read in, not faulted in for writing.
 */
export function prepare<M extends Mapping>(
  mapping: M,
  populate: boolean,
  lock: boolean,
  readOnly = false,
): M {
  try {
    // MAP_POPULATE did it already where the OS has it, except for "r" (see fileOrigin()).
    if (populate && readOnly) readIn(mapping);
    else if (populate && MAP_POPULATE === undefined) mapping.advise("willneed");
    if (lock) mapping.lock();
  } catch (error) {
    mapping.unmap();
    throw error;
  }
  return mapping;
}
