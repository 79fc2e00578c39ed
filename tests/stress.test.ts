// Stress: many map/touch/unmap cycles, six processes (two of each runtime) on one counter, and
// Workers sharing mappings by name or receiving a mapped buffer.
// MMAP_STRESS_CYCLES sets the cycle count (deno task soak runs more).
import assert from "node:assert/strict";
import process from "node:process";
import mmap, { anonymous, immutableBuffers, MmapError, open, shm } from "../mod.ts";
import { pattern, REGION } from "./fixtures/counter.ts";
import type { Request } from "./fixtures/worker.ts";
import {
  collectGarbage,
  fdCount,
  heldCount,
  mappedCount,
  mappingCount,
  mappingsOf,
  remove,
  root,
  rssBytes,
  runSource,
  runtime,
  shmName,
  startFixture,
  tempFile,
  test,
} from "./harness.ts";
import { RUNTIME_NAMES, runtimes } from "./support/runtimes.ts";
import { startWorker as startTestWorker, type TestWorker } from "./support/workers.ts";

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const CYCLES = Number(process.env.MMAP_STRESS_CYCLES ?? 100_000);
const ADDS = Number(process.env.MMAP_STRESS_ADDS ?? 1_000_000);

test(
  `${
    CYCLES.toLocaleString("en")
  } map/touch/unmap cycles (file, open, anonymous, shm) leave nothing behind`,
  async () => {
    const file = tempFile("stress", new Uint8Array(16 * 1024));
    const name = shmName("stress");
    const kinds = [
      () => mmap(0, RW, mmap.MAP_SHARED, file),
      () => open(file, { mode: "rw", offset: 100, length: 8000 }),
      () => anonymous(8192),
      () => shm.open(name, 8192),
    ];
    const cycle = (i: number) => {
      const mapping = kinds[i % kinds.length]();
      mapping[mapping.length - 1] += 1;
      mapping.unmap();
    };
    try {
      for (let i = 0; i < 1000; i++) cycle(i); // warm up the runtime's own allocations
      const maps = mappingCount();
      const fds = fdCount();
      const mapped = mappedCount();
      const held = heldCount();
      const started = performance.now();
      // In two halves: the runtime's heap grows in the first (Node's by some 80 MiB, for the
      // work its release hooks queue) and levels off; a leak would grow in both.
      const half = Math.ceil(CYCLES / 2);
      for (let i = 0; i < half; i++) cycle(i);
      await collectGarbage();
      const rss = rssBytes();
      for (let i = half; i < CYCLES; i++) cycle(i);
      const seconds = (performance.now() - started) / 1000;
      assert.equal(mappingsOf(file), 0);
      assert.equal(fdCount(), fds);
      // At most: a collection may free earlier tests' dropped buffers meanwhile.
      assert.ok(mappedCount() <= mapped);
      // The address ranges go back once the runtime lets go of the buffers (Node: collected);
      // the runtime's heap may add a few hundred mappings of its own, a leak would add 100,000.
      await collectGarbage();
      const growth = rssBytes() - rss;
      console.log(
        `${runtime.name}: ${CYCLES} cycles in ${seconds.toFixed(2)} s ` +
          `(${(seconds * 1e6 / CYCLES).toFixed(1)} µs each); ` +
          `RSS ${(growth / 2 ** 20).toFixed(1)} MiB more over the second half`,
      );
      assert.ok(heldCount() <= held, `held ranges ${held} -> ${heldCount()}`);
      assert.ok(mappingCount() <= maps + 1000, `mappings ${maps} -> ${mappingCount()}`);
      assert.ok(growth < 48 * 2 ** 20, `RSS grew by ${growth} bytes over the second half`);
    } finally {
      remove(file);
      shm.unlink(name);
    }
  },
  3600_000,
);

test(
  `two processes of each runtime add ${ADDS.toLocaleString("en")} each to one counter`,
  async () => {
    const order = [...RUNTIME_NAMES, ...RUNTIME_NAMES];
    const processes = order.length;
    const name = shmName("counter");
    const region = shm.open(name, REGION * (processes + 1), { exclusive: true });
    try {
      const children = order.map((which, index) =>
        startFixture(runtimes[which], "counter.ts", [
          name,
          String(index),
          String(processes),
          String(ADDS),
          index < RUNTIME_NAMES.length ? "modern" : "node",
        ])
      );
      const results = await Promise.all(children.map((child) => child.done));
      const reports = results.map((result) => {
        assert.equal(result.status, 0, result.stderr + result.stdout);
        return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      });
      console.log(`counter: ${JSON.stringify(reports)}`);
      const counter = new Int32Array(region.buffer, 0, 4);
      assert.equal(Atomics.load(counter, 0), processes * ADDS);
      assert.deepEqual(reports.map((report) => report.runtime), order);
      assert.deepEqual(reports.map((report) => report.wrong), order.map(() => 0));
      for (let p = 0; p < processes; p++) {
        const bytes = region.subarray(REGION * (p + 1), REGION * (p + 2));
        assert.ok(bytes.every((byte, i) => byte === pattern(p, i)), `region ${p}`);
      }
    } finally {
      region.unlink();
      region.unmap();
    }
  },
  3600_000,
);

/** Starts tests/fixtures/worker.ts and resolves once it is ready for messages. */
async function startWorker(): Promise<TestWorker> {
  const worker = startTestWorker(new URL("./fixtures/worker.ts", import.meta.url));
  await worker.next(); // { ready: true }
  return worker;
}

function ask<T>(worker: TestWorker, request: Request, transfer: Transferable[] = []): Promise<T> {
  const reply = worker.next() as Promise<T>;
  worker.postMessage(request, transfer);
  return reply;
}

for (const kind of ["file", "shm"] as const) {
  test(`a Worker opens the same ${kind} by name and both sides see each other's writes`, async () => {
    const target = kind === "file" ? tempFile("worker", new Uint8Array(4096)) : shmName("worker");
    const mapping = kind === "file" ? open(target, { mode: "rw" }) : shm.open(target, 4096);
    const worker = await startWorker();
    try {
      mapping.set(new TextEncoder().encode("written by the main"), 8);
      const counter = new Int32Array(mapping.buffer, 0, 1);
      const adds = 100_000;
      const reply = ask<{ seen: string }>(worker, { kind, path: target, adds });
      for (let i = 0; i < adds; i++) Atomics.add(counter, 0, 1);
      assert.equal((await reply).seen, "written by the main");
      assert.equal(new TextDecoder().decode(mapping.subarray(64, 85)), "written by the worker");
      assert.equal(Atomics.load(counter, 0), 2 * adds);
    } finally {
      worker.terminate();
      mapping.unmap();
      if (kind === "file") remove(target);
      else shm.unlink(target);
    }
  });
}

test("a Worker's mappings are all let go when it stops, its file too", async () => {
  const file = tempFile("worker-keep", new Uint8Array(8192));
  const held = heldCount();
  const worker = await startWorker();
  try {
    const reply = await ask<{ kept: number }>(worker, { kind: "keep", path: file, count: 100 });
    assert.equal(reply.kept, 200);
    assert.ok(mappingsOf(file) >= 100, "the Worker's mappings are in this process");
  } finally {
    worker.terminate();
  }
  // The runtime lets go of the stopped Worker's buffers (Node: without their finalizers, so the
  // library unmaps them when the Worker's environment ends).
  for (let round = 0; round < 50 && (heldCount() > held || mappingsOf(file) > 0); round++) {
    await collectGarbage();
  }
  assert.equal(mappingsOf(file), 0, "no mapping of the file is left");
  assert.ok(heldCount() <= held, `held ranges ${held} -> ${heldCount()}`);
  remove(file);
});

test("a mapped buffer transferred to a Worker: unmap() on the original refuses", async () => {
  const mapping = anonymous(64 * 1024);
  mapping.fill(7);
  const worker = await startWorker();
  try {
    const buffer = mapping.buffer as ArrayBuffer;
    if (!runtime.transfersForeignBuffers) {
      const request: Request = { kind: "buffer", buffer, fill: 9, millis: 50 };
      assert.throws(() => worker.postMessage(request, [buffer]), { name: "DataCloneError" });
      assert.equal(mapping[64 * 1024 - 1], 7, "the refused transfer left the mapping as it was");
      assert.equal(mapping.unmap(), true);
      return;
    }
    const reply = ask<{ seen: number; length: number }>(
      worker,
      { kind: "buffer", buffer, fill: 9, millis: 50 },
      [buffer],
    );
    assert.equal(mapping.length, 0, "the original's views are detached");
    assert.throws(() => mapping.unmap(), (error: unknown) => {
      assert.ok(error instanceof MmapError);
      assert.equal(error.code, "ERR_MMAP_DETACHED");
      return true;
    });
    assert.equal(mapping.unmap(), false, "a second call: nothing left to do");
    const { seen, length } = await reply;
    assert.deepEqual([seen, length], [7, 64 * 1024], "the Worker reads the memory");
  } finally {
    worker.terminate();
  }
});

/** The start of a child script: the library's `anonymous`, `gc()` and `startWorker`. */
const CHILD_PRELUDE = `
import { anonymous } from ${JSON.stringify(`${root}/mod.ts`)};
import { forceGc as gc } from ${JSON.stringify(`${root}/tests/support/runtimes.ts`)};
import { startWorker } from ${JSON.stringify(`${root}/tests/support/workers.ts`)};
`;

/** The Worker fixture's URL, as a literal for a child script. */
const WORKER_URL = JSON.stringify(new URL("./fixtures/worker.ts", import.meta.url).href);

/** Runs a child under this runtime and returns what it printed; a crash fails the test. */
function runChild(source: string): Record<string, number> {
  const result = runSource(runtime, source);
  assert.equal(result.signal, null, `${runtime.name} died of ${result.signal}: ${result.stderr}`);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim());
}

// The memory a Worker received must outlive the dropped and collected original (an earlier
// Deno finalizer unmapped it under the Worker: SIGSEGV). Run in a child so a crash fails the
// test, not the suite.
test("a mapped buffer transferred to a Worker and then dropped is never unmapped under it", () => {
  if (!runtime.transfersForeignBuffers) return; // refused: see the test above
  const report = runChild(`${CHILD_PRELUDE}
const worker = startWorker(${WORKER_URL});
await worker.next(); // { ready: true }
const reply = worker.next() as Promise<{ touched: number; last: number }>;
(() => {
  const mapping = anonymous(1 << 20);
  mapping.fill(3);
  const buffer = mapping.buffer;
  worker.postMessage({ kind: "buffer", buffer, fill: 5, millis: 1500 }, [buffer]);
})();
// Drop the original, collect it, and map more so the freed range would be reused.
const others = [];
for (let round = 0; round < 10; round++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 30));
  others.push(anonymous(1 << 20));
}
const { touched, last } = await reply;
console.log(JSON.stringify({ touched, last }));
others.forEach((mapping) => mapping.unmap());
worker.terminate();
`);
  assert.ok(report.touched > 1);
  assert.equal(report.last, 3);
}, 3600_000);

/**
 * A child that maps 1 MiB of 3s, keeps only an `Int32Array` over its buffer, lets the collector
 * take the `Mapping` itself, then runs `moveAndRead` (which moves the buffer elsewhere, drops the
 * original and reads the memory through its new owner) and prints what that returns.
 */
function afterTheMappingIsCollected(moveAndRead: string): string {
  return `${CHILD_PRELUDE}const settle = async () => {
  for (let round = 0; round < 5; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
const held: { view: Int32Array | null } = { view: null };
(() => {
  const mapping = anonymous(1 << 20);
  mapping.fill(3);
  held.view = new Int32Array(mapping.buffer);
})();
await settle(); // the Mapping is gone; the view alone holds its buffer
const take = (): ArrayBuffer => {
  const buffer = held.view!.buffer as ArrayBuffer;
  held.view = null;
  return buffer;
};
/** Reads the first byte of every page (a freed page would fault) and sums them. */
const readPages = (bytes: Uint8Array) => {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 4096) sum += bytes[i];
  return { sum, length: bytes.length };
};
console.log(JSON.stringify(await (async () => { ${moveAndRead} })()));
`;
}

// The collected original of a buffer moved by structuredClone or postMessage must not free the
// memory under its new owner (an earlier Deno finalizer did: SIGSEGV).
test("a buffer moved by structuredClone after its Mapping was collected stays mapped", () => {
  if (!runtime.transfersForeignBuffers) return; // refused: see transfer.test.ts
  const report = runChild(afterTheMappingIsCollected(`
    const copy = (() => {
      const buffer = take();
      return new Uint8Array(structuredClone(buffer, { transfer: [buffer] }));
    })();
    await settle(); // the detached original is collected
    return readPages(copy);
  `));
  assert.deepEqual(report, { sum: 256 * 3, length: 1 << 20 });
}, 3600_000);

test("a buffer moved by transfer() after its Mapping was collected stays mapped", () => {
  const report = runChild(afterTheMappingIsCollected(`
    const moved = new Uint8Array(take().transfer());
    await settle(); // the detached original is collected
    return readPages(moved);
  `));
  assert.deepEqual(report, { sum: 256 * 3, length: 1 << 20 });
}, 3600_000);

test("a buffer posted to a Worker after its Mapping was collected stays mapped", () => {
  if (!runtime.transfersForeignBuffers) return; // refused: see the tests above
  const report = runChild(afterTheMappingIsCollected(`
    const worker = startWorker(${WORKER_URL});
    await worker.next(); // { ready: true }
    const reply = worker.next() as Promise<{ seen: number; last: number }>;
    (() => {
      const buffer = take();
      worker.postMessage({ kind: "buffer", buffer, fill: 5, millis: 500 }, [buffer]);
    })();
    await settle(); // the detached original is collected while the Worker writes
    const { seen, last } = await reply;
    worker.terminate();
    return { seen, last };
  `));
  assert.deepEqual(report, { seen: 3, last: 3 });
}, 3600_000);

test("a buffer made immutable after its Mapping was collected stays mapped", () => {
  if (!immutableBuffers) return;
  const report = runChild(afterTheMappingIsCollected(`
    type Freezable = ArrayBuffer & { transferToImmutable(): ArrayBuffer };
    const frozen = new Uint8Array((take() as Freezable).transferToImmutable());
    await settle(); // the detached original is collected
    return readPages(frozen);
  `));
  assert.deepEqual(report, { sum: 256 * 3, length: 1 << 20 });
}, 3600_000);
