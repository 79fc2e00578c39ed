/**
 * `windows()`: a file of any size, mapped one window at a time.
 *
 * @module
 */
import { fstatSync } from "node:fs";
import { withFile } from "./file.ts";
import { Mapping, type MappingMode } from "./mapping.ts";
import { MODES, openAs, pathOf, positiveLength } from "./open.ts";
import { typeError } from "./errors.ts";
import { bytes, choice, optionBag } from "./options.ts";

/** Options of {@linkcode windows}. */
export interface WindowsOptions {
  /** Bytes per window (the last one may be shorter). Required. */
  size: number;
  /** `"r"` (default), `"rw"` or `"copy"`, as for `open()`. */
  mode?: MappingMode;
  /** Where the first window starts (default 0). */
  offset?: number;
  /** How many bytes to cover in all (default: to the end of the file). */
  length?: number;
}

/**
 * One window of a file from {@linkcode windows}: unmapped when the loop moves on, unless
 * {@linkcode Window.keep} was called.
 *
 * @example Keep the windows that matter
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { type Window, windows } from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `window-example-${process.pid}.txt`);
 * writeFileSync(path, "x".repeat(10_000) + "!");
 * const hits: Window[] = [];
 * for (const window of windows(path, { size: 4096 })) {
 *   if (window.includes(33)) hits.push(window.keep());
 * }
 * console.log(hits.length); // 1
 * hits.forEach((window) => window.unmap());
 * ```
 */
export class Window extends Mapping {
  #kept = false;

  /** Keeps this window mapped after the loop moves on (unmap it yourself). */
  keep(): this {
    this.#kept = true;
    return this;
  }

  /** True once {@linkcode Window.keep} was called. */
  get kept(): boolean {
    return this.#kept;
  }
}

/**
 * Maps a file of any size one window at a time: consecutive mappings of `size` bytes (the last
 * may be shorter), each unmapped when the loop moves on unless kept. With it Bun, whose
 * ArrayBuffers stop at 4 GiB, can scan a file of any size. A window handed to an asynchronous
 * built-in that is still running when the loop moves on stays safe: it then reads zeros.
 *
 * @example Count the newlines of a large file
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { windows } from "@mmap/mmap";
 *
 * const path = join(tmpdir(), `windows-example-${process.pid}.txt`);
 * writeFileSync(path, "a\nb\n");
 * let lines = 0;
 * for (const window of windows(path, { size: 64 << 20 })) {
 *   for (let i = 0; i < window.length; i++) if (window[i] === 10) lines++;
 * }
 * console.log(lines); // 2
 * ```
 */
export function* windows(path: string | URL, options: WindowsOptions): Generator<Window, void> {
  const file = pathOf(path);
  const bag = optionBag(options, ["size", "mode", "offset", "length"], "windows()");
  const size = positiveLength(bytes(bag, "size"), "size");
  if (size === undefined) throw typeError("mmap: windows() needs the option size");
  const mode = choice(bag, "mode", MODES, "r");
  const start = bytes(bag, "offset") ?? 0;
  const length = bytes(bag, "length");
  // Opened as each window will be, so the runtime's sandbox and a missing file answer here.
  const total = withFile(file, mode === "rw", false, ({ fd }) => fstatSync(fd).size);
  const end = length === undefined ? total : Math.min(total, start + length);
  for (let at = start; at < end; at += size) {
    const window = openAs(file, { mode, offset: at, length: Math.min(size, end - at) }, Window);
    try {
      yield window;
    } finally {
      if (!window.kept) window.unmap();
    }
  }
}
