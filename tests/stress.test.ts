// Stress: many map/touch/unmap cycles, four processes (two Deno, two Bun) on one counter, and
// Workers sharing mappings by name or receiving a mapped buffer.
// MMAP_STRESS_CYCLES sets the cycle count (deno task soak runs more).
import assert from "node:assert/strict";
import process from "node:process";
import mmap, { anonymous, immutableBuffers, MmapError, open, shm } from "../mod.ts";
import { native } from "../bindings/load.ts";
import { pattern, REGION } from "./fixtures/counter.ts";
import type { Request } from "./fixtures/worker.ts";
import {
  fdCount,
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

const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const CYCLES = Number(process.env.MMAP_STRESS_CYCLES ?? 100_000);
const ADDS = Number(process.env.MMAP_STRESS_ADDS ?? 1_000_000);

test(
  `${
    CYCLES.toLocaleString("en")
  } map/touch/unmap cycles (file, open, anonymous, shm) leave nothing behind`,
  () => {
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
      const rss = rssBytes();
      const live = native.symbols.mmap_ffi_live_count();
      const started = performance.now();
      for (let i = 0; i < CYCLES; i++) cycle(i);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${runtime}: ${CYCLES} cycles in ${seconds.toFixed(2)} s ` +
          `(${(seconds * 1e6 / CYCLES).toFixed(1)} µs each); ` +
          `RSS ${((rssBytes() - rss) / 2 ** 20).toFixed(1)} MiB more`,
      );
      assert.equal(mappingsOf(file), 0);
      assert.ok(mappingCount() <= maps + 100, `mappings ${maps} -> ${mappingCount()}`);
      assert.equal(fdCount(), fds);
      // At most: a collection may free earlier tests' dropped buffers meanwhile.
      assert.ok(native.symbols.mmap_ffi_live_count() <= live);
      const growth = rssBytes() - rss;
      assert.ok(growth < 48 * 2 ** 20, `RSS grew by ${growth} bytes`);
    } finally {
      remove(file);
      shm.unlink(name);
    }
  },
  3600_000,
);

test(
  `two Deno and two Bun processes add ${ADDS.toLocaleString("en")} each to one counter`,
  async () => {
    const processes = 4;
    const name = shmName("counter");
    const region = shm.open(name, REGION * (processes + 1), { exclusive: true });
    try {
      const runtimes = ["deno", "bun", "deno", "bun"] as const;
      const children = runtimes.map((which, index) =>
        startFixture(which, "counter.ts", [
          name,
          String(index),
          String(processes),
          String(ADDS),
          index < 2 ? "modern" : "node",
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
      assert.deepEqual(reports.map((report) => report.runtime), [...runtimes]);
      assert.deepEqual(reports.map((report) => report.wrong), [0, 0, 0, 0]);
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
function startWorker(): Promise<Worker> {
  const worker = new Worker(new URL("./fixtures/worker.ts", import.meta.url).href, {
    type: "module",
  });
  return new Promise((resolve, reject) => {
    worker.onmessage = () => resolve(worker);
    worker.onerror = (event) => reject(new Error(`worker failed: ${event.message}`));
  });
}

function ask<T>(worker: Worker, request: Request, transfer: Transferable[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as T);
    worker.onerror = (event) => {
      event.preventDefault?.();
      reject(new Error(`worker failed: ${event.message}`));
    };
    worker.postMessage(request, transfer);
  });
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

test("a mapped buffer transferred to a Worker: unmap() on the original refuses", async () => {
  const mapping = anonymous(64 * 1024);
  mapping.fill(7);
  const worker = await startWorker();
  try {
    const buffer = mapping.buffer as ArrayBuffer;
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

/** The start of a child script: the library's `anonymous` and a `gc()` for either runtime. */
const CHILD_PRELUDE = `
import { anonymous } from ${JSON.stringify(`${root}/mod.ts`)};
const gc = () => {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) bun.gc(true);
  else (globalThis as unknown as { gc(): void }).gc();
};
`;

/** The Worker fixture's URL, as a literal for a child script. */
const WORKER_URL = JSON.stringify(new URL("./fixtures/worker.ts", import.meta.url).href);

/** Runs a child under this runtime and returns what it printed; a crash fails the test. */
function runChild(source: string): Record<string, number> {
  const flags = ["--v8-flags=--expose-gc,--js-immutable-arraybuffer"];
  const result = runSource(runtime, source, runtime === "deno" ? flags : []);
  assert.equal(result.signal, null, `${runtime} died of ${result.signal}: ${result.stderr}`);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim());
}

// The memory a Worker received must outlive the dropped and collected original (an earlier
// Deno finalizer unmapped it under the Worker: SIGSEGV). Run in a child so a crash fails the
// test, not the suite.
test("a mapped buffer transferred to a Worker and then dropped is never unmapped under it", () => {
  const report = runChild(`${CHILD_PRELUDE}
const worker = new Worker(${WORKER_URL}, { type: "module" });
await new Promise((resolve) => worker.onmessage = resolve); // { ready: true }
const reply = new Promise<{ touched: number; last: number }>((resolve) => {
  worker.onmessage = (event) => resolve(event.data);
});
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

test("a buffer posted to a Worker after its Mapping was collected stays mapped", () => {
  const report = runChild(afterTheMappingIsCollected(`
    const worker = new Worker(${WORKER_URL}, { type: "module" });
    await new Promise((resolve) => worker.onmessage = resolve); // { ready: true }
    const reply = new Promise<{ seen: number; last: number }>((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
    });
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
