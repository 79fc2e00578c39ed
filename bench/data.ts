/**
 * The benchmarks' data: files generated in a temp dir of their own, sparse where the content
 * does not matter, and removed afterwards (also when a case fails or the run is stopped).
 *
 * @module
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The sizes of one run. */
export interface Sizes {
  /** Case 1: the file mapped, touched and unmapped. */
  small: number;
  /** Case 2: the text file scanned whole. */
  scan: number;
  /** Case 3: the file read at random offsets. */
  random: number;
  /** Case 3: how many random reads (the offsets are drawn once, then reused). */
  reads: number;
  /** Case 4: the buffer looped over. */
  loop: number;
  /** Case 5: the mapping with one dirty page. */
  sync: number;
}

const KiB = 1 << 10;
const MiB = 1 << 20;

/** The sizes the issue asks for. */
export const FULL: Sizes = {
  small: MiB,
  scan: 256 * MiB,
  random: 1024 * MiB,
  reads: 100_000,
  loop: 16 * MiB,
  sync: 64 * MiB,
};

/** Small sizes for a smoke test (`--quick`). */
export const QUICK: Sizes = {
  small: MiB,
  scan: 8 * MiB,
  random: 64 * MiB,
  reads: 10_000,
  loop: MiB,
  sync: 4 * MiB,
};

/** The size of one random read (case 3). */
export const READ_SIZE = 4 * KiB;

/** The generated files. */
export interface DataSet {
  readonly dir: string;
  /** 1 MiB of bytes, written (so page-cached). */
  readonly small: string;
  /** Text lines, written. */
  readonly lines: string;
  /** How many newlines `lines` holds. */
  readonly lineCount: number;
  /** A sparse file with a stamp every MiB. */
  readonly random: string;
  /** A sparse file for the sync case. */
  readonly sync: string;
}

const WORDS = ["map", "page", "file", "shared", "memory", "offset", "window", "buffer", "sync"];

/** About 1 MiB of numbered text lines; returns the text and its line count. */
function textChunk(firstLine: number): { bytes: Uint8Array; lines: number } {
  let text = "";
  let line = firstLine;
  while (text.length < MiB - 200) {
    let words = String(line).padStart(10, "0");
    for (let w = 0; w < 10; w++) words += " " + WORDS[(line * 7 + w * 3) % WORDS.length];
    text += words + "\n";
    line++;
  }
  return { bytes: new TextEncoder().encode(text), lines: line - firstLine };
}

/** Writes text lines until the file holds exactly `size` bytes; returns the line count. */
function writeLines(file: string, size: number): number {
  const fd = fs.openSync(file, "w");
  try {
    let written = 0, lines = 0;
    while (written < size) {
      const chunk = textChunk(lines);
      const bytes = chunk.bytes.subarray(0, Math.min(chunk.bytes.length, size - written));
      fs.writeSync(fd, bytes);
      written += bytes.length;
      for (const byte of bytes) if (byte === 10) lines++;
    }
    return lines;
  } finally {
    fs.closeSync(fd);
  }
}

/** A sparse file of `size` bytes with an 8-byte stamp at the start of every MiB. */
function writeSparse(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, size);
    const stamp = new Uint8Array(8);
    for (let at = 0; at < size; at += MiB) {
      new DataView(stamp.buffer).setFloat64(0, at / MiB + 1);
      fs.writeSync(fd, stamp, 0, stamp.length, at);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Generates the files of a run in a new temp dir; on failure nothing is left behind. */
export function makeData(sizes: Sizes): DataSet {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-bench-"));
  try {
    const small = path.join(dir, "small.bin");
    const bytes = new Uint8Array(sizes.small);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 255;
    fs.writeFileSync(small, bytes);
    const lines = path.join(dir, "lines.txt");
    const lineCount = writeLines(lines, sizes.scan);
    const random = path.join(dir, "random.bin");
    writeSparse(random, sizes.random);
    const sync = path.join(dir, "sync.bin");
    writeSparse(sync, sizes.sync);
    return { dir, small, lines, lineCount, random, sync };
  } catch (error) {
    removeData(dir);
    throw error;
  }
}

/** Removes a run's temp dir and everything in it. */
export function removeData(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
