/**
 * The demo's own data: a text file of numbered lines of words, created sparse at its full
 * size and then filled through a shared mapping, a block at a time.
 *
 * @module
 */
import { mapForWriting } from "./maps.ts";
import { formatCount, progress } from "./terminal.ts";

const WORDS = (
  "memory map page file shared buffer kernel fault cache process thread atomic counter " +
  "bytes offset window deno bun rust line text random lookup fast zero copy sync unmap " +
  "the a of and to in is it that for on with as at by from"
).split(" ");

/** Bytes per block; the file is a whole number of blocks, each ending with a newline. */
export const BLOCK_BYTES = 4 << 20;
/** Distinct blocks of words; the file repeats them in a shuffled order with fresh numbers. */
const DISTINCT_BLOCKS = 8;
/** Each line starts with its number in this many digits and a space. */
const NUMBER_DIGITS = 10;
/** The longest line of words (14 words of up to 7 letters, spaces, the number, a newline). */
const MAX_LINE = NUMBER_DIGITS + 14 * 8 + 1;

/** A deterministic pseudo-random generator (mulberry32) returning numbers in [0, 1). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Block {
  bytes: Uint8Array;
  /** Where each line starts in the block. */
  lineStarts: number[];
}

function makeBlock(next: () => number): Block {
  const encoder = new TextEncoder();
  const bytes = new Uint8Array(BLOCK_BYTES);
  const lineStarts: number[] = [];
  let at = 0;
  while (at < BLOCK_BYTES) {
    const words = 3 + Math.floor(next() * 12);
    let line = "0".repeat(NUMBER_DIGITS);
    for (let word = 0; word < words; word++) {
      line += " " + WORDS[Math.floor(next() * WORDS.length)];
    }
    const rest = BLOCK_BYTES - at;
    // The last line takes up what is left of the block, so the block ends with a newline.
    line = rest - line.length - 1 < 2 * MAX_LINE ? line.padEnd(rest - 1) + "\n" : line + "\n";
    lineStarts.push(at);
    encoder.encodeInto(line, bytes.subarray(at));
    at += line.length;
  }
  return { bytes, lineStarts };
}

function writeNumber(target: Uint8Array, at: number, value: number): void {
  let rest = value;
  for (let digit = NUMBER_DIGITS - 1; digit >= 0; digit--) {
    target[at + digit] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

/**
 * Writes `size` bytes (rounded down to whole blocks, at least one) of numbered text lines to
 * `path` through a mapping, showing progress, and returns the number of lines.
 */
export async function generateLines(path: string, size: number): Promise<number> {
  const blocks = Math.max(1, Math.floor(size / BLOCK_BYTES));
  const next = random(0x5eed);
  const patterns = Array.from({ length: DISTINCT_BLOCKS }, () => makeBlock(next));
  const file = mapForWriting(path, blocks * BLOCK_BYTES);
  const bar = progress("writing text through a mapping", blocks);
  let lines = 0;
  try {
    for (let block = 0; block < blocks; block++) {
      const pattern = patterns[Math.floor(next() * DISTINCT_BLOCKS)];
      const start = block * BLOCK_BYTES;
      file.set(pattern.bytes, start);
      for (const lineStart of pattern.lineStarts) {
        lines += 1;
        writeNumber(file, start + lineStart, lines);
      }
      bar.update(block + 1);
      if (block % 4 === 3) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    file.unmap();
  }
  bar.finish(`${formatCount(lines)} lines`);
  return lines;
}
