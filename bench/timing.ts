/**
 * The benchmarks' small harness, the same on Deno, Bun and Node: each candidate of a comparison
 * is warmed up, then timed in batches that take turns (A, B, C, A, B, C, ...) so that noise from
 * a busy machine falls on all of them alike; the result is the median nanoseconds per
 * operation. Each batch ends with one turn of the event loop, inside the timing, so what a
 * runtime defers to it (Node runs the library's release of unmapped ranges there) is counted.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** One operation to time; it may return a promise (awaited) or a value (kept alive). */
export type Operation = () => unknown;

/** How long to time. */
export interface TimingOptions {
  /** Batches per candidate; the median of them is reported. */
  batches: number;
  /** About how long one batch runs, in milliseconds. */
  batchMs: number;
  /** How long each candidate runs before timing starts, in milliseconds. */
  warmupMs: number;
}

/** The timing of one candidate. */
export interface Timing {
  /** Median nanoseconds per operation over the batches. */
  ns: number;
  /** Operations per batch. */
  perBatch: number;
  /** Nanoseconds per operation of every batch, in the order they ran. */
  samples: number[];
}

/** Whatever the operations return ends up here, so no engine can skip the work. */
export let sink: unknown = undefined;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Runner {
  /** Runs `count` operations and one turn of the event loop; returns the milliseconds taken. */
  run(count: number): Promise<number>;
}

/**
 * One turn of the event loop, in which the runtime runs what it deferred during the batch (Node:
 * Node-API finalizers, `FinalizationRegistry` callbacks); awaiting a settled promise would only
 * drain the microtasks.
 */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A loop of `count` calls; async operations are awaited one at a time. */
function runner(operation: Operation, isAsync: boolean): Runner {
  if (isAsync) {
    return {
      async run(count: number): Promise<number> {
        const start = performance.now();
        for (let i = 0; i < count; i++) sink = await operation();
        await turn();
        return performance.now() - start;
      },
    };
  }
  return {
    async run(count: number): Promise<number> {
      let last: unknown;
      const start = performance.now();
      for (let i = 0; i < count; i++) last = operation();
      await turn();
      const elapsed = performance.now() - start;
      sink = last;
      return elapsed;
    },
  };
}

/**
 * Times every candidate, their batches taking turns, and returns each one's median ns/op.
 * A candidate that throws makes the whole comparison throw.
 */
export async function compare(
  candidates: Record<string, Operation>,
  options: TimingOptions,
): Promise<Record<string, Timing>> {
  const names = Object.keys(candidates);
  const runners: Record<string, Runner> = {};
  const perBatch: Record<string, number> = {};
  for (const name of names) {
    const operation = candidates[name];
    const first = operation();
    const isAsync = first instanceof Promise;
    if (isAsync) await first;
    const loop = runner(operation, isAsync);
    // Warm up while counting how many operations fit in the warmup time.
    let done = 0, spent = 0;
    let step = 1;
    while (spent < options.warmupMs) {
      spent += await loop.run(step);
      done += step;
      step = Math.min(step * 2, 1 << 16);
    }
    runners[name] = loop;
    perBatch[name] = Math.max(1, Math.round(done * options.batchMs / spent));
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let batch = 0; batch < options.batches; batch++) {
    for (const name of names) {
      const elapsed = await runners[name].run(perBatch[name]);
      samples[name].push(elapsed * 1e6 / perBatch[name]);
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, {
      ns: median(samples[name]),
      perBatch: perBatch[name],
      samples: samples[name],
    }]),
  );
}
