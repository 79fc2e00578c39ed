// A bloom filter whose bits live in mapped memory: in a file, so it outlives the process, and
// in POSIX shared memory, so processes can add to one filter and ask it questions.
// Run: deno run --allow-ffi --allow-read --allow-write --allow-env examples/bloom.ts
//  or: bun run examples/bloom.ts
//  or: node --disable-warning=ExperimentalWarning examples/bloom.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import mmap from "../mod.ts";

/**
 * A bloom filter over any `Uint8Array` whose length is a multiple of 4: `add()` sets `hashes`
 * bits per key (with `Atomics.or`, so processes sharing the bytes never lose each other's
 * bits) and `has()` answers "maybe" (true) or "certainly not" (false). `has()` only reads, so
 * a read-only mapping of a finished filter is enough to query it.
 */
export class BloomFilter {
  readonly #words: Int32Array;
  readonly #bits: number;
  readonly #hashes: number;

  /** Uses `bytes` as the filter's bits; `hashes` bits are set per key. */
  constructor(bytes: Uint8Array, hashes: number) {
    if (bytes.byteLength % 4 !== 0 || bytes.byteLength === 0) {
      throw new RangeError("BloomFilter: the byte length must be a positive multiple of 4");
    }
    this.#words = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    this.#bits = bytes.byteLength * 8;
    this.#hashes = hashes;
  }

  /** The number of bytes a filter for `items` keys with false-positive rate `rate` needs. */
  static bytesFor(items: number, rate: number): number {
    const bits = Math.ceil(-items * Math.log(rate) / (Math.LN2 * Math.LN2));
    return Math.ceil(bits / 32) * 4;
  }

  /** The best number of hashes for that many keys and bytes. */
  static hashesFor(items: number, bytes: number): number {
    return Math.max(1, Math.round((bytes * 8 / items) * Math.LN2));
  }

  /** Adds a key. */
  add(key: string): void {
    for (const bit of this.#positions(key)) {
      Atomics.or(this.#words, bit >>> 5, 1 << (bit & 31));
    }
  }

  /** False if the key was certainly never added; true if it probably was. */
  has(key: string): boolean {
    for (const bit of this.#positions(key)) {
      // A plain read, not Atomics.load: Bun's JIT compiles Atomics.load to a locked write,
      // which kills the process on a read-only mapping. Bits only ever go from 0 to 1.
      if ((this.#words[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** The key's bit positions, by double hashing two 32-bit FNV-1a variants. */
  *#positions(key: string): Generator<number> {
    let first = 0x811c9dc5;
    let second = 0x01000193;
    for (let index = 0; index < key.length; index++) {
      const code = key.charCodeAt(index);
      first = Math.imul(first ^ code, 0x01000193);
      second = Math.imul(second ^ code, 0x5bd1e995) ^ (second >>> 15);
    }
    const step = (second | 1) >>> 0;
    for (let hash = 0; hash < this.#hashes; hash++) {
      yield ((first >>> 0) + hash * step) % this.#bits;
    }
  }
}

/** Adds `keys` to a filter and counts how many absent keys it mistakes for present. */
function exercise(filter: BloomFilter, keys: string[], absent: string[]): string {
  const missed = keys.filter((key) => !filter.has(key)).length;
  const wrong = absent.filter((key) => filter.has(key)).length;
  return `${keys.length} keys present (missed ${missed}), ` +
    `${wrong} of ${absent.length} absent keys taken for present ` +
    `(${(wrong / absent.length * 100).toFixed(2)}%)`;
}

if (import.meta.main) {
  const items = 10_000;
  const rate = 0.01;
  const bytes = BloomFilter.bytesFor(items, rate);
  const hashes = BloomFilter.hashesFor(items, bytes);
  const keys = Array.from({ length: items }, (_, index) => `user-${index}@example.com`);
  const absent = Array.from({ length: items }, (_, index) => `nobody-${index}@example.org`);
  const RW = mmap.PROT_READ | mmap.PROT_WRITE;
  console.log(`a filter for ${items} keys at ${rate * 100}%: ${bytes} bytes, ${hashes} hashes`);

  // 1. In a file: the filter is built once, and a later mapping (or process) just uses it.
  const file = path.join(os.tmpdir(), `mmap-bloom-${process.pid}.bin`);
  try {
    const writing = mmap(bytes, RW, mmap.MAP_SHARED, file); // creates the file, zero-filled
    const built = new BloomFilter(writing, hashes);
    for (const key of keys) built.add(key);
    writing.sync();
    writing.unmap();

    const reading = mmap(0, RW, mmap.MAP_SHARED, file); // maps the file as it is
    console.log(`file ${file}: ${exercise(new BloomFilter(reading, hashes), keys, absent)}`);
    reading.unmap();
  } finally {
    fs.rmSync(file, { force: true });
  }

  // 2. In shared memory: two mappings of one name, as two processes would have.
  const name = `/mmap-bloom-${process.pid}`;
  const writer = mmap.map_shm(bytes, RW, mmap.MAP_SHARED, name);
  try {
    const reader = mmap.map_shm(bytes, RW, mmap.MAP_SHARED, name);
    new BloomFilter(writer, hashes).add("added through the first mapping");
    const seen = new BloomFilter(reader, hashes).has("added through the first mapping");
    for (const key of keys) new BloomFilter(writer, hashes).add(key);
    console.log(
      `shm ${name}: the second mapping sees the first's key: ${seen}; ` +
        exercise(new BloomFilter(reader, hashes), keys, absent),
    );
    reader.unmap();
  } finally {
    writer.unlink();
    writer.unmap();
  }
}
