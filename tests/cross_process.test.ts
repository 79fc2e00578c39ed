// A process of each other runtime sees this one's writes, and this one sees its replies.
import assert from "node:assert/strict";
import mmap from "../mod.ts";
import { otherRuntimes, remove, runFixture, shmName, tempFile, test } from "./harness.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

for (const otherRuntime of otherRuntimes) {
  test(`a ${otherRuntime.title} process shares memory through map_shm`, () => {
    const name = shmName("peer");
    const buffer = mmap.map_shm(8192, RW, mmap.MAP_SHARED, name);
    try {
      buffer.set(encode("ping from the parent"));
      const result = runFixture(otherRuntime, "peer.ts", ["shm", name, "20", "pong via shm"]);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        seen: "ping from the parent",
        runtime: otherRuntime.name,
      });
      assert.equal(decode(buffer.subarray(1024, 1036)), "pong via shm");
    } finally {
      buffer.unlink();
      buffer.unmap();
    }
  });

  test(`a ${otherRuntime.title} process shares a MAP_SHARED file`, () => {
    const file = tempFile("peer", new Uint8Array(8192));
    const buffer = mmap(0, RW, mmap.MAP_SHARED, file);
    try {
      buffer.set(encode("ping via a file"));
      const result = runFixture(otherRuntime, "peer.ts", ["file", file, "15", "pong via file"]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).seen, "ping via a file");
      assert.equal(decode(buffer.subarray(1024, 1037)), "pong via file");
    } finally {
      buffer.unmap();
      remove(file);
    }
  });
}
