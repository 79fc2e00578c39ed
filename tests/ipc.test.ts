// examples/ipc.ts: a ring buffer in shared memory carries every message once, in order, between
// processes of any two runtimes. Each test runner runs the pairs whose producer is its own
// runtime, so `deno test`, `bun test` and `node --test` together cover every ordered pair.
import assert from "node:assert/strict";
import * as path from "node:path";
import mmap from "../mod.ts";
import { CAPACITY, messageText, parseArguments, Ring, RING_BYTES } from "../examples/ipc.ts";
import { otherRuntimes, root, runScript, runtime, shmName, test } from "./harness.ts";
import { RUNTIME_NAMES, runtimes } from "./support/runtimes.ts";

const script = path.join(root, "examples", "ipc.ts");

function runIpc(args: string[]) {
  // The parent starts the other runtimes, so it may run processes.
  return runScript(runtime, script, args, { run: true });
}

/** The runtime after this one in the table, wrapping round: ipc.ts's default consumer. */
const next =
  runtimes[RUNTIME_NAMES[(RUNTIME_NAMES.indexOf(runtime.name) + 1) % RUNTIME_NAMES.length]];

for (const consumer of otherRuntimes) {
  const title = `ipc.ts: 100,000 messages from ${runtime.name} to ${consumer.name} arrive once ` +
    "each, in order";
  test(title, () => {
    // The default pair (this runtime to the next) is asked for with no options at all.
    const options = consumer === next
      ? []
      : ["--producer", runtime.name, "--consumer", consumer.name];
    const result = runIpc(["100000", ...options]);
    assert.equal(result.status, 0, result.stderr);
    const report = (side: string) => {
      const line = new RegExp(`^${side}: (.*)$`, "m").exec(result.stdout)?.[1];
      assert.ok(line, result.stdout);
      return JSON.parse(line);
    };
    const produced = report("producer");
    const consumed = report("consumer");
    assert.equal(produced.runtime, runtime.title);
    assert.equal(produced.sent, 100_000);
    assert.equal(consumed.runtime, consumer.title);
    assert.equal(consumed.received, 100_000);
    assert.equal(consumed.last, "message 99999");
  }, 60_000);
}

test("ipc.ts: the producer is this runtime and the consumer the next one unless told", () => {
  assert.deepEqual(parseArguments([]), { count: 100_000, producer: runtime, consumer: next });
  const named = parseArguments(["--consumer", "node", "7", "--producer", "bun"]);
  assert.deepEqual(named, { count: 7, producer: runtimes.bun, consumer: runtimes.node });
  // Without a consumer, it is the runtime after the producer (node wraps round to deno).
  assert.equal(parseArguments(["--producer", "node"]).consumer, runtimes.deno);
  assert.equal(parseArguments(["--producer", "deno"]).consumer, runtimes.bun);
});

test("ipc.ts: an unknown runtime or option is refused with a clear error, before any process", () => {
  assert.throws(
    () => parseArguments(["--producer", "java"]),
    /unknown runtime "java": use deno, bun, node/,
  );
  assert.throws(() => parseArguments(["--consumer"]), /--consumer takes a runtime/);
  assert.throws(() => parseArguments(["--fast"]), /unknown argument "--fast"/);
  const result = runIpc(["10", "--consumer", "java"]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /ipc\.ts: unknown runtime "java": use deno, bun, node/);
  assert.match(result.stderr, /usage: ipc\.ts \[COUNT\] \[--producer deno\|bun\|node\]/);
  assert.equal(result.stdout, "");
});

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
