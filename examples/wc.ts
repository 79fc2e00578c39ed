// wc through memory maps: counts the lines, words and bytes of files of any size by mapping a
// window at a time (Bun's ArrayBuffers stop at 4 GiB; a window also keeps memory use flat).
// Run: deno run --allow-ffi --allow-read --allow-env examples/wc.ts FILE...
//  or: bun run examples/wc.ts FILE...
//  or: node --disable-warning=ExperimentalWarning examples/wc.ts FILE...
// With no FILE it counts itself.
import process from "node:process";
import { windows } from "../mod.ts";

/** Bytes mapped at a time: a multiple of every page size. */
export const WINDOW_BYTES = 256 << 20;

/** What `wc` reports for a file. */
export interface Counts {
  lines: number;
  words: number;
  bytes: number;
}

/** 1 for the bytes `wc` takes as white space between words. */
const SPACE = new Uint8Array(256);
for (const byte of [9, 10, 11, 12, 13, 32]) SPACE[byte] = 1;

/** Running totals of a scan, and whether the last byte seen was inside a word. */
interface Scan extends Counts {
  inWord: boolean;
}

/** Adds the lines and words of `bytes` to `scan`; a word cut by the window edge counts once. */
function scanBytes(bytes: Uint8Array, scan: Scan): void {
  let { lines, words, inWord } = scan;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    if (byte === 10) lines += 1;
    const space = SPACE[byte] === 1;
    if (!space && !inWord) words += 1;
    inWord = !space;
  }
  Object.assign(scan, { lines, words, inWord });
}

/**
 * Counts the lines (newlines), words (runs of bytes other than ASCII white space) and bytes of
 * the file at `path`, mapping `windowBytes` (a multiple of the page size) at a time.
 */
export function countFile(path: string, windowBytes: number = WINDOW_BYTES): Counts {
  const scan: Scan = { lines: 0, words: 0, bytes: 0, inWord: false };
  // windows() maps one window at a time and unmaps it when the loop moves on.
  for (const window of windows(path, { size: windowBytes })) {
    scan.bytes += window.length;
    // A plain view over the same memory: engines optimise loops over it best.
    scanBytes(new Uint8Array(window.buffer, window.byteOffset, window.length), scan);
  }
  return { lines: scan.lines, words: scan.words, bytes: scan.bytes };
}

/** One line of output, as `wc` prints it. */
export function formatCounts(counts: Counts, name: string, width: number): string {
  const column = (value: number) => String(value).padStart(width);
  return `${column(counts.lines)} ${column(counts.words)} ${column(counts.bytes)} ${name}`;
}

if (import.meta.main) {
  let files = process.argv.slice(2);
  if (files.length === 0) {
    files = [decodeURIComponent(new URL(import.meta.url).pathname)];
    console.log("(no file given: counting this script)");
  }
  const started = performance.now();
  const results = files.map((file) => ({ file, counts: countFile(file) }));
  const seconds = (performance.now() - started) / 1000;
  const total = results.reduce(
    (sum, { counts }) => ({
      lines: sum.lines + counts.lines,
      words: sum.words + counts.words,
      bytes: sum.bytes + counts.bytes,
    }),
    { lines: 0, words: 0, bytes: 0 },
  );
  const width = Math.max(7, String(total.bytes).length);
  for (const { file, counts } of results) console.log(formatCounts(counts, file, width));
  if (results.length > 1) console.log(formatCounts(total, "total", width));
  const rate = total.bytes / (1 << 20) / Math.max(seconds, 1e-9);
  console.error(
    `${(total.bytes / (1 << 20)).toFixed(1)} MiB in ${seconds.toFixed(2)} s (${
      rate.toFixed(0)
    } MiB/s)`,
  );
}
