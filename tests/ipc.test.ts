// examples/ipc.ts: a ring buffer in shared memory carries every message once, in order, between
// a Deno and a Bun process.
import assert from "node:assert/strict";
import * as path from "node:path";
import mmap from "../mod.ts";
import { CAPACITY, messageText, Ring, RING_BYTES } from "../examples/ipc.ts";
import { root, runScript, runtime, shmName, test } from "./harness.ts";

const script = path.join(root, "examples", "ipc.ts");

function runIpc(args: string[]) {
  // The parent starts the other runtimes, so it may run processes.
  return runScript(runtime, script, args, { run: true });
}

for (const producer of ["deno", "bun"] as const) {
  const consumer = producer === "deno" ? "bun" : "deno";
  test(`ipc.ts: 100,000 messages from ${producer} to ${consumer} arrive once each, in order`, () => {
    const result = runIpc(["100000", "--producer", producer]);
    assert.equal(result.status, 0, result.stderr);
    const consumed = /^consumer: (.*)$/m.exec(result.stdout)?.[1];
    assert.ok(consumed, result.stdout);
    const report = JSON.parse(consumed);
    assert.equal(report.runtime.toLowerCase(), consumer);
    assert.equal(report.received, 100_000);
    assert.equal(report.last, "message 99999");
  });
}

test("Ring: messages that straddle the end of the ring come out whole", () => {
  const name = shmName("ring");
  const bytes = mmap.map_shm(RING_BYTES, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, name);
  try {
    const producer = new Ring(bytes);
    const consumer = new Ring(bytes);
    const encoder = new TextEncoder();
    const big = (index: number) => messageText(index) + "#".repeat(CAPACITY / 3);
    // Each message is a third of the ring, so every third or so wraps around its end.
    for (let index = 0; index < 20; index++) {
      producer.send(encoder.encode(big(index)));
      assert.equal(new TextDecoder().decode(consumer.receive()), big(index));
    }
  } finally {
    bytes.unlink();
    bytes.unmap();
  }
});
