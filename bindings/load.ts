/**
 * Loads the native library through the loader of the runtime in use.
 *
 * @module
 */
import type { Native } from "./native.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

/** The native library, loaded once when this module is first imported. */
export const native: Native = isBun
  ? await (await import("./bun.ts")).load()
  : (await import("./deno.ts")).load();
