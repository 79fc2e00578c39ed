/**
 * Three ways to count the lines of a file — through mappings, through `read()` into one small
 * buffer, and through `readFileSync` — with the same counting loop, so only the way the bytes
 * arrive differs.
 *
 * @module
 */
import * as fs from "node:fs";
import { mapWindows } from "./maps.ts";

/** How the bytes of the file reach the counting loop. */
export type Method = "mmap" | "read" | "readFile";

/** Every method, in the order the demo runs them. */
export const METHODS: readonly Method[] = ["mmap", "read", "readFile"];

/** Bytes per mapping window (a multiple of every page size). */
export const WINDOW_BYTES = 64 << 20;
/** Bytes per `read()` call. */
export const READ_BYTES = 1 << 20;

/** What each method does, in words. */
export const DESCRIPTIONS: Record<Method, string> = {
  mmap: `mmap, ${WINDOW_BYTES >> 20} MiB windows`,
  read: `read(), one ${READ_BYTES >> 20} MiB buffer`,
  readFile: "readFileSync, whole file",
};

/** The number of newline bytes in `bytes`. */
export function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  let at = bytes.indexOf(10);
  while (at !== -1) {
    count += 1;
    at = bytes.indexOf(10, at + 1);
  }
  return count;
}

/**
 * Counts the newlines of the file at `path` with `method`, calling `onProgress` with the bytes
 * done after each window or buffer.
 */
export function countLines(
  path: string,
  method: Method,
  onProgress: (bytesDone: number) => void = () => {},
): number {
  if (method === "readFile") {
    const lines = countNewlines(fs.readFileSync(path));
    onProgress(fs.statSync(path).size);
    return lines;
  }
  if (method === "mmap") {
    let lines = 0;
    for (const window of mapWindows(path, WINDOW_BYTES)) {
      lines += countNewlines(window);
      onProgress(window.offset + window.length);
    }
    return lines;
  }
  const fd = fs.openSync(path, "r");
  try {
    const size = fs.fstatSync(fd).size;
    let lines = 0;
    {
      const buffer = new Uint8Array(READ_BYTES);
      for (let offset = 0; offset < size;) {
        const got = fs.readSync(fd, buffer, 0, READ_BYTES, offset);
        if (got === 0) break;
        lines += countNewlines(got === READ_BYTES ? buffer : buffer.subarray(0, got));
        offset += got;
        if ((offset & (WINDOW_BYTES - 1)) === 0) onProgress(offset);
      }
    }
    return lines;
  } finally {
    fs.closeSync(fd);
  }
}
