/**
 * Random lookups: the line around each of many random offsets, read once through one mapping
 * of the file and once with a `read()` (pread) per lookup, with the same search on both, so
 * the answers can be compared.
 *
 * @module
 */
import * as fs from "node:fs";
import { mapFile, MAX_WINDOW } from "./maps.ts";
import { random } from "./data.ts";
import { progress } from "./terminal.ts";

/** Bytes read around each offset: the line is looked for within this span. */
const SPAN = 4096;
const BATCH = 10_000;

/** The result of one way of looking up lines. */
export interface LookupRun {
  seconds: number;
  /** A checksum of every line found: equal checksums, equal answers. */
  checksum: number;
  /** The line around the first offset. */
  sample: string;
}

/** The bounds of the line holding `at` within `bytes` (without its newline). */
function lineAround(bytes: Uint8Array, at: number): [number, number] {
  const start = at === 0 ? 0 : bytes.lastIndexOf(10, at - 1) + 1;
  const newline = bytes.indexOf(10, at);
  return [start, newline === -1 ? bytes.length : newline];
}

function checksumOf(bytes: Uint8Array, start: number, end: number): number {
  return (end - start) * 31 + (end > start ? bytes[start] + bytes[end - 1] : 0);
}

/** The offsets to look up: `count` random offsets below `limit`, the same on every run. */
export function randomOffsets(count: number, limit: number): Float64Array {
  const next = random(42);
  return Float64Array.from({ length: count }, () => Math.floor(next() * limit));
}

async function timed(
  label: string,
  offsets: Float64Array,
  lookup: (offset: number) => [Uint8Array, number, number],
): Promise<LookupRun> {
  const bar = progress(label, offsets.length);
  const decoder = new TextDecoder();
  let checksum = 0;
  let sample = "";
  let seconds = 0;
  for (let from = 0; from < offsets.length; from += BATCH) {
    const started = performance.now();
    const to = Math.min(offsets.length, from + BATCH);
    for (let index = from; index < to; index++) {
      const [bytes, start, end] = lookup(offsets[index]);
      checksum = (checksum + checksumOf(bytes, start, end)) % 0x7fffffff;
      if (index === 0) sample = decoder.decode(bytes.subarray(start, end));
    }
    seconds += (performance.now() - started) / 1000;
    bar.update(to);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  bar.finish();
  return { seconds, checksum, sample };
}

/** Looks up the lines around `count` random offsets of the file both ways. */
export async function lookUpLines(
  path: string,
  count: number,
): Promise<{ mapped: LookupRun; pread: LookupRun; span: number }> {
  const span = Math.min(fs.statSync(path).size, MAX_WINDOW * 4 - SPAN);
  const offsets = randomOffsets(count, span);
  const window = (offset: number): [number, number] => [
    Math.max(0, offset - SPAN / 2),
    Math.min(span, offset + SPAN / 2),
  ];

  const file = mapFile(path, span);
  let mapped: LookupRun;
  try {
    mapped = await timed("lookups through the mapping", offsets, (offset) => {
      const [from, to] = window(offset);
      const bytes = file.subarray(from, to);
      return [bytes, ...lineAround(bytes, offset - from)];
    });
  } finally {
    file.unmap();
  }

  const fd = fs.openSync(path, "r");
  const buffer = new Uint8Array(SPAN);
  let pread: LookupRun;
  try {
    pread = await timed("lookups with a read() each", offsets, (offset) => {
      const [from, to] = window(offset);
      const got = fs.readSync(fd, buffer, 0, to - from, from);
      const bytes = buffer.subarray(0, got);
      return [bytes, ...lineAround(bytes, offset - from)];
    });
  } finally {
    fs.closeSync(fd);
  }
  return { mapped, pread, span };
}
