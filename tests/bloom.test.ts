// examples/bloom.ts: the filter keeps its keys in a file and shares them through map_shm.
import assert from "node:assert/strict";
import mmap from "../mod.ts";
import { BloomFilter } from "../examples/bloom.ts";
import { otherRuntimes, remove, runFixture, shmName, tempPath, test } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const keys = Array.from({ length: 2_000 }, (_, index) => `key-${index}`);
const absent = Array.from({ length: 2_000 }, (_, index) => `absent-${index}`);
const bytes = BloomFilter.bytesFor(keys.length, 0.01);
const hashes = BloomFilter.hashesFor(keys.length, bytes);

test("a bloom filter built in a file answers from a later mapping of it", () => {
  const file = tempPath("bloom");
  try {
    const building = mmap(bytes, RW, mmap.MAP_SHARED, file);
    const built = new BloomFilter(building, hashes);
    for (const key of keys) built.add(key);
    building.unmap();

    const reading = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
    const filter = new BloomFilter(reading, hashes);
    assert.deepEqual(keys.filter((key) => !filter.has(key)), [], "no key is lost");
    const wrong = absent.filter((key) => filter.has(key)).length;
    assert.ok(wrong < absent.length * 0.05, `${wrong} false positives at a 1% design rate`);
    reading.unmap();
  } finally {
    remove(file);
  }
});

for (const otherRuntime of otherRuntimes) {
  test(`a bloom filter in map_shm holds keys a ${otherRuntime.title} process added`, () => {
    const name = shmName("bloom");
    const shared = mmap.map_shm(bytes, RW, mmap.MAP_SHARED, name);
    try {
      const filter = new BloomFilter(shared, hashes);
      assert.equal(filter.has("from the other process"), false);
      const result = runFixture(otherRuntime, "bloom_peer.ts", [
        name,
        String(bytes),
        String(hashes),
        "from the other process",
        "and another",
      ]);
      assert.equal(result.status, 0, result.stderr);
      assert.ok(filter.has("from the other process"));
      assert.ok(filter.has("and another"));
    } finally {
      shared.unlink();
      shared.unmap();
    }
  });
}
