/**
 * Loads the native library through the loader of the runtime in use: the first in the list
 * whose `detect()` holds. Synchronous, so the module also loads with `require()`.
 *
 * @module
 */
import * as bun from "./bun.ts";
import * as deno from "./deno.ts";
import * as node from "./node.ts";
import type { Loader, Native } from "./native.ts";

/** Every runtime's loader, in the order they are tried. */
const loaders: readonly Loader[] = [bun, deno, node];

function loadNative(): Native {
  const loader = loaders.find((candidate) => candidate.detect());
  if (loader === undefined) {
    throw new Error("mmap: this runtime is not supported; run it under Deno, Bun or Node 26");
  }
  return loader.load();
}

/** The native library, loaded once when this module is first imported. */
export const native: Native = loadNative();
